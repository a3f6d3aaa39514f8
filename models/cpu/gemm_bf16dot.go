package cpu

import (
	"math"
	"sync"

	"seal/models/safetensors"
)

// SgemmBF16Dot computes C[m×n] = alpha·bf16(A)·op(B) + beta·C for float32 A (m×k, not transposed) and
// bfloat16 B: the product of a bf16 model, whose activations are bf16. Every element of A is first
// rounded to bf16 (nearest, ties to even, as torch rounds); the products of two bf16 values are exact in
// float32 and are summed in float32. It is SgemmBF16 with A rounded, so its results differ from
// SgemmBF16's by A's rounding (about 2^-9 relative per term), which is why it is a separate, opt-in
// call: the training of a bf16 model uses it (MatMulBF16), nothing that expects float32 math does.
//
// Where the CPU has AVX512_BF16 and m >= minDotRows, the products run on VDPBF16PS (two k steps of 16
// columns per instruction, from operands half the size: twice the f32 FMA kernel's rate), with A and B
// packed as bf16 pairs; otherwise the float32 kernels run on A rounded as it is packed (runRoundedA). The two
// differ only in the order of the float32 sums. (VDPBF16PS treats subnormal bf16 inputs as zero; the
// float32 path keeps them. Below 1.2e-38, that is.)
func SgemmBF16Dot(transB bool, m, n, k int, alpha float32, a []float32, lda int, b []uint16, ldb int, beta float32, c []float32, ldc int) {
	p := gemmProblems.Get().(*gemmProblem)
	*p = gemmProblem{transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, lda: lda, bh: b, ldb: ldb, c: c, ldc: ldc}
	p.check(len(b))
	if activeKernels.dot != nil && m >= minDotRows && n > 0 && k > 0 && alpha != 0 {
		p.dot = true
		p.run()
	} else {
		p.runRoundedA()
	}
	*p = gemmProblem{}
	gemmProblems.Put(p)
}

// minDotRows is the fewest rows of A that the bf16 dot kernels take. `go test ./models/cpu -run '^$'
// -bench SgemmBF16DotRows -benchtime 10x` (2048×8192 B, loaded machine, one run, best GFLOP/s f32 → dot)
// gave, B transposed: 16 rows 121 → 110 (the few-rows kernel reads B once and needs no packing), 24 rows
// 92 → 146, 32 rows 91 → 173; B not transposed: 16 rows 64 → 97, 24 rows 95 → 164.
const minDotRows = 24

// runRoundedA is the path without the dot kernels: the float32 SgemmBF16 on A rounded to bf16. Where the
// product packs A, packA rounds each panel as it packs it; the few-rows paths read A in place, so there
// A is rounded into a float32 copy first (at most maxSmall or maxFewRows rows). A copy of the whole of A
// was 64 MiB for a chunk of the 1B lm_head's backward (128 rows of dlogits over the 128,256-word
// vocabulary), which the pool then kept: 3.54 GB of peak training memory against 3.46 on a machine with
// the dot kernels.
func (p *gemmProblem) runRoundedA() {
	if p.m == 0 || p.n == 0 || p.k == 0 || p.alpha == 0 {
		p.run()
		return
	}
	if !p.smallRowsPath() && !p.fewRowsPath() {
		p.roundA = true
		p.run()
		return
	}
	buf := gemmRoundedPool.Get().(*[]float32)
	if cap(*buf) < p.m*p.k {
		*buf = make([]float32, p.m*p.k)
	}
	r := (*buf)[:p.m*p.k]
	for i := 0; i < p.m; i++ {
		src, dst := p.a[i*p.lda:i*p.lda+p.k], r[i*p.k:(i+1)*p.k]
		for q, v := range src {
			dst[q] = gemmWidenBF16(safetensors.F32ToBF16(v))
		}
	}
	p.a, p.lda = r, p.k
	p.run()
	gemmRoundedPool.Put(buf)
}

var gemmRoundedPool = sync.Pool{New: func() any { return new([]float32) }}

// depth is how many packed steps a kc-deep slice of k takes: kc float32 values, or (kc+1)/2 bf16 pairs
// (the last pair of an odd kc padded with zero).
func (p *gemmProblem) depth(kc int) int {
	if p.dot {
		return (kc + 1) / 2
	}
	return kc
}

