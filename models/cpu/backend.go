package cpu

import (
	"fmt"
	"math"
	"sync"

	"seal/models/tensor"
)

// Backend is the CPU implementation of tensor.Backend: every op on host tensors (F32, with BF16 where an
// op reads frozen weights), in the style of llm.c's train_gpt2.c: one file per op (ops_*.go), its
// forward and backward side by side, each numerically specified against PyTorch / Hugging Face
// transformers. Matrix products go to Sgemm/Sgemv; the rest are Go loops, parallelised over rows on the
// package's worker pool when a call is large enough to pay for waking a helper.
//
// A Backend holds no state: it is safe for concurrent use, and all Backends are the same.
type Backend struct{}

var _ tensor.Backend = (*Backend)(nil)

// New returns the CPU backend.
func New() *Backend { return &Backend{} }

// The CPU is always there: tensor.Open("auto") falls back to it.
func init() {
	tensor.Register("cpu", false, func() (tensor.Backend, error) { return New(), nil })
}

// SplitsBatches is true: a small model's training step keeps the cores busier as two halves of
// its batch, one per goroutine, than as one batch whose ops each wait for their threads
// (tensor.BatchSplitter; models/llama/split.go has the figures).
func (*Backend) SplitsBatches() bool { return true }

// Splitting counts the halves running (+1 as one starts, -1 as it ends): while two run, each op
// takes half the threads (on two cores, its own).
func (*Backend) Splitting(delta int) { splitting.Add(int64(delta)) }

// Name is "cpu".
func (*Backend) Name() string { return "cpu" }

// minParallelWork is the number of elements (touched once each, a few flops apiece) below which an
// element-wise or row-wise op stays on the calling goroutine: waking a helper costs a few microseconds,
// which is the whole of a small op.
const minParallelWork = 1 << 16

// parallelRange runs fn(&args, i0, i1) over [0, n) split into contiguous chunks on the worker pool when
// work (about the number of elements the call touches) is large enough, or inline as fn(&args, 0, n)
// otherwise. Each index must be independent of the others; results then do not depend on the split.
//
// args holds the op's operands and fn is a function literal that captures nothing: a closure handed to
// the pool would escape and be allocated on every call, while args is copied into a record pooled per
// operand type (pool), so that a call allocates nothing and a training step makes no garbage.
func parallelRange[A any](pool *opPool[A], n, work int, args A, fn func(a *A, i0, i1 int)) {
	if n <= 0 {
		return
	}
	r := pool.get(args, fn, n)
	if runsInline(n, work) {
		fn(&r.args, 0, n)
	} else {
		threads := callThreads()
		chunks := min(n, 4*threads) // a few per thread evens out a busy core
		r.size = (n + chunks - 1) / chunks
		parallelDo((n+r.size-1)/r.size, threads, r)
	}
	pool.put(r)
}

// parallelTasks runs fn(&args, t, t+1) for t in [0, n) on up to threads goroutines, one task at a time
// (for ops whose tasks are uneven, as attention's heads), allocating nothing as parallelRange.
func parallelTasks[A any](pool *opPool[A], n, threads int, args A, fn func(a *A, t0, t1 int)) {
	r := pool.get(args, fn, n)
	r.size = 1
	parallelDo(n, threads, r)
	pool.put(r)
}

// opTasks is one parallelRange or parallelTasks call: task t is the chunk [t·size, (t+1)·size) of [0, n).
type opTasks[A any] struct {
	args    A
	fn      func(a *A, i0, i1 int)
	n, size int
}

func (r *opTasks[A]) task(t int) {
	i0 := t * r.size
	r.fn(&r.args, i0, min(i0+r.size, r.n))
}

// opPool recycles the opTasks records of one operand type.
type opPool[A any] struct{ p sync.Pool }

func (p *opPool[A]) get(args A, fn func(a *A, i0, i1 int), n int) *opTasks[A] {
	r, _ := p.p.Get().(*opTasks[A])
	if r == nil {
		r = new(opTasks[A])
	}
	r.args, r.fn, r.n = args, fn, n
	return r
}

