package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// The worker pool: Threads()-1 long-lived goroutines plus the calling goroutine share the tasks of one
// parallel call through an atomic counter. Nothing is started per call or per tile, so a training step
// that makes thousands of matmul calls creates no goroutines after the first.
//
// Helpers are offered a job through a buffered channel and never block the caller: a helper that picks a
// job up after the caller has finished it (because it was busy elsewhere, e.g. with another goroutine's
// call) sees the job closed and leaves without touching it. So concurrent callers, and a parallel call made
// from inside a task, cannot deadlock: at worst the caller does all the tasks itself.

var (
	poolMu      sync.Mutex   // guards starting helpers
	poolThreads atomic.Int64 // 0 until first use: then runtime.GOMAXPROCS(0), or what SetThreads set
	poolWorkers atomic.Int64 // helper goroutines started so far (they never exit; idle ones block on poolJobs)
	poolJobs    = make(chan *parJob, 64)
)

// SetThreads sets how many threads (the caller included) one Sgemm/Sgemv call may use. n <= 0 restores
// the default, runtime.GOMAXPROCS(0) at the time of the call. Helper goroutines are started lazily and
// reused; lowering the count leaves the extra ones idle.
func SetThreads(n int) {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	poolThreads.Store(int64(n))
	startWorkers(n - 1)
}

// splitting counts the halves of split training steps running now (Backend.Splitting): their ops
// share the threads, so that each half keeps to its core instead of offering its ops to helpers the
// other half is using.
var splitting atomic.Int64

// callThreads is how many threads one op may use now: Threads(), shared out among the halves of
// the split training steps that are running.
func callThreads() int {
	n := Threads()
	if s := splitting.Load(); s > 1 {
		n = max(1, n/int(s))
	}
	return n
}

// Threads reports how many threads one call may use.
func Threads() int {
	if n := poolThreads.Load(); n > 0 {
		return int(n)
	}
	poolThreads.CompareAndSwap(0, int64(runtime.GOMAXPROCS(0)))
	return int(poolThreads.Load())
}

// startWorkers makes sure that at least n helper goroutines exist.
func startWorkers(n int) {
	if poolWorkers.Load() >= int64(n) {
		return
	}
	poolMu.Lock()
	defer poolMu.Unlock()
	for poolWorkers.Load() < int64(n) {
		go poolWorker()
		poolWorkers.Add(1)
	}
}

func poolWorker() {
	for j := range poolJobs {
		j.help()
	}
}

// parJobClosed in parJob.state marks a job whose caller stopped accepting helpers; the low bits count the
// helpers inside it.
const parJobClosed = 1 << 40

// tasker is one parallel call's work: task(t) does task t. A call that must allocate
// nothing passes a pointer (to a pooled struct); parallelFor wraps a closure.
type tasker interface{ task(t int) }

// funcTasks makes a closure a tasker (a func value in an interface allocates nothing).
type funcTasks func(t int)

func (f funcTasks) task(t int) { f(t) }

type parJob struct {
	tk    tasker
	n     int64
	next  atomic.Int64
	state atomic.Int64
	done  chan struct{} // the last helper out of a closed job signals here (buffered, never blocks)
}

func (j *parJob) work() {
	for {
		t := j.next.Add(1) - 1
		if t >= j.n {
			return
		}
		j.tk.task(int(t))
	}
}

func (j *parJob) help() {
	for {
		s := j.state.Load()
		if s&parJobClosed != 0 {
			return // the caller finished without us
		}
		if j.state.CompareAndSwap(s, s+1) {
			break
		}
	}
	j.work()
	if j.state.Add(-1) == parJobClosed {
		j.done <- struct{}{}
	}
}

// parallelFor runs fn(0..n-1), using up to threads goroutines (the caller and threads-1 pool helpers).
// Tasks are handed out dynamically, so uneven tasks or a busy core even out. It returns when all are done.
func parallelFor(n, threads int, fn func(task int)) { parallelDo(n, threads, funcTasks(fn)) }

// parJobs recycles job records. A helper may still take a recycled job from poolJobs (an
// offer the job's caller finished without): it then finds the job closed and leaves, or,
// if the job has been armed again, joins the new call, which is as good as any.
var parJobs = sync.Pool{New: func() any {
	j := &parJob{done: make(chan struct{}, 1)}
	j.state.Store(parJobClosed)
	return j
}}

// parallelDo is parallelFor for a tasker; with a pointer tasker it allocates nothing.
func parallelDo(n, threads int, tk tasker) {
	if threads > n {
		threads = n
	}
	if threads <= 1 {
		for t := 0; t < n; t++ {
			tk.task(t)
		}
		return
	}
	startWorkers(threads - 1)
	j := parJobs.Get().(*parJob)
	// Arm it: helpers join through state, so that is stored last.
	j.tk, j.n = tk, int64(n)
	j.next.Store(0)
	j.state.Store(0)
	defer func() { j.tk = nil; parJobs.Put(j) }()
offer:
	for i := 1; i < threads; i++ {
		select {
		case poolJobs <- j:
		default:
			break offer // the queue is full of other calls' jobs: do with fewer helpers
		}
	}
	j.work()
	if j.state.Add(parJobClosed) != parJobClosed {
		<-j.done // helpers still finishing their last task
	}
}
