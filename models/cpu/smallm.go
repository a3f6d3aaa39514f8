package cpu

import "sync"

//go:generate go run gen_smallm.go

// The few-rows product: C[m×n] = alpha·A·Bᵀ + beta·C with B stored n×k ([out, in], a layer's weights)
// and m small, the decode of a batch of sequences (SEAL decodes the k candidates of a prompt as one
// batch). A GEMM would pack B for every call, and a matrix-vector product per row of A would read B m
// times; here B streams from memory once: four rows of B at a time are loaded (and widened, for bf16)
// once and dotted with every row of A, which stays in cache. So the time is that of one pass over B as
// long as the arithmetic keeps up with the memory (at m = 5 and bf16 it is the FMA units that bound it
// on the 2-core Zen 5: see models/README.md, "Decoding a batch").

// smallMGroup is the most rows of A one kernel call handles (its accumulators fill the registers); more
// rows are done in groups, each reading the four rows of B again from L1/L2, not from memory.
const smallMGroup = 6

// maxSmallRowsAVX512 is the most rows of A for which the AVX-512 few-rows kernels beat packing B for
// the GEMM kernel (BenchmarkSmallRows).
const maxSmallRowsAVX512 = 16

// maxSmallRowsAVX2 is the same for the AVX2 kernels. On a 2-core AVX2 EPYC (BenchmarkSmallRows,
// 1B MLP shapes) they beat the packed GEMM at every count measured, 2.2-2.6x at 5 rows, 1.5-1.6x at
// 16, 1.0-1.4x at 24; 16 as for AVX-512.
const maxSmallRowsAVX2 = 16

// smallMKernels names the kernels a kernelSet uses for the few-rows product: each computes
// out[i·4 + r] = Σ_{q<k} x[i·ldx + q]·B[r·ldb + q] for r < 4 and i < rows (rows <= smallMGroup). The
// assembly ones need k to be a multiple of kAlign; the caller sums the rest. They are called directly
// (smallMF32, smallMBF16), not through func values, so that out stays on the caller's stack.
type smallMKernels struct {
	name   string
	isa    smallMISA
	kAlign int
}

// smallMISA says which kernels of a set run: the Go ones, or those of smallm_amd64.s.
type smallMISA int

const (
	smallMInGo smallMISA = iota
	smallMInAVX512
	smallMInAVX2
)

var (
	smallMGo     = smallMKernels{name: "Go", isa: smallMInGo, kAlign: 1}
	smallMAVX512 = smallMKernels{name: "avx512", isa: smallMInAVX512, kAlign: 16}
	smallMAVX2   = smallMKernels{name: "avx2", isa: smallMInAVX2, kAlign: 16}
)

func (s *smallMKernels) f32(rows, k int, b []float32, ldb int, x []float32, ldx int, out *[4 * smallMGroup]float32) {
	switch s.isa {
	case smallMInAVX2:
		smallMF32AVX2(rows, k, b, ldb, x, ldx, out)
		return
	case smallMInAVX512:
		smallMF32Asm(rows, k, b, ldb, x, ldx, out)
		return
	}
	smallMF32Go(rows, k, b, ldb, x, ldx, out)
}

func (s *smallMKernels) bf16(rows, k int, b []uint16, ldb int, x []float32, ldx int, out *[4 * smallMGroup]float32) {
	switch s.isa {
	case smallMInAVX2:
		smallMBF16AVX2(rows, k, b, ldb, x, ldx, out)
		return
	case smallMInAVX512:
		smallMBF16Asm(rows, k, b, ldb, x, ldx, out)
		return
	}
	smallMBF16Go(rows, k, b, ldb, x, ldx, out)
}

