// Package par runs the phases of a network step on several cores: a
// persistent pool of goroutines per engine that claim the chunks of a
// phase (blocks of batch rows, blocks of parameters) from one atomic
// counter, and the process-wide thread setting.
//
// A phase is a fixed list of chunks, cut by its owner where the kernels'
// blocks are cut, so that every element is computed by the same
// operations in the same order whichever goroutine runs its chunk and
// however many there are: results do not depend on the thread count.
// Run returns when every chunk is done (the barrier between phases). No
// goroutine is started per phase or per step; helpers that find no work
// spin for a few microseconds, then yield, then sleep until the next Run.
package par

import (
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
)

// Chunk claims: word = gen<<40 | n<<20 | next. A helper claims chunk
// next of generation gen by compare-and-swap of word with word+1, so a
// helper that read an old word can never run a chunk of a later phase.
const (
	chunkBits = 20
	chunkMask = 1<<chunkBits - 1
	// MaxChunks is the largest number of chunks of one phase.
	MaxChunks = chunkMask
)

func wordNext(w uint64) int { return int(w & chunkMask) }
func wordN(w uint64) int    { return int(w >> chunkBits & chunkMask) }

// Pool runs phases on the calling goroutine and helpers-1 helpers.
// A Pool is used by one goroutine at a time (its owner's).
type Pool struct {
	workers int
	started bool

	fn     func(chunk int) // the phase being run; stable while chunks are claimed
	word   atomic.Uint64
	done   atomic.Int64 // chunks finished in this generation
	gen    uint64
	parked atomic.Int32 // helpers asleep (or about to be) on wake
	wake   chan struct{}
	closed atomic.Bool
}

// NewPool returns a pool of workers goroutines counting the caller of
// Run (workers ≤ 1: Run runs every chunk on the caller). The helpers
// start at the first Run that has more than one chunk.
func NewPool(workers int) *Pool {
	return &Pool{workers: max(1, workers)}
}

// Workers returns the number of goroutines the pool runs phases on.
func (p *Pool) Workers() int {
	if p == nil {
		return 1
	}
	return p.workers
}

// Run calls fn(0), …, fn(n−1), each once, on the caller and the helpers,
// and returns when all have returned. fn must not call Run.
func (p *Pool) Run(n int, fn func(chunk int)) {
	if n <= 0 {
		return
	}
	if p == nil || p.workers == 1 || n == 1 || p.closed.Load() {
		for i := range n {
			fn(i)
		}
		return
	}
	if n > MaxChunks {
		panic("par: too many chunks")
	}
	if !p.started {
		p.started = true
		p.wake = make(chan struct{}, p.workers)
		for range p.workers - 1 {
			go p.help()
		}
	}
	p.fn = fn
	p.done.Store(0)
	p.gen++
	base := p.gen<<(2*chunkBits) | uint64(n)<<chunkBits
	p.word.Store(base)
	if k := p.parked.Load(); k > 0 {
		for range min(int(k), p.workers-1) {
			select {
			case p.wake <- struct{}{}:
			default:
			}
		}
	}
	// The caller claims chunks too; then waits for the ones helpers hold.
	for {
		w := p.word.Load()
		i := wordNext(w)
		if i >= n {
			break
		}
		if p.word.CompareAndSwap(w, w+1) {
			fn(i)
			p.done.Add(1)
		}
	}
	for spins := 0; p.done.Load() != int64(n); spins++ {
		if spins < 4000 {
			pause()
		} else {
			runtime.Gosched()
		}
	}
	p.fn = nil
}

// help is a helper goroutine: it claims chunks while there are any, and
// otherwise spins, yields, then sleeps until Run wakes it.
func (p *Pool) help() {
	idle := 0
	for !p.closed.Load() {
		w := p.word.Load()
		if i := wordNext(w); i < wordN(w) {
			if p.word.CompareAndSwap(w, w+1) {
				p.fn(i)
				p.done.Add(1)
				idle = 0
			}
			continue
		}
		idle++
		switch {
		case idle < spinLoads:
			pause()
		case idle < spinLoads+yields:
			runtime.Gosched()
		default:
			// Sleep. Run stores the word before it reads parked, and we
			// count ourselves parked before we read the word again, so
			// either Run sees us and sends a token or we see the work.
			p.parked.Add(1)
			if w := p.word.Load(); wordNext(w) >= wordN(w) && !p.closed.Load() {
				<-p.wake
			}
			p.parked.Add(-1)
			idle = 0
		}
	}
}

// How long an idle helper waits before it sleeps: spinLoads loads of
// the claim word, each after a PAUSE (≈ 40 ns: ≈ 80 µs in all), then
// yields (each ≈ 0.1–1 µs, and they let the caller's
// other goroutines run). PAUSE matters where the two cores a step runs
// on share a physical core (this project's VM: a busy loop on one vCPU
// slows a product on the other by 27 %): a spinning helper would take
// the caller's execution units.
const spinLoads, yields = 2000, 200

// Close stops the helpers (they exit once they notice; Run then runs
// every chunk on the caller). The cleanup of an engine calls it.
func (p *Pool) Close() {
	if p == nil || !p.closed.CompareAndSwap(false, true) {
		return
	}
	if p.started {
		for range p.workers {
			select {
			case p.wake <- struct{}{}:
			default:
			}
		}
	}
}

// Split cuts 0…n into at most parts ranges whose inner bounds are
// multiples of align, as equal as that allows; it returns the bounds
// (len = ranges + 1) in cuts (reused when large enough).
func Split(cuts []int, n, parts, align int) []int {
	cuts = append(cuts[:0], 0)
	if n <= 0 {
		return append(cuts, 0)
	}
	parts = max(1, min(parts, (n+align-1)/align))
	for i := 1; i < parts; i++ {
		c := (i*n/parts + align/2) / align * align
		if c > cuts[len(cuts)-1] && c < n {
			cuts = append(cuts, c)
		}
	}
	return append(cuts, n)
}

// The process-wide thread setting.
var (
	explicit atomic.Int32 // SetThreads; 0: every core, divided among the jobs
	jobs     atomic.Int32 // runs sharing the cores (SetJobs)
)

func init() {
	jobs.Store(1)
	if v := os.Getenv("GLE_THREADS"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			explicit.Store(int32(n))
		}
	}
}

// Cores returns the number of cores the process may use: GOMAXPROCS,
// which the Go runtime sets from the CPU affinity mask and the cgroup's
// CPU quota unless the GOMAXPROCS variable overrides it.
func Cores() int { return runtime.GOMAXPROCS(0) }

// SetThreads sets the number of threads a network step runs on (n ≤ 0:
// the default, every core divided among the jobs). GLE_THREADS sets it
// when the process starts.
func SetThreads(n int) { explicit.Store(int32(max(0, n))) }

// Explicit returns the SetThreads value (0: the default).
func Explicit() int { return int(explicit.Load()) }

// SetJobs tells how many runs share the cores (the --jobs of a command),
// so that the default gives each its part; it returns the previous value.
func SetJobs(n int) int { return int(jobs.Swap(int32(max(1, n)))) }

// Threads returns the threads a new step runs on: the SetThreads value,
// or else the cores divided among the jobs (at least 1).
func Threads() int {
	if n := explicit.Load(); n > 0 {
		return int(n)
	}
	return max(1, Cores()/int(jobs.Load()))
}