// put clears the record (so that the pool holds no tensor alive) and returns it.
func (p *opPool[A]) put(r *opTasks[A]) {
	*r = opTasks[A]{}
	p.p.Put(r)
}

// runsInline says whether parallelRange(..., n, work, ...) runs on the calling goroutine. A hot op
// calls its loop directly then, without even the pooled record.
func runsInline(n, work int) bool { return n < 2 || work < minParallelWork || callThreads() <= 1 }

// widenBF16 converts a bfloat16 (the top 16 bits of a float32) to float32 exactly.
func widenBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// f32Pool recycles float32 scratch buffers so that steady-state calls allocate nothing of O(size).
var f32Pool sync.Pool

// getF32 returns a scratch buffer of n float32s (contents undefined); give it back with putF32.
func getF32(n int) *[]float32 {
	p, _ := f32Pool.Get().(*[]float32)
	if p == nil {
		s := make([]float32, n, poolCap(n))
		return &s
	}
	if cap(*p) < n {
		*p = make([]float32, n, poolCap(n))
	}
	*p = (*p)[:n]
	return p
}

// poolCap is the capacity a pooled scratch buffer of n gets: the next power of two, so that
// requests that grow a little at a time (attention scratch, one key more per decoded token) and
// buffers shared between ops of different sizes settle after a few allocations.
func poolCap(n int) int {
	c := 64
	for c < n {
		c *= 2
	}
	return c
}

func putF32(p *[]float32) { f32Pool.Put(p) }

var f64Pool sync.Pool

// getF64 is getF32 for float64 scratch (per-row partial sums).
func getF64(n int) *[]float64 {
	p, _ := f64Pool.Get().(*[]float64)
	if p == nil {
		s := make([]float64, n, poolCap(n))
		return &s
	}
	if cap(*p) < n {
		*p = make([]float64, n, poolCap(n))
	}
	*p = (*p)[:n]
	return p
}

func putF64(p *[]float64) { f64Pool.Put(p) }

// host checks that t is a host tensor and returns it; op names the caller in the panic.
func host(op, name string, t *tensor.Tensor) *tensor.Tensor {
	if t == nil {
		panic(fmt.Sprintf("cpu: %s: %s is nil", op, name))
	}
	n := t.Len()
	switch t.DType {
	case tensor.F32:
		if len(t.F32) < n {
			panic(fmt.Sprintf("cpu: %s: %s has %d float32 values for shape %v", op, name, len(t.F32), t.Shape))
		}
	case tensor.BF16:
		if len(t.BF16) < n {
			panic(fmt.Sprintf("cpu: %s: %s has %d bf16 values for shape %v", op, name, len(t.BF16), t.Shape))
		}
	default:
		panic(fmt.Sprintf("cpu: %s: %s has dtype %v", op, name, t.DType))
	}
	return t
}

// f32 checks that t is a host F32 tensor and returns its values (exactly Len of them).
func f32(op, name string, t *tensor.Tensor) []float32 {
	host(op, name, t)
	if t.DType != tensor.F32 {
		panic(fmt.Sprintf("cpu: %s: %s must be F32, is %v", op, name, t.DType))
	}
	return t.F32[:t.Len()]
}

// sameLen panics unless a and b have the same number of elements.
func sameLen(op, an, bn string, a, b *tensor.Tensor) {
	if a.Len() != b.Len() {
		panic(fmt.Sprintf("cpu: %s: %s %v and %s %v differ in size", op, an, a.Shape, bn, b.Shape))
	}
}

// widenInto writes t (F32 or BF16, n values) as float32 into dst, or returns t's own F32 slice when
// no conversion is needed (dst is then unused).
func widenInto(dst []float32, t *tensor.Tensor, n int) []float32 {
	if t.DType == tensor.F32 {
		return t.F32[:n]
	}
	for i, h := range t.BF16[:n] {
		dst[i] = widenBF16(h)
	}
	return dst[:n]
}
