// Package cpu is the CPU compute backend: pure Go, with the hot loops in Go assembly where it pays.
//
// The matrix products, Sgemm and SgemmBF16 (training, prefill; decoding a batch runs their few-rows path,
// smallm.go) and Sgemv and SgemvBF16, are Go
// assembly (AVX2+FMA, and AVX-512 where the CPU has it), chosen at run time from the CPU's features, so
// that a plain `go build` gets them: no cgo, no GOEXPERIMENT. SgemmBF16Dot (gemm_bf16dot.go), the
// product of bf16 training, rounds A to bf16 and runs on VDPBF16PS where the CPU has AVX512_BF16. Other machines, and amd64 without AVX2,
// run a pure-Go path with the same packing and blocking structure. See docs/architecture.md, "Why the
// compute is hand-written", for the measurements behind this.
//
// All matrices are row-major with a leading dimension (the distance between rows, in elements), as in
// CBLAS with CblasRowMajor.
package cpu

import (
	"fmt"
	"sync"
	"unsafe"

	"seal/models/safetensors"
)

// Sgemm computes C[m×n] = alpha·op(A)·op(B) + beta·C with op(X) = Xᵀ when transX, for row-major float32
// matrices: op(A) is m×k (A is stored m×k with row stride lda, or k×m when transA), op(B) is k×n (B is
// stored k×n with row stride ldb, or n×k when transB). The shapes of a Llama layer with weights W stored
// [out, in] as Hugging Face stores them: Y = X·Wᵀ is Sgemm(false, true, ...), dX = dY·W is
// Sgemm(false, false, ...), dW = dYᵀ·X is Sgemm(true, false, ...).
//
// As in BLAS, beta == 0 overwrites C without reading it (NaN or Inf in C do not leak through), and
// beta == 1 accumulates (gradient accumulation). It panics when a dimension is negative, a leading
// dimension is too small, or a slice is too short for the shape.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	p := gemmProblems.Get().(*gemmProblem)
	*p = gemmProblem{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc}
	p.check(len(b))
	p.run()
	*p = gemmProblem{}
	gemmProblems.Put(p)
}

// gemmProblems recycles the record of a call (its parallel tasks hold a pointer to it), so
// a call allocates nothing.
var gemmProblems = sync.Pool{New: func() any { return new(gemmProblem) }}

// SgemmBF16 is Sgemm with B stored as bfloat16 (each uint16 is the top half of a float32). B is widened to
// float32 while it is packed for the kernel, so weights can stay bf16 in memory (half the bytes) while the
// arithmetic is float32. The result equals Sgemm on B widened to float32.
func SgemmBF16(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []uint16, ldb int, beta float32, c []float32, ldc int) {
	p := gemmProblems.Get().(*gemmProblem)
	*p = gemmProblem{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, lda: lda, bh: b, ldb: ldb, c: c, ldc: ldc}
	p.check(len(b))
	p.run()
	*p = gemmProblem{}
	gemmProblems.Put(p)
}

// gemmProblem is one Sgemm call. Exactly one of b and bh is set. dot (bh set, A not transposed) runs
// the bf16 dot kernels on panels of bf16 pairs (gemm_bf16dot.go).
type gemmProblem struct {
	transA, transB bool
	dot            bool
	m, n, k        int
	alpha, beta    float32
	a              []float32
	lda            int
	b              []float32
	bh             []uint16
	ldb            int
	c              []float32
	ldc            int
	roundA         bool // A is rounded to bf16 as packA packs it (SgemmBF16Dot without the dot kernels)
}