// smallRows runs the few-rows product (p.transB, p.m <= activeKernels.maxSmall). B is split by rows
// across the worker pool (each of its rows is one column of C); the call's state lives in a pooled
// smallRowsTask, so it allocates nothing.
func (p *gemmProblem) smallRows() {
	m, k, n := p.m, p.k, p.n
	f := smallRowsPool.Get().(*smallRowsTask)
	f.p, f.kern = *p, activeKernels.smallM
	if p.transA { // the rows of A, gathered contiguous
		f.buf = gemvScratch(m * k)
		at := (*f.buf)[:m*k]
		for q := 0; q < k; q++ {
			for i, v := range p.a[q*p.lda : q*p.lda+m] {
				at[i*k+q] = v
			}
		}
		f.p.a, f.p.lda = at, k
	}
	// Up to 8 rows the time is that of reading W (a core does 8-16 FMAs in the time memory delivers
	// one weight, bf16 or f32); beyond, the arithmetic grows with the rows. Below minParallelGemv
	// weights a call stays on one thread, as a matrix-vector product does: at 5 rows a 256×256
	// product takes a few microseconds, about what waking a helper costs.
	threads := callThreads()
	if n*k*max(8, m) < 8*minParallelGemv {
		threads = 1
	}
	// Chunks of a multiple of 4 rows of B, two per thread (dynamically handed out: a busy core takes fewer).
	f.chunk = max(4, (n+2*threads-1)/(2*threads)+3) &^ 3
	parallelDo((n+f.chunk-1)/f.chunk, threads, f)
	if f.buf != nil {
		gemvScratchPool.Put(f.buf)
	}
	*f = smallRowsTask{}
	smallRowsPool.Put(f)
}

type smallRowsTask struct {
	p     gemmProblem // A stored untransposed here (gathered into buf when it was not)
	kern  *smallMKernels
	chunk int
	buf   *[]float32
}

var smallRowsPool = sync.Pool{New: func() any { return new(smallRowsTask) }}

// task t computes C[:, j0:j1] for the t-th chunk of rows of B.
func (f *smallRowsTask) task(t int) {
	p := &f.p
	j0, j1 := t*f.chunk, min((t+1)*f.chunk, p.n)
	// Groups of A's rows as even as they come (8 rows: 4+4, not 6+2), each at most smallMGroup.
	groups := (p.m + smallMGroup - 1) / smallMGroup
	var out [4 * smallMGroup]float32
	for j := j0; j < j1; j += 4 {
		nb := min(4, j1-j)
		for g, i0 := 0, 0; g < groups; g++ {
			rows := (p.m - i0) / (groups - g)
			f.block(j, nb, i0, rows, &out)
			for i := 0; i < rows; i++ {
				for r := 0; r < nb; r++ {
					c := &p.c[(i0+i)*p.ldc+j+r]
					if p.beta == 0 {
						*c = p.alpha * out[i*4+r]
					} else {
						*c = p.alpha*out[i*4+r] + p.beta**c
					}
				}
			}
			i0 += rows
		}
	}
}

// block sets out[i·4 + r] = A[i0+i, :]·B[j+r, :] for i < rows, r < nb (nb <= 4; with fewer than four rows
// of B left, the missing ones are done in Go).
func (f *smallRowsTask) block(j, nb, i0, rows int, out *[4 * smallMGroup]float32) {
	p := &f.p
	k, lda, ldb := p.k, p.lda, p.ldb
	x := p.a[i0*lda : (i0+rows-1)*lda+k]
	kk := 0
	if nb == 4 {
		kk = k / f.kern.kAlign * f.kern.kAlign
	}
	if kk > 0 {
		if p.bh != nil {
			f.kern.bf16(rows, kk, p.bh[j*ldb:(j+3)*ldb+k], ldb, x, lda, out)
		} else {
			f.kern.f32(rows, kk, p.b[j*ldb:(j+3)*ldb+k], ldb, x, lda, out)
		}
	} else {
		clear(out[:])
	}
	if kk == k {
		return // (a layer's width is a multiple of 16: no rest to do)
	}
	// The rest of k (and the last rows of B when fewer than four are left), in Go.
	for i := 0; i < rows; i++ {
		xi := x[i*lda+kk : i*lda+k]
		for r := 0; r < nb; r++ {
			var s0, s1 float32
			if p.bh != nil {
				row := p.bh[(j+r)*ldb+kk : (j+r)*ldb+k]
				q := 0
				for ; q+1 < len(row); q += 2 {
					s0 += xi[q] * gemmWidenBF16(row[q])
					s1 += xi[q+1] * gemmWidenBF16(row[q+1])
				}
				if q < len(row) {
					s0 += xi[q] * gemmWidenBF16(row[q])
				}
			} else {
				row := p.b[(j+r)*ldb+kk : (j+r)*ldb+k]
				q := 0
				for ; q+1 < len(row); q += 2 {
					s0 += xi[q] * row[q]
					s1 += xi[q+1] * row[q+1]
				}
				if q < len(row) {
					s0 += xi[q] * row[q]
				}
			}
			out[i*4+r] += s0 + s1
		}
	}
}

