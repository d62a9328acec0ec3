package gle

import (
	"runtime"
	"slices"
	"time"

	"github.com/gle-go/gle/internal/kernel"
	"github.com/gle-go/gle/internal/par"
)

// SetThreads sets the number of threads a network step runs on, for the
// engines and trainers created afterwards (each can change its own with
// SetThreads): n ≤ 0 restores the default, every core the process may
// use (GOMAXPROCS, which follows the CPU affinity and the cgroup quota)
// divided among the jobs of a command that runs several at once. The
// GLE_THREADS environment variable sets it when the process starts.
//
// A step is split into phases — the parameters in the engine's type and
// Wᵀ; every population's Euler step, φ, products and errors sent back by
// blocks of samples; the gradients by blocks of parameters; the
// optimizer's update by blocks of parameters — whose blocks are cut
// where the kernels cut theirs, so each number is computed by the same
// operations in the same order for any thread count: results are
// identical bit for bit (TestThreadsBitIdentical). Networks too small to
// gain (LagLine's) run on one thread whatever the setting.
func SetThreads(n int) { par.SetThreads(n) }

// Threads returns the number of threads new engines run on (the setting
// or the default).
func Threads() int { return par.Threads() }

// Cores returns the number of cores the process may use (GOMAXPROCS).
func Cores() int { return par.Cores() }

// minParallelFlops is the work of a step (≈ flops: the products plus
// the per-neuron arithmetic) below which it stays on one thread: a phase
// costs the helpers' hand-over, ≈ 1 µs. (A variable for the tests.)
var minParallelFlops float64 = 1 << 18

// The kinds of chunks of the parameter and gradient phases.
const (
	chunkProj     = iota // rows lo…hi−1 of a projection's weights
	chunkFeedback        // rows of a projection's feedback weights (float32 copy)
	chunkPop             // neurons lo…hi−1 of a population
)

// chunk is one unit of work of a phase.
type chunk struct {
	kind, idx, lo, hi int
	cost              float64
}

// stepPlan is how a step is split: the chunks of each phase, for the
// engine's batch, gradients and threads.
type stepPlan struct {
	workers int     // threads a step runs on
	rows    []int   // cuts of the batch for the rows phase
	params  []chunk // the parameter phase
	grads   []chunk // the gradient phase
	gradOK  []bool  // per gradient chunk: all finite

	fnP, fnA, fnC func(int) // the phases' chunk functions, bound once
}

// stepFlops estimates the work of one step of n for a batch: the three
// products of every projection and ≈ 40 operations per neuron.
func stepFlops(n *Network, batch int) float64 {
	var f float64
	for k := range n.Projs {
		f += 6 * float64(batch*len(n.Projs[k].W))
	}
	for _, p := range n.Pops {
		f += 40 * float64(batch*p.N)
	}
	return f
}

// planPhases splits the phases for the current batch, gradients and
// threads, and starts or stops the pool to match.
func (e *EngineOf[T]) planPhases() {
	n, B := e.Net, e.state.Batch
	pl := &e.plan
	workers := max(1, e.threads)
	if stepFlops(n, B) < minParallelFlops {
		workers = 1
	}
	pl.workers = workers
	if pl.fnP == nil {
		pl.fnP, pl.fnA, pl.fnC = e.paramsChunk, e.rowsChunk, e.gradsChunk
	}
	// Rows: two blocks per thread where the batch allows, so that a
	// thread that starts late is made up for by the others.
	parts := workers
	if B >= 16*workers {
		parts = 2 * workers
	}
	pl.rows = par.Split(pl.rows, B, parts, kernel.RowAlign)

	// Parameters: Wᵀ by strips of 8 rows (the float32 kernel's), at most
	// ≈ 1/(2·threads) of the weights per chunk (the whole projection on
	// one thread).
	pl.params = pl.params[:0]
	var total float64
	for k := range n.Projs {
		total += float64(len(n.Projs[k].W))
	}
	share := total
	if workers > 1 {
		share = max(total/float64(2*workers), 1<<14)
	}
	for k := range n.Projs {
		p := &n.Projs[k]
		rows, from := n.Pops[p.To].N, n.FromSize(p)
		pl.params = appendRows(pl.params, chunkProj, k, rows, from, 8, share)
		if !is64[T]() && p.FeedbackWeight != nil {
			pl.params = appendRows(pl.params, chunkFeedback, k, rows, from, 8, share)
		}
	}
	for q := range n.Pops {
		pl.params = append(pl.params, chunk{kind: chunkPop, idx: q, hi: n.Pops[q].N, cost: float64(n.Pops[q].N)})
	}
	sortByCost(pl.params)

	// Gradients: rows of the weights (multiples of kernel.RowAlign), and
	// per population its neurons (bias and τm; cut at kernel.ColAlign).
	pl.grads = pl.grads[:0]
	if g := e.grads; g != nil {
		total = 0
		for k := range n.Projs {
			if g.Projs[k].W != nil || g.Projs[k].FeedbackWeight != nil {
				total += 2 * float64(B*len(n.Projs[k].W))
			}
		}
		for q, p := range n.Pops {
			if g.Pops[q].Bias != nil || g.Pops[q].TauM != nil {
				total += 4 * float64(B*p.N)
			}
		}
		share = total
		if workers > 1 {
			share = max(total/float64(2*workers), 1<<16)
		}
		for k := range n.Projs {
			w := &e.projs[k]
			w.ehatT = nil
			if g.Projs[k].W != nil || g.Projs[k].FeedbackWeight != nil {
				p := &n.Projs[k]
				pl.grads = appendRows(pl.grads, chunkProj, k, n.Pops[p.To].N, 2*B*n.FromSize(p), kernel.RowAlign, share)
				if N := n.Pops[p.To].N; kernel.FarApart[T](N) {
					w.ehatT = make([]T, B*N)
				}
			}
		}
		for q, p := range n.Pops {
			if g.Pops[q].Bias != nil || g.Pops[q].TauM != nil {
				pl.grads = appendRows(pl.grads, chunkPop, q, p.N, 4*B, kernel.ColAlign, share)
			}
		}
		sortByCost(pl.grads)
	}
	pl.gradOK = slices.Grow(pl.gradOK[:0], len(pl.grads))[:len(pl.grads)]
	for i := range pl.gradOK {
		pl.gradOK[i] = true
	}

	if e.pool.Workers() != workers {
		e.pool.Close()
		e.pool = nil
		if workers > 1 {
			e.pool = par.NewPool(workers)
			runtime.AddCleanup(e, func(p *par.Pool) { p.Close() }, e.pool)
		}
	}
}