// gemmSpan is how many elements a rows×cols row-major matrix with row stride ld spans.
func gemmSpan(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

func (p *gemmProblem) check(lenB int) {
	if p.m < 0 || p.n < 0 || p.k < 0 {
		panic(fmt.Sprintf("cpu: Sgemm: negative dimension m=%d n=%d k=%d", p.m, p.n, p.k))
	}
	ar, ac := p.m, p.k
	if p.transA {
		ar, ac = p.k, p.m
	}
	br, bc := p.k, p.n
	if p.transB {
		br, bc = p.n, p.k
	}
	if p.m == 0 || p.n == 0 {
		return // nothing is read or written
	}
	if p.ldc < p.n {
		panic(fmt.Sprintf("cpu: Sgemm: ldc=%d < n=%d", p.ldc, p.n))
	}
	if len(p.c) < gemmSpan(p.m, p.n, p.ldc) {
		panic(fmt.Sprintf("cpu: Sgemm: len(c)=%d, want at least %d", len(p.c), gemmSpan(p.m, p.n, p.ldc)))
	}
	if p.k == 0 {
		return // A and B are not read
	}
	if p.lda < ac || p.ldb < bc {
		panic(fmt.Sprintf("cpu: Sgemm: leading dimension too small: lda=%d (A is %d×%d) ldb=%d (B is %d×%d)",
			p.lda, ar, ac, p.ldb, br, bc))
	}
	if len(p.a) < gemmSpan(ar, ac, p.lda) {
		panic(fmt.Sprintf("cpu: Sgemm: len(a)=%d, want at least %d", len(p.a), gemmSpan(ar, ac, p.lda)))
	}
	if lenB < gemmSpan(br, bc, p.ldb) {
		panic(fmt.Sprintf("cpu: Sgemm: len(b)=%d, want at least %d", lenB, gemmSpan(br, bc, p.ldb)))
	}
}

// gemmScaleC sets C = beta·C (C = 0 when beta == 0, whatever C held).
func gemmScaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else if beta != 1 {
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// gemmKernel is a register-tile micro-kernel and the cache blocking that suits it.
//
// full computes the mr×nr tile C = alpha·Ap·Bp + beta·C over kc steps, where Ap holds kc groups of mr
// values of A (one per row) and Bp holds kc groups of nr values of B (one per column), both packed
// contiguously; c has row stride ldc. beta == 0 must not read C.
type gemmKernel struct {
	mr, nr     int
	kc, mc, nc int // blocking: a kc×nc block of B is packed once, reused for all rows; an mc×kc block of A sits in L2
	ncPar      int // nc when threads share the B block (it sits in the shared L3)
	full       func(kc int, a, b, c *float32, ldc int, alpha, beta float32)
}

// kcFor is the depth of the k blocks for a product of depth k: at most kern.kc, and even (1024 is 4×256,
// not 3×320 + 64, so that no block is a short one that pays the C traffic for little work), rounded up
// to a multiple of 8 for the 8×8 packing transposes.
func (kern *gemmKernel) kcFor(k int) int {
	blocks := (k + kern.kc - 1) / kern.kc
	return min(kern.kc, ((k+blocks-1)/blocks+7)&^7)
}

// Below minParallelFlops (2·m·n·k) a call stays on the calling goroutine: handing out work costs a few
// microseconds, which is the whole of a small product.
const minParallelFlops = 1 << 22

func (p *gemmProblem) run() {
	if p.m == 0 || p.n == 0 {
		return
	}
	if p.k == 0 || p.alpha == 0 {
		gemmScaleC(p.m, p.n, p.beta, p.c, p.ldc)
		return
	}
	if p.smallRowsPath() {
		p.smallRows()
		return
	}
	if p.fewRowsPath() {
		p.fewRows()
		return
	}
	kern := &activeKernels.gemm
	if p.dot {
		kern = activeKernels.dot
	} else if p.m <= activeKernels.narrow.mr || p.n <= activeKernels.narrow.nr {
		kern = &activeKernels.narrow // e.g. a LoRA rank-8 product: 32-wide tiles would be 3/4 padding
	}
	threads := callThreads()
	if 2*float64(p.m)*float64(p.n)*float64(p.k) < minParallelFlops {
		threads = 1
	}
	if threads == 1 {
		kd := p.depth(kern.kcFor(p.k))
		ws := getWorkspace(gemmRoundUp(min(kern.mc, p.m), kern.mr)*kd, kd*gemmRoundUp(min(kern.nc, p.n), kern.nr))
		p.block(kern, ws, 0, p.m, 0, p.n)
		gemmWSPool.Put(ws)
		return
	}
	p.parallel(kern, threads)
}

// smallRowsPath and fewRowsPath say which of run's unpacked paths takes p: there A is read in place,
// everywhere else through packA.
func (p *gemmProblem) smallRowsPath() bool {
	return p.transB && p.m <= activeKernels.maxSmall && !p.dot
}

func (p *gemmProblem) fewRowsPath() bool { return p.m <= maxFewRows && !p.dot }

// parallel is the multi-threaded driver. For each kc×nc block of B: the threads pack it together into
// one shared buffer (it lives in the shared L3), then share out the work on it as a grid of tasks, an
// mc-high block of rows (its A packed by whoever takes the task, into that thread's L2) by a range of
// columns. Tasks are handed out dynamically, so a core that is busy with something else slows the call
// down by its share only. A and B are each packed once per block, as in the single-threaded case.
func (p *gemmProblem) parallel(kern *gemmKernel, threads int) {
	mr, nr := kern.mr, kern.nr
	nc := min(kern.ncPar, gemmRoundUp(p.n, nr))
	kcStep := kern.kcFor(p.k)
	shared := getGemmShared(p.depth(kcStep) * nc)
	bbuf := shared.b
	blk := gemmBlocks.Get().(*gemmBlock)
	// Rows: blocks of at most mc, evened out (so that 512 rows make 4×128, not 3×144 + 80).
	mBlocks := (p.m + kern.mc - 1) / kern.mc
	mc := gemmRoundUp((p.m+mBlocks-1)/mBlocks, mr)
	mBlocks = (p.m + mc - 1) / mc
	for jc := 0; jc < p.n; jc += nc {
		ncur := min(nc, p.n-jc)
		strips := (ncur + nr - 1) / nr
		// Columns: enough ranges that there are at least 2 tasks per thread (for balance), each at
		// least a few micro-panels wide.
		nSub := min(max(1, (2*threads+mBlocks-1)/mBlocks), max(1, strips/4))
		subW := (strips + nSub - 1) / nSub * nr
		nSub = (ncur + subW - 1) / subW
		packStrips := max(1, (strips+2*threads-1)/(2*threads))
		for pc := 0; pc < p.k; pc += kcStep {
			kc := min(kcStep, p.k-pc)
			beta := p.beta
			if pc > 0 {
				beta = 1
			}
			*blk = gemmBlock{p: p, kern: kern, bbuf: bbuf, pc: pc, kc: kc, jc: jc, ncur: ncur, packStrips: packStrips,
				nSub: nSub, subW: subW, mc: mc, beta: beta}
			parallelDo((strips+packStrips-1)/packStrips, threads, (*gemmPackTasks)(blk))
			parallelDo(mBlocks*nSub, threads, (*gemmMacroTasks)(blk))
		}
	}
	*blk = gemmBlock{}
	gemmBlocks.Put(blk)
	gemmSharedPool.Put(shared)
}

// gemmBlock is one kc×nc block of a parallel call: first its B is packed (gemmPackTasks: task g is
// packStrips micro-panels), then the products on it are shared out (gemmMacroTasks: task t is an
// mc-high block of rows by a range of columns). Pooled, so a call allocates nothing.
type gemmBlock struct {
	p                            *gemmProblem
	kern                         *gemmKernel
	bbuf                         []float32
	pc, kc, jc, ncur, packStrips int
	nSub, subW, mc               int
	beta                         float32
}

type (
	gemmPackTasks  gemmBlock
	gemmMacroTasks gemmBlock
)

var gemmBlocks = sync.Pool{New: func() any { return new(gemmBlock) }}

func (b *gemmPackTasks) task(g int) {
	nr := b.kern.nr
	j0 := g * b.packStrips * nr
	b.p.packB(b.bbuf[j0*b.p.depth(b.kc):], nr, b.pc, b.kc, b.jc+j0, min(b.packStrips*nr, b.ncur-j0))
}

func (b *gemmMacroTasks) task(t int) {
	p, mr := b.p, b.kern.mr
	ic, j0 := (t/b.nSub)*b.mc, (t%b.nSub)*b.subW
	mcur, w := min(b.mc, p.m-ic), min(b.subW, b.ncur-j0)
	kd := p.depth(b.kc)
	ws := getWorkspace(gemmRoundUp(mcur, mr)*kd, 0)
	p.packA(ws.a, mr, ic, mcur, b.pc, b.kc)
	p.macro(b.kern, ws, ws.a, b.bbuf[j0*kd:], ic, mcur, b.jc+j0, w, kd, b.beta)
	gemmWSPool.Put(ws)
}

// gemmSharedB is the B block that the threads of one parallel call share.
type gemmSharedB struct{ b []float32 }

var gemmSharedPool sync.Pool

func getGemmShared(n int) *gemmSharedB {
	s, _ := gemmSharedPool.Get().(*gemmSharedB)
	if s == nil {
		s = new(gemmSharedB)
	}
	if len(s.b) < n {
		s.b = gemmAlignedFloats(n)
	}
	return s
}

// gemmWorkspace holds one goroutine's packing buffers, reused through gemmWSPool, so that steady-state calls
// allocate nothing large.
type gemmWorkspace struct {
	a, b []float32
	tmp  [gemmMaxTile]float32 // an edge tile, computed whole and then merged into C
}

const gemmMaxTile = 16 * 32

var gemmWSPool sync.Pool

// gemmAlignedFloats returns n float32s starting on a 64-byte boundary (a cache line), for whole-line
// vector loads of the packed panels.
func gemmAlignedFloats(n int) []float32 {
	s := make([]float32, n+16)
	off := int(uintptr(unsafe.Pointer(&s[0]))&63) / 4
	if off != 0 {
		off = 16 - off
	}
	return s[off : off+n : off+n]
}

// getWorkspace returns a workspace with room for na floats of packed A and nb of packed B (the pooled
// buffers only ever grow, so a steady state of calls allocates nothing).
func getWorkspace(na, nb int) *gemmWorkspace {
	ws, _ := gemmWSPool.Get().(*gemmWorkspace)
	if ws == nil {
		ws = new(gemmWorkspace)
	}
	if len(ws.a) < na {
		ws.a = gemmAlignedFloats(na)
	}
	if len(ws.b) < nb {
		ws.b = gemmAlignedFloats(nb)
	}
	return ws
}

// gemmRoundUp rounds n up to a multiple of r.
func gemmRoundUp(n, r int) int { return (n + r - 1) / r * r }

// block computes rows [i0, i1) and columns [j0, j1) of C, the Goto/BLIS way: for each nc-wide column
// panel and kc-deep slice, pack B[kc×nc] once, then for each mc-high row block pack A[mc×kc] and run the
// micro-kernel over the tiles, B's micro-panel (kc×nr) staying in L1 across the rows of the block.
func (p *gemmProblem) block(kern *gemmKernel, ws *gemmWorkspace, i0, i1, j0, j1 int) {
	mr, nr := kern.mr, kern.nr
	kcStep := kern.kcFor(p.k)
	for jc := j0; jc < j1; jc += kern.nc {
		nc := min(kern.nc, j1-jc)
		for pc := 0; pc < p.k; pc += kcStep {
			kc := min(kcStep, p.k-pc)
			p.packB(ws.b, nr, pc, kc, jc, nc)
			beta := p.beta
			if pc > 0 {
				beta = 1 // later slices of k accumulate onto the first
			}
			for ic := i0; ic < i1; ic += kern.mc {
				mc := min(kern.mc, i1-ic)
				p.packA(ws.a, mr, ic, mc, pc, kc)
				p.macro(kern, ws, ws.a, ws.b, ic, mc, jc, nc, p.depth(kc), beta)
			}
		}
	}
}

// macro runs the micro-kernel over C[ic:ic+mc, jc:jc+nc] from a packed mc×kc block of A and a packed
// kc×nc block of B: B's micro-panel (kc×nr) stays in L1 while the rows of the A block stream past it.
// Edge tiles are computed whole into ws.tmp and merged, so the kernels only ever see full tiles. kc here
// is the packed depth (p.depth: pairs of k steps for the dot kernels).
func (p *gemmProblem) macro(kern *gemmKernel, ws *gemmWorkspace, ap, bp []float32, ic, mc, jc, nc, kc int, beta float32) {
	mr, nr := kern.mr, kern.nr
	for jr := 0; jr < nc; jr += nr {
		nrc := min(nr, nc-jr)
		b := &bp[jr*kc]
		for ir := 0; ir < mc; ir += mr {
			mrc := min(mr, mc-ir)
			a := &ap[ir*kc]
			off := (ic+ir)*p.ldc + jc + jr
			if mrc == mr && nrc == nr {
				kern.full(kc, a, b, &p.c[off], p.ldc, p.alpha, beta)
				continue
			}
			kern.full(kc, a, b, &ws.tmp[0], nr, 1, 0)
			gemmMergeTile(p.c[off:], p.ldc, ws.tmp[:], nr, mrc, nrc, p.alpha, beta)
		}
	}
}

// gemmMergeTile sets C = alpha·T + beta·C on the top-left mrc×nrc corner of a tile (C is not read when
// beta == 0).
func gemmMergeTile(c []float32, ldc int, t []float32, ldt, mrc, nrc int, alpha, beta float32) {
	for i := 0; i < mrc; i++ {
		crow := c[i*ldc : i*ldc+nrc]
		trow := t[i*ldt : i*ldt+nrc]
		if beta == 0 {
			for j := range crow {
				crow[j] = alpha * trow[j]
			}
		} else {
			for j := range crow {
				crow[j] = alpha*trow[j] + beta*crow[j]
			}
		}
	}
}

// packA copies op(A)[i0:i0+mc, p0:p0+kc] into dst as mr-row micro-panels: panel s holds, for each of the
// kc steps, the mr values of rows i0+s·mr... (zeros past the last row).
func (p *gemmProblem) packA(dst []float32, mr, i0, mc, p0, kc int) {
	if p.dot {
		p.packAPairs(dst, mr, i0, mc, p0, kc)
		return
	}
	a, lda := p.a, p.lda
	for s := 0; s < mc; s += mr {
		rows := min(mr, mc-s)
		d := dst[s*kc : (s+mr)*kc]
		if !p.transA {
			done := 0 // k steps packed by the assembly transpose
			if rows == mr {
				done = packARowsFast(d, a, lda, i0+s, p0, kc, mr)
			}
			for i := 0; i < rows; i++ {
				src := a[(i0+s+i)*lda+p0+done : (i0+s+i)*lda+p0+kc]
				for q, v := range src {
					d[(done+q)*mr+i] = v
				}
			}
		} else if rows != mr || !packATransFast(d, a, lda, i0+s, p0, kc, mr) {
			for q := 0; q < kc; q++ {
				src := a[(p0+q)*lda+i0+s : (p0+q)*lda+i0+s+rows]
				copy(d[q*mr:q*mr+rows], src)
			}
		}
		if rows < mr {
			for q := 0; q < kc; q++ {
				clear(d[q*mr+rows : q*mr+mr])
			}
		}
		if p.roundA {
			for q, v := range d[:kc*mr] {
				d[q] = gemmWidenBF16(safetensors.F32ToBF16(v))
			}
		}
	}
}

// packB copies op(B)[p0:p0+kc, j0:j0+nc] into dst as nr-column micro-panels: panel t holds, for each of
// the kc steps, the nr values of columns j0+t·nr... (zeros past the last column). bf16 B is widened here.
func (p *gemmProblem) packB(dst []float32, nr, p0, kc, j0, nc int) {
	if p.dot {
		p.packBPairs(dst, nr, p0, kc, j0, nc)
		return
	}
	ldb := p.ldb
	t0 := 0 // columns packed by the row-order assembly (B not transposed)
	if !p.transB {
		t0 = packBRowsFast(dst, p.b, p.bh, ldb, p0, kc, j0, nc, nr)
	}
	for t := t0; t < nc; t += nr {
		cols := min(nr, nc-t)
		d := dst[t*kc : (t+nr)*kc]
		done := 0 // k steps packed by the assembly transposes (B transposed)
		switch {
		case p.b != nil && !p.transB:
			for q := 0; q < kc; q++ {
				copy(d[q*nr:q*nr+cols], p.b[(p0+q)*ldb+j0+t:(p0+q)*ldb+j0+t+cols])
			}
		case p.b != nil && p.transB:
			if cols == nr {
				done = packBTransFast(d, p.b, ldb, j0+t, p0, kc, nr)
			}
			for j := 0; j < cols; j++ {
				src := p.b[(j0+t+j)*ldb+p0+done : (j0+t+j)*ldb+p0+kc]
				for q, v := range src {
					d[(done+q)*nr+j] = v
				}
			}
		case !p.transB:
			for q := 0; q < kc; q++ {
				src := p.bh[(p0+q)*ldb+j0+t : (p0+q)*ldb+j0+t+cols]
				dq := d[q*nr : q*nr+cols]
				for j, h := range src {
					dq[j] = gemmWidenBF16(h)
				}
			}
		default:
			if cols == nr {
				done = packBTransBF16Fast(d, p.bh, ldb, j0+t, p0, kc, nr)
			}
			for j := 0; j < cols; j++ {
				src := p.bh[(j0+t+j)*ldb+p0+done : (j0+t+j)*ldb+p0+kc]
				for q, h := range src {
					d[(done+q)*nr+j] = gemmWidenBF16(h)
				}
			}
		}
		if cols < nr {
			for q := 0; q < kc; q++ {
				clear(d[q*nr+cols : q*nr+nr])
			}
		}
	}
}

// gemmWidenBF16 widens a bfloat16 (the top 16 bits of a float32) to float32 exactly.
func gemmWidenBF16(h uint16) float32 {
	u := uint32(h) << 16
	return *(*float32)(unsafe.Pointer(&u))
}
