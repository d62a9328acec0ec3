package par

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunEachChunkOnce: every chunk of every phase runs exactly once, on
// pools of any size, with phases of any length back to back and after
// the helpers have gone to sleep.
func TestRunEachChunkOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		p := NewPool(workers)
		for phase, n := range []int{1, 2, 5, 64, 1000, 3, 0, 7} {
			if phase == 5 {
				time.Sleep(20 * time.Millisecond) // the helpers sleep
			}
			counts := make([]atomic.Int32, n)
			p.Run(n, func(i int) { counts[i].Add(1) })
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("%d workers, phase %d: chunk %d ran %d times", workers, phase, i, c)
				}
			}
		}
		p.Close()
		ran := 0
		p.Run(3, func(int) { ran++ }) // after Close: on the caller
		if ran != 3 {
			t.Fatalf("after Close: %d chunks ran, want 3", ran)
		}
	}
}

// TestSplit: cuts at multiples of align, as equal as that allows.
func TestSplit(t *testing.T) {
	for _, c := range []struct {
		n, parts, align int
		want            []int
	}{
		{100, 2, 8, []int{0, 48, 100}},
		{256, 4, 8, []int{0, 64, 128, 192, 256}},
		{100, 4, 8, []int{0, 24, 48, 72, 100}},
		{7, 3, 8, []int{0, 7}},
		{0, 3, 8, []int{0, 0}},
		{20, 8, 8, []int{0, 8, 16, 20}},
	} {
		if got := Split(nil, c.n, c.parts, c.align); !slices.Equal(got, c.want) {
			t.Errorf("Split(%d, %d, %d) = %v, want %v", c.n, c.parts, c.align, got, c.want)
		}
	}
}

// TestThreadsDefault: the default is the cores divided among the jobs;
// SetThreads overrides it.
func TestThreadsDefault(t *testing.T) {
	defer SetThreads(Explicit())
	SetThreads(0)
	defer SetJobs(SetJobs(1))
	if Threads() != Cores() {
		t.Errorf("default %d threads, want the %d cores", Threads(), Cores())
	}
	SetJobs(Cores() + 1)
	if Threads() != 1 {
		t.Errorf("more jobs than cores: %d threads, want 1", Threads())
	}
	SetThreads(3)
	if Threads() != 3 {
		t.Errorf("SetThreads(3): %d", Threads())
	}
}

// BenchmarkRun times a phase of empty chunks: the cost of the hand-over
// and the barrier.
func BenchmarkRun(b *testing.B) {
	for _, workers := range []int{1, 2} {
		for _, n := range []int{2, 8} {
			b.Run(fmt.Sprintf("workers=%d/chunks=%d", workers, n), func(b *testing.B) {
				p := NewPool(workers)
				defer p.Close()
				var sink atomic.Int64
				fn := func(i int) { sink.Add(int64(i)) }
				p.Run(n, fn)
				b.ResetTimer()
				for range b.N {
					p.Run(n, fn)
				}
			})
		}
	}
}

// TestRunInParallel: on a pool of two, two chunks are in flight at once —
// right away and after the helpers have gone to sleep — and one at a
// time after Close.
func TestRunInParallel(t *testing.T) {
	p := NewPool(2)
	if p.Workers() != 2 {
		t.Errorf("NewPool(2).Workers() = %d", p.Workers())
	}
	both := func() bool {
		var arrived atomic.Int32
		ok := true
		p.Run(2, func(int) {
			arrived.Add(1)
			deadline := time.Now().Add(5 * time.Second)
			for arrived.Load() < 2 {
				if time.Now().After(deadline) {
					ok = false
					return
				}
				time.Sleep(time.Microsecond)
			}
		})
		return ok
	}
	if !both() {
		t.Error("two chunks on a pool of two never ran at once")
	}
	time.Sleep(20 * time.Millisecond) // the helper sleeps
	if !both() {
		t.Error("after the helper slept, two chunks never ran at once")
	}
	p.Close()
	var inFlight, most atomic.Int32
	p.Run(4, func(int) {
		most.Store(max(most.Load(), inFlight.Add(1)))
		time.Sleep(time.Millisecond)
		inFlight.Add(-1)
	})
	if most.Load() != 1 {
		t.Errorf("after Close: %d chunks at once, want 1 (on the caller)", most.Load())
	}
}

// TestNilPoolAndLimits: a nil pool runs on the caller; MaxChunks chunks
// run, one more panics.
func TestNilPoolAndLimits(t *testing.T) {
	var p *Pool
	ran := 0
	p.Run(3, func(int) { ran++ })
	p.Close()
	if ran != 3 || p.Workers() != 1 {
		t.Errorf("nil pool: %d chunks ran, %d workers; want 3 and 1", ran, p.Workers())
	}
	q := NewPool(2)
	defer q.Close()
	var count atomic.Int32
	q.Run(MaxChunks, func(int) { count.Add(1) })
	if count.Load() != MaxChunks {
		t.Errorf("Run(MaxChunks): %d chunks ran, want %d", count.Load(), MaxChunks)
	}
	defer func() {
		if recover() == nil {
			t.Error("Run(MaxChunks+1) did not panic")
		}
	}()
	q.Run(MaxChunks+1, func(int) {})
}

// TestSplitRounding: cuts that round to the same multiple, or past the
// last full one, are not repeated.
func TestSplitRounding(t *testing.T) {
	for _, c := range []struct {
		n, parts, align int
		want            []int
	}{
		{100, 2, 32, []int{0, 64, 100}},
		{17, 3, 8, []int{0, 8, 17}},
	} {
		if got := Split(nil, c.n, c.parts, c.align); !slices.Equal(got, c.want) {
			t.Errorf("Split(%d, %d, %d) = %v, want %v", c.n, c.parts, c.align, got, c.want)
		}
	}
}

// TestThreadsFromEnvironment: GLE_THREADS sets the threads when it is a
// positive integer, and is ignored otherwise (a child process per value).
func TestThreadsFromEnvironment(t *testing.T) {
	if want := os.Getenv("PAR_TEST_WANT"); want != "" {
		if got := fmt.Sprint(Explicit()); got != want {
			t.Fatalf("GLE_THREADS=%q: Explicit() = %s, want %s", os.Getenv("GLE_THREADS"), got, want)
		}
		return
	}
	for env, want := range map[string]string{"3": "3", "0": "0", "x": "0", "-2": "0"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestThreadsFromEnvironment$")
		cmd.Env = append(os.Environ(), "GLE_THREADS="+env, "PAR_TEST_WANT="+want)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("GLE_THREADS=%s: %v\n%s", env, err, out)
		}
	}
}