// smallMF32Go is the kernel in Go, for machines without the assembly: rows of A two at a time against
// rows of B two at a time (a 2×2 block: four accumulators, each loaded value used twice).
func smallMF32Go(rows, k int, b []float32, ldb int, x []float32, ldx int, out *[4 * smallMGroup]float32) {
	smallMBlocks(rows, k, b, ldb, x, ldx, out, smallMDot2x2F32)
}

// smallMBF16Go is smallMF32Go with B in bf16.
func smallMBF16Go(rows, k int, b []uint16, ldb int, x []float32, ldx int, out *[4 * smallMGroup]float32) {
	smallMBlocks(rows, k, b, ldb, x, ldx, out, smallMDot2x2BF16)
}

// smallMBlocks walks the 2×2 blocks for either weight type; dot computes one block (the
// call is per block, not per element, so it costs nothing that shows).
func smallMBlocks[E float32 | uint16](rows, k int, b []E, ldb int, x []float32, ldx int, out *[4 * smallMGroup]float32,
	dot func(x0, x1 []float32, b0, b1 []E) (s00, s01, s10, s11 float32)) {
	b0, b1, b2, b3 := b[:k], b[ldb:ldb+k], b[2*ldb:2*ldb+k], b[3*ldb:3*ldb+k]
	for i := 0; i < rows; i += 2 {
		x0 := x[i*ldx : i*ldx+k]
		x1 := x0 // an odd last row is done twice, stored once
		if i+1 < rows {
			x1 = x[(i+1)*ldx : (i+1)*ldx+k]
		}
		for r := 0; r < 4; r += 2 {
			bb0, bb1 := b0, b1
			if r == 2 {
				bb0, bb1 = b2, b3
			}
			s00, s01, s10, s11 := dot(x0, x1, bb0, bb1)
			out[i*4+r], out[i*4+r+1] = s00, s01
			if i+1 < rows {
				out[(i+1)*4+r], out[(i+1)*4+r+1] = s10, s11
			}
		}
	}
}

// smallMDot2x2F32 returns x0·b0, x0·b1, x1·b0, x1·b1 (all of one length).
func smallMDot2x2F32(x0, x1, b0, b1 []float32) (s00, s01, s10, s11 float32) {
	x1, b0, b1 = x1[:len(x0)], b0[:len(x0)], b1[:len(x0)]
	for q, u := range x0 {
		v, w0, w1 := x1[q], b0[q], b1[q]
		s00 += u * w0
		s01 += u * w1
		s10 += v * w0
		s11 += v * w1
	}
	return
}

// smallMDot2x2BF16 is smallMDot2x2F32 with b0, b1 in bf16.
func smallMDot2x2BF16(x0, x1 []float32, b0, b1 []uint16) (s00, s01, s10, s11 float32) {
	x1, b0, b1 = x1[:len(x0)], b0[:len(x0)], b1[:len(x0)]
	for q, u := range x0 {
		v, w0, w1 := x1[q], gemmWidenBF16(b0[q]), gemmWidenBF16(b1[q])
		s00 += u * w0
		s01 += u * w1
		s10 += v * w0
		s11 += v * w1
	}
	return
}
