package cpu

import (
	"fmt"
	"sync"
)

// Sgemv computes y = alpha·op(A)·x + beta·y for a row-major m×n matrix A with row stride lda (BLAS
// convention: m and n are A's stored shape). With transA false, x has n elements and y has m,
// y[i] = alpha·A[i,:]·x + beta·y[i]; with transA true, x has m and y has n, y = alpha·Aᵀ·x + beta·y.
//
// This is the decode-time product (one token: a weight times a vector). Every element of A is read once
// and used once, so it runs at memory bandwidth, not FLOPs: rows (or, for Aᵀ, columns) are split across
// the worker pool so that both cores pull from memory. beta == 0 overwrites y without reading it.
func Sgemv(transA bool, m, n int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32) {
	g := gemvProblem{transA: transA, m: m, n: n, alpha: alpha, a: a, lda: lda, x: x, beta: beta, y: y}
	g.check(len(a))
	g.run()
}

// SgemvBF16 is Sgemv with A stored as bfloat16 (the top half of a float32): A is widened in registers,
// so it crosses the memory bus at 2 bytes per element, half the time of float32 weights.
func SgemvBF16(transA bool, m, n int, alpha float32, a []uint16, lda int, x []float32, beta float32, y []float32) {
	g := gemvProblem{transA: transA, m: m, n: n, alpha: alpha, ah: a, lda: lda, x: x, beta: beta, y: y}
	g.check(len(a))
	g.run()
}

// gemvProblem is one Sgemv call; exactly one of a and ah is set.
type gemvProblem struct {
	transA      bool
	m, n        int
	alpha, beta float32
	a           []float32
	ah          []uint16
	lda         int
	x, y        []float32
}

func (g *gemvProblem) check(lenA int) {
	if g.m < 0 || g.n < 0 {
		panic(fmt.Sprintf("cpu: Sgemv: negative dimension m=%d n=%d", g.m, g.n))
	}
	lx, ly := g.n, g.m
	if g.transA {
		lx, ly = g.m, g.n
	}
	if len(g.y) < ly {
		panic(fmt.Sprintf("cpu: Sgemv: len(y)=%d, want at least %d", len(g.y), ly))
	}
	if g.m == 0 || g.n == 0 {
		return
	}
	if len(g.x) < lx {
		panic(fmt.Sprintf("cpu: Sgemv: len(x)=%d, want at least %d", len(g.x), lx))
	}
	if g.lda < g.n {
		panic(fmt.Sprintf("cpu: Sgemv: lda=%d < n=%d", g.lda, g.n))
	}
	if lenA < gemmSpan(g.m, g.n, g.lda) {
		panic(fmt.Sprintf("cpu: Sgemv: len(a)=%d, want at least %d", lenA, gemmSpan(g.m, g.n, g.lda)))
	}
}

// Below minParallelGemv elements of A a call stays on one thread (waking a helper costs microseconds;
// 256 Ki elements take tens of them).
const minParallelGemv = 1 << 18

func (g *gemvProblem) run() {
	ly := g.m
	if g.transA {
		ly = g.n
	}
	if ly == 0 {
		return
	}
	if g.m == 0 || g.n == 0 || g.alpha == 0 {
		gemmScaleC(1, ly, g.beta, g.y, ly)
		return
	}
	threads := callThreads()
	if g.m*g.n < minParallelGemv {
		threads = 1
	}
	if !g.transA {
		// Rows in chunks of a multiple of 4 (the assembly does 4 rows at a time).
		chunk := max(4, (g.m+4*threads-1)/(4*threads)+3) &^ 3
		parallelFor((g.m+chunk-1)/chunk, threads, func(t int) {
			g.rows(t*chunk, min((t+1)*chunk, g.m))
		})
		return
	}
	// Aᵀ·x: columns of A (elements of y) in chunks of a multiple of 16; x scaled by alpha once.
	xs := g.x[:g.m]
	var buf *[]float32
	if g.alpha != 1 {
		buf = gemvScratch(g.m)
		xs = (*buf)[:g.m]
		for i, v := range g.x[:g.m] {
			xs[i] = g.alpha * v
		}
	}
	chunk := max(16, (g.n+2*threads-1)/(2*threads)+15) &^ 15
	parallelFor((g.n+chunk-1)/chunk, threads, func(t int) {
		j0, j1 := t*chunk, min((t+1)*chunk, g.n)
		// y (a chunk of at most 4096 at a time, 16 KiB: it stays in L1 while A streams past)
		for c0 := j0; c0 < j1; c0 += 4096 {
			g.cols(xs, c0, min(c0+4096, j1))
		}
	})
	if buf != nil {
		gemvScratchPool.Put(buf)
	}
}

