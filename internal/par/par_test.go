package par

import (
	"fmt"
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