// appendRows appends the chunks of rows 0…rows−1 of item idx, each row
// costing rowCost, cut at multiples of align into pieces of about share.
func appendRows(cs []chunk, kind, idx, rows, cost, align int, share float64) []chunk {
	rowCost := float64(cost)
	if rows == 0 {
		return cs
	}
	per := rows
	if c := rowCost * float64(rows); c > share {
		per = max(align, int(share/rowCost)/align*align)
	}
	for lo := 0; lo < rows; {
		hi := min(rows, lo+per)
		if rows-hi < per/2 { // no sliver at the end
			hi = rows
		}
		cs = append(cs, chunk{kind: kind, idx: idx, lo: lo, hi: hi, cost: rowCost * float64(hi-lo)})
		lo = hi
	}
	return cs
}

// sortByCost orders chunks largest first (threads claim them in order),
// stably, so the plan is a function of the shapes alone.
func sortByCost(cs []chunk) {
	slices.SortStableFunc(cs, func(a, b chunk) int {
		switch {
		case a.cost > b.cost:
			return -1
		case a.cost < b.cost:
			return 1
		}
		return 0
	})
}

// autoThreads chooses, for an engine on the default thread setting,
// between one thread and all of them by timing its own steps: a step on
// two threads is slower than on one when another busy process shares the
// cores (measured here: a neighbour at nice 5 made the MNIST-1D step
// 1.45× slower on two threads than on one) or when the cores share
// their execution units. Every probeEvery steps it runs probeSteps steps
// each way, alternating, and keeps the faster. The results are the same
// either way (the chunks do not change), so the choice is only a speed.
type autoThreads struct {
	on     bool
	serial bool // the current choice: one thread
	step   int
	mode   bool // this step runs on one thread
	start  time.Time
	sum    [2]time.Duration // probe steps: [0] one thread, [1] all
}

const probeEvery, probeSteps = 4096, 8

// begin returns the pool this step runs on (nil: one thread).
func (a *autoThreads) begin(p *par.Pool) *par.Pool {
	if !a.on || p == nil {
		a.mode = p == nil
		return p
	}
	k := a.step % probeEvery
	a.mode = a.serial
	if k < 2*probeSteps {
		a.mode = k&1 == 0
		a.start = time.Now()
	}
	if a.mode {
		return nil
	}
	return p
}

// end records a probe step's time and, after the last, decides.
func (a *autoThreads) end() {
	if !a.on {
		return
	}
	k := a.step % probeEvery
	a.step++
	if k >= 2*probeSteps {
		return
	}
	i := 1
	if a.mode {
		i = 0
	}
	a.sum[i] += time.Since(a.start)
	if k == 2*probeSteps-1 {
		a.serial = a.sum[0] < a.sum[1]
		a.sum = [2]time.Duration{}
	}
}

// stepPool returns the pool the current step runs on (nil: one thread),
// for the trainer's phases after the engine's.
func (e *EngineOf[T]) stepPool() *par.Pool {
	if e.auto.mode {
		return nil
	}
	return e.pool
}

// threadsOf gives e the thread setting of o (the default stays the
// default, timed on its own).
func (e *EngineOf[T]) threadsOf(o interface{ setting() (int, bool) }) {
	n, auto := o.setting()
	if auto {
		n = 0
	}
	e.SetThreads(n)
}

// setting returns the engine's threads and whether they are the default.
func (e *EngineOf[T]) setting() (int, bool) { return e.threads, e.auto.on }