var gemvScratchPool sync.Pool

func gemvScratch(n int) *[]float32 {
	p, _ := gemvScratchPool.Get().(*[]float32)
	if p == nil || cap(*p) < n {
		s := make([]float32, n)
		p = &s
	}
	return p
}

// rows computes y[i0:i1] for A (not transposed): dot products of rows of A with x.
func (g *gemvProblem) rows(i0, i1 int) {
	x := g.x[:g.n]
	i := i0
	for ; i+4 <= i1; i += 4 {
		d := g.dot4(i, x)
		for r := range 4 {
			g.store(i+r, d[r])
		}
	}
	for ; i < i1; i++ {
		g.store(i, g.dot1(i, x))
	}
}

func (g *gemvProblem) store(i int, s float32) {
	if g.beta == 0 {
		g.y[i] = g.alpha * s
	} else {
		g.y[i] = g.alpha*s + g.beta*g.y[i]
	}
}

// The primitives below work on the matrix of g (g.a or g.ah, g.n columns, row stride g.lda) with a vector
// given to them, so that the few-rows GEMM path can run them with many vectors over one stream of the
// matrix. The assembly does the first multiple of 16 columns, Go the rest.

// dot4 returns rows i..i+3 of the matrix dotted with x (len(x) = g.n).
func (g *gemvProblem) dot4(i int, x []float32) [4]float32 {
	n, lda := g.n, g.lda
	var out [4]float32
	n16 := 0
	if activeKernels.asmGemv {
		n16 = n &^ 15
	}
	if n16 > 0 {
		_ = x[n-1]
		if g.a != nil {
			_ = g.a[(i+3)*lda+n-1]
			gemvDot4(n16, &g.a[i*lda], lda, &x[0], &out[0])
		} else {
			_ = g.ah[(i+3)*lda+n-1]
			gemvDot4BF16(n16, &g.ah[i*lda], lda, &x[0], &out[0])
		}
	}
	for r := range out {
		out[r] += g.dotTail(i+r, n16, x)
	}
	return out
}

// dot1 returns row i of the matrix dotted with x.
func (g *gemvProblem) dot1(i int, x []float32) float32 {
	n := g.n
	var s float32
	n16 := 0
	if activeKernels.asmGemv {
		n16 = n &^ 15
	}
	if n16 > 0 {
		_ = x[n-1]
		if g.a != nil {
			_ = g.a[i*g.lda+n-1]
			s = gemvDot1(n16, &g.a[i*g.lda], &x[0])
		} else {
			_ = g.ah[i*g.lda+n-1]
			s = gemvDot1BF16(n16, &g.ah[i*g.lda], &x[0])
		}
	}
	return s + g.dotTail(i, n16, x)
}