// packAPairs is packA for the dot kernels: mr-row micro-panels where step q holds, for each row i, the
// 32-bit word bf16(A[i][p0+2q]) | bf16(A[i][p0+2q+1])<<16 (zero past the last row, and past k). A full
// panel's rows are rounded into a row-major scratch (vector code) and then transposed as 32-bit words by
// packA's assembly; a scalar loop doing both was a third of the dot kernel's own time.
func (p *gemmProblem) packAPairs(dst []float32, mr, i0, mc, p0, kc int) {
	kd := p.depth(kc)
	sc := gemmPairScratch.Get().(*[]float32)
	if len(*sc) < mr*kd {
		*sc = make([]float32, mr*kd)
	}
	for s := 0; s < mc; s += mr {
		rows := min(mr, mc-s)
		d := dst[s*kd : (s+mr)*kd]
		for i := 0; i < rows; i++ {
			roundBF16Pairs((*sc)[i*kd:(i+1)*kd], p.a[(i0+s+i)*p.lda+p0:(i0+s+i)*p.lda+p0+kc])
		}
		done := 0 // steps transposed by the assembly
		if rows == mr {
			done = packARowsFast(d, *sc, kd, 0, 0, kd, mr)
		}
		for i := 0; i < rows; i++ {
			for q := done; q < kd; q++ {
				d[q*mr+i] = (*sc)[i*kd+q]
			}
		}
		for i := rows; i < mr; i++ {
			for q := 0; q < kd; q++ {
				d[q*mr+i] = 0
			}
		}
	}
	gemmPairScratch.Put(sc)
}

var gemmPairScratch = sync.Pool{New: func() any { return new([]float32) }}

// roundBF16Pairs writes src rounded to bf16 as pairs: dst[q] = bf16(src[2q]) | bf16(src[2q+1])<<16, the
// high half zero for an odd length's last value.
func roundBF16Pairs(dst, src []float32) {
	done := roundBF16PairsFast(dst, src)
	q := done / 2
	for ; 2*q+1 < len(src); q++ {
		dst[q] = math.Float32frombits(uint32(safetensors.F32ToBF16(src[2*q])) | uint32(safetensors.F32ToBF16(src[2*q+1]))<<16)
	}
	if 2*q < len(src) {
		dst[q] = math.Float32frombits(uint32(safetensors.F32ToBF16(src[2*q])))
	}
}

// packBPairs is packB for the dot kernels: nr-column micro-panels where step q holds, for each column j,
// the word op(B)[p0+2q][j] | op(B)[p0+2q+1][j]<<16 (zero past the last column, and past k). For B stored
// n×k (Y = X·Wᵀ) a column's pairs are adjacent in memory, so this is a transpose of 32-bit words; for B
// stored k×n (dX = dY·W) it interleaves two rows.
func (p *gemmProblem) packBPairs(dst []float32, nr, p0, kc, j0, nc int) {
	kd := p.depth(kc)
	b, ldb := p.bh, p.ldb
	t0 := 0 // columns packed by the assembly (B not transposed)
	if !p.transB {
		t0 = packBPairRowsFast(dst, b, ldb, p0, kc, j0, nc, nr)
	}
	for t := t0; t < nc; t += nr {
		cols := min(nr, nc-t)
		d := dst[t*kd : (t+nr)*kd]
		done := 0 // pair steps packed by the assembly transpose (B transposed)
		if p.transB {
			if cols == nr {
				done = packBPairTransFast(d, b, ldb, j0+t, p0, kc, nr)
			}
			for j := 0; j < cols; j++ {
				src := b[(j0+t+j)*ldb+p0 : (j0+t+j)*ldb+p0+kc]
				for q := done; q < kd; q++ {
					w := uint32(src[2*q])
					if 2*q+1 < kc {
						w |= uint32(src[2*q+1]) << 16
					}
					d[q*nr+j] = math.Float32frombits(w)
				}
			}
		} else {
			for q := 0; q < kd; q++ {
				lo := b[(p0+2*q)*ldb+j0+t : (p0+2*q)*ldb+j0+t+cols]
				dq := d[q*nr : q*nr+cols]
				if 2*q+1 < kc {
					hi := b[(p0+2*q+1)*ldb+j0+t : (p0+2*q+1)*ldb+j0+t+cols]
					for j := range dq {
						dq[j] = math.Float32frombits(uint32(lo[j]) | uint32(hi[j])<<16)
					}
				} else {
					for j := range dq {
						dq[j] = math.Float32frombits(uint32(lo[j]))
					}
				}
			}
		}
		if cols < nr {
			for q := 0; q < kd; q++ {
				clear(d[q*nr+cols : q*nr+nr])
			}
		}
	}
}
