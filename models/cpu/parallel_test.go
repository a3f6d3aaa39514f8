package cpu

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

func TestParallelForRunsEachTaskOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		for _, n := range []int{0, 1, 2, 7, 100} {
			counts := make([]atomic.Int32, n)
			parallelFor(n, threads, func(i int) { counts[i].Add(1) })
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("threads=%d n=%d: task %d ran %d times", threads, n, i, c)
				}
			}
		}
	}
}

func TestParallelForNested(t *testing.T) {
	// A task that itself calls parallelFor must not deadlock, even with every helper busy.
	var total atomic.Int64
	parallelFor(8, 4, func(i int) {
		parallelFor(8, 4, func(j int) { total.Add(1) })
	})
	if total.Load() != 64 {
		t.Fatalf("ran %d inner tasks, want 64", total.Load())
	}
}

func TestSgemmConcurrentCallers(t *testing.T) {
	// Several goroutines share the pool and the buffer pools; each must get its own correct result.
	r := rand.New(rand.NewPCG(11, 12))
	const m, n, k = 130, 150, 300 // above minParallelFlops: the calls share out tiles
	a, b := gemmRandSlice(r, m*k), gemmRandSlice(r, k*n)
	want := make([]float32, m*n)
	SetThreads(1)
	Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, want, n)
	SetThreads(0)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := make([]float32, m*n)
			for rep := 0; rep < 20; rep++ {
				Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
				for i := range c {
					if c[i] != want[i] {
						errs <- "concurrent Sgemm result differs from the single-threaded one (the split must not change the sums)"
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestThreads(t *testing.T) {
	defer SetThreads(0)
	SetThreads(3)
	if Threads() != 3 {
		t.Fatalf("Threads() = %d after SetThreads(3)", Threads())
	}
	SetThreads(0)
	if Threads() < 1 {
		t.Fatalf("Threads() = %d after SetThreads(0)", Threads())
	}
	if KernelName() == "" {
		t.Fatal("empty KernelName")
	}
	t.Log(KernelName())
}