// dotTail is row i of the matrix dotted with x over columns [j0, g.n), in Go (four partial sums).
func (g *gemvProblem) dotTail(i, j0 int, x []float32) float32 {
	x = x[j0:g.n]
	var s0, s1, s2, s3 float32
	if g.a != nil {
		row := g.a[i*g.lda+j0 : i*g.lda+g.n]
		for len(row) >= 4 && len(x) >= 4 {
			s0 += row[0] * x[0]
			s1 += row[1] * x[1]
			s2 += row[2] * x[2]
			s3 += row[3] * x[3]
			row, x = row[4:], x[4:]
		}
		for j, v := range row {
			s0 += v * x[j]
		}
	} else {
		row := g.ah[i*g.lda+j0 : i*g.lda+g.n]
		for len(row) >= 4 && len(x) >= 4 {
			s0 += gemmWidenBF16(row[0]) * x[0]
			s1 += gemmWidenBF16(row[1]) * x[1]
			s2 += gemmWidenBF16(row[2]) * x[2]
			s3 += gemmWidenBF16(row[3]) * x[3]
			row, x = row[4:], x[4:]
		}
		for j, v := range row {
			s0 += gemmWidenBF16(v) * x[j]
		}
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy4 adds Σ_{r<4} xs[r]·A[i+r, j0:j1] to y[0:j1-j0].
func (g *gemvProblem) axpy4(i int, xs []float32, j0, j1 int, y []float32) {
	w16 := 0
	if activeKernels.asmGemv {
		w16 = (j1 - j0) &^ 15
	}
	if w16 > 0 {
		_ = xs[3]
		_ = y[j1-j0-1]
		if g.a != nil {
			_ = g.a[(i+3)*g.lda+j1-1]
			gemvAxpy4(w16, &g.a[i*g.lda+j0], g.lda, &xs[0], &y[0])
		} else {
			_ = g.ah[(i+3)*g.lda+j1-1]
			gemvAxpy4BF16(w16, &g.ah[i*g.lda+j0], g.lda, &xs[0], &y[0])
		}
	}
	for r := range 4 {
		g.axpy1(xs[r], i+r, j0+w16, j1, y[w16:])
	}
}

// axpy1 adds xi·A[i, j0:j1] to y[0:j1-j0], in Go.
func (g *gemvProblem) axpy1(xi float32, i, j0, j1 int, y []float32) {
	y = y[:j1-j0]
	if g.a != nil {
		row := g.a[i*g.lda+j0 : i*g.lda+j1]
		for j, v := range row {
			y[j] += xi * v
		}
	} else {
		row := g.ah[i*g.lda+j0 : i*g.lda+j1]
		for j, v := range row {
			y[j] += xi * gemmWidenBF16(v)
		}
	}
}

// cols computes y[j0:j1] = beta·y + Σ_i xs[i]·A[i, j0:j1] (xs = alpha·x): Aᵀ·x, streaming A by rows.
func (g *gemvProblem) cols(xs []float32, j0, j1 int) {
	y := g.y[j0:j1]
	gemmScaleC(1, len(y), g.beta, y, len(y))
	i := 0
	for ; i+4 <= g.m; i += 4 {
		g.axpy4(i, xs[i:i+4], j0, j1, y)
	}
	for ; i < g.m; i++ {
		g.axpy1(xs[i], i, j0, j1, y)
	}
}

// maxFewRows is the most rows for which a GEMM is computed as matrix-vector products (fewRows) instead
// of by the packed kernels: with so few rows each packed element of B would be used only a few times,
// and packing B costs about as much as reading it several times. Streaming B once and dotting each
// piece of it with every row of A (which stays in L1) is faster up to about 4 rows: measured on the
// 2-core Zen 4, m = 4, k = n = 2048 (Y = X·Wᵀ) took 1.2 ms packed and 0.55-0.77 ms streamed, while at
// m = 8 both took about 1.4 ms.
const maxFewRows = 4

// fewRows computes C[m×n] = alpha·op(A)·op(B) + beta·C for m <= maxFewRows (the decode of one or a few
// sequences) as matrix-vector products with B as the matrix, B read from memory once. B is split across
// the worker pool by rows (transB: each is an element of every row of C) or by columns. Its state lives
// in a pooled fewRowsTask, so a call allocates nothing.
func (p *gemmProblem) fewRows() {
	m, k, n := p.m, p.k, p.n
	f := fewRowsPool.Get().(*fewRowsTask)
	f.p = *p
	if p.transA { // the rows of op(A), gathered contiguous
		f.buf = gemvScratch(m * k)
		at := (*f.buf)[:m*k]
		for q := 0; q < k; q++ {
			for i, v := range p.a[q*p.lda : q*p.lda+m] {
				at[i*k+q] = v
			}
		}
		f.p.a, f.p.lda = at, k
	}
	threads := callThreads()
	if m*n*k < minParallelGemv {
		threads = 1
	}
	if p.transB {
		f.g = gemvProblem{n: k, a: p.b, ah: p.bh, lda: p.ldb}
		f.chunk = max(4, (n+4*threads-1)/(4*threads)+3) &^ 3
	} else {
		f.g = gemvProblem{n: n, a: p.b, ah: p.bh, lda: p.ldb}
		f.chunk = max(16, (n+2*threads-1)/(2*threads)+15) &^ 15
	}
	parallelDo((n+f.chunk-1)/f.chunk, threads, f)
	if f.buf != nil {
		gemvScratchPool.Put(f.buf)
	}
	*f = fewRowsTask{}
	fewRowsPool.Put(f)
}

// fewRowsTask is one fewRows call: task t is a chunk of C's columns.
type fewRowsTask struct {
	p     gemmProblem // op(A) is stored untransposed here (gathered into buf when it was not)
	g     gemvProblem // B as the matrix
	chunk int
	buf   *[]float32
}

var fewRowsPool = sync.Pool{New: func() any { return new(fewRowsTask) }}

// xs is row i of op(A).
func (f *fewRowsTask) xs(i int) []float32 { return f.p.a[i*f.p.lda : i*f.p.lda+f.p.k] }

func (f *fewRowsTask) store(i, j int, s float32) {
	p := &f.p
	c := &p.c[i*p.ldc+j]
	if p.beta == 0 {
		*c = p.alpha * s
	} else {
		*c = p.alpha*s + p.beta**c
	}
}

func (f *fewRowsTask) task(t int) {
	p, g := &f.p, &f.g
	m, k, n, chunk := p.m, p.k, p.n, f.chunk
	if p.transB {
		// B is n×k: C[i, j] = A[i,:]·B[j,:]. Four rows of B at a time (4·k floats, in L1 after the
		// first vector) against every row of A.
		j0, j1 := t*chunk, min((t+1)*chunk, n)
		j := j0
		for ; j+4 <= j1; j += 4 {
			for i := 0; i < m; i++ {
				d := g.dot4(j, f.xs(i))
				for r := range 4 {
					f.store(i, j+r, d[r])
				}
			}
		}
		for ; j < j1; j++ {
			for i := 0; i < m; i++ {
				f.store(i, j, g.dot1(j, f.xs(i)))
			}
		}
		return
	}
	// B is k×n: C[i, j0:j1] = beta·C + Σ_q alpha·A[i,q]·B[q, j0:j1]. Four rows of B at a time, in
	// column pieces of at most 2048 (8 KiB per row: B's four rows and the m rows of C stay in L1).
	var x4 [4]float32
	for c0 := t * chunk; c0 < min((t+1)*chunk, n); c0 += 2048 {
		c1 := min(c0+2048, (t+1)*chunk, n)
		for i := 0; i < m; i++ {
			crow := p.c[i*p.ldc+c0 : i*p.ldc+c1]
			gemmScaleC(1, len(crow), p.beta, crow, len(crow))
		}
		q := 0
		for ; q+4 <= k; q += 4 {
			for i := 0; i < m; i++ {
				x := f.xs(i)
				x4 = [4]float32{p.alpha * x[q], p.alpha * x[q+1], p.alpha * x[q+2], p.alpha * x[q+3]}
				g.axpy4(q, x4[:], c0, c1, p.c[i*p.ldc+c0:i*p.ldc+c1])
			}
		}
		for ; q < k; q++ {
			for i := 0; i < m; i++ {
				g.axpy1(p.alpha*f.xs(i)[q], q, c0, c1, p.c[i*p.ldc+c0:i*p.ldc+c1])
			}
		}
	}
}
