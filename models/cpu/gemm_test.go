package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Tolerance: every element of C is compared with a float64 reference, relative to the magnitude of the
// terms that were summed, scale = |alpha|·Σ_p |op(A)[i,p]·op(B)[p,j]| + |beta·C0[i,j]|. A float32 dot
// product of k terms has a rounding error of about sqrt(k)·eps for random data (k·eps in the worst case,
// which blocking over k does not change), so we allow |got - want| <= (4 + 2·sqrt(k))·eps·scale,
// with eps = 2^-23 the float32 machine epsilon.
func gemmTol(k int) float64 { return (4 + 2*math.Sqrt(float64(k))) * 0x1p-23 }

// withKernelPaths runs f once with the kernels this machine selects and once with the generic Go path forced,
// so that both are covered on an AVX2 machine.
func withKernelPaths(t *testing.T, f func(t *testing.T)) {
	t.Run(activeKernels.name, f)
	if activeKernels.name == selectKernels(kernelFeatures{}).name {
		return
	}
	if hostFeatures.avx512 {
		prev := useKernelFeatures(kernelFeatures{avx2FMA: true})
		t.Run(activeKernels.name, f)
		activeKernels = prev
	}
	prev := useKernelFeatures(kernelFeatures{})
	defer func() { activeKernels = prev }()
	t.Run(activeKernels.name, f)
}

func gemmRandSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func gemmToBF16(s []float32) []uint16 {
	h := make([]uint16, len(s))
	for i, v := range s {
		// round to nearest even, as the checkpoint converter does
		u := math.Float32bits(v)
		u += 0x7fff + (u>>16)&1
		h[i] = uint16(u >> 16)
	}
	return h
}

func gemmFromBF16(h []uint16) []float32 {
	s := make([]float32, len(h))
	for i, v := range h {
		s[i] = gemmWidenBF16(v)
	}
	return s
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	padA, padB     int // extra elements per row beyond the width (lda = width + pad)
	padC           int
	threads        int
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d alpha=%g beta=%g pad=%d,%d,%d threads=%d",
		tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.padA, tc.padB, tc.padC, tc.threads)
}

// check runs one case with f32 B and with bf16 B and compares with the float64 reference.
func (tc gemmCase) check(t *testing.T, r *rand.Rand) {
	t.Helper()
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc := ac+tc.padA, bc+tc.padB, tc.n+tc.padC
	a := gemmRandSlice(r, max(0, gemmSpan(ar, ac, lda)))
	b := gemmRandSlice(r, max(0, gemmSpan(br, bc, ldb)))
	c0 := gemmRandSlice(r, max(0, gemmSpan(tc.m, tc.n, ldc)))
	if tc.beta == 0 {
		for i := range c0 {
			c0[i] = float32(math.NaN()) // beta = 0 must overwrite, never read
		}
	}
	bh := gemmToBF16(b)
	for _, bf16 := range []bool{false, true} {
		bref := b
		if bf16 {
			bref = gemmFromBF16(bh)
		}
		c := append([]float32(nil), c0...)
		SetThreads(tc.threads)
		if bf16 {
			SgemmBF16(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bh, ldb, tc.beta, c, ldc)
		} else {
			Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
		}
		SetThreads(0)
		tol := gemmTol(tc.k)
		for i := 0; i < tc.m; i++ {
			for j := 0; j < tc.n; j++ {
				var want, scale float64
				for p := 0; p < tc.k; p++ {
					ia, ib := i*lda+p, p*ldb+j
					if tc.transA {
						ia = p*lda + i
					}
					if tc.transB {
						ib = j*ldb + p
					}
					av, bv := a[ia], bref[ib]
					want += float64(av) * float64(bv)
					scale += math.Abs(float64(av) * float64(bv))
				}
				want *= float64(tc.alpha)
				scale *= math.Abs(float64(tc.alpha))
				if tc.beta != 0 {
					want += float64(tc.beta) * float64(c0[i*ldc+j])
					scale += math.Abs(float64(tc.beta) * float64(c0[i*ldc+j]))
				}
				got := float64(c[i*ldc+j])
				if !(math.Abs(got-want) <= tol*scale) {
					t.Fatalf("%v bf16=%v: C[%d,%d] = %g, want %g (scale %g, tol %g)", tc, bf16, i, j, got, want, scale, tol*scale)
				}
			}
			// the padding between rows of C is not ours to touch
			for j := tc.n; j < ldc && i*ldc+j < len(c); j++ {
				if math.Float32bits(c[i*ldc+j]) != math.Float32bits(c0[i*ldc+j]) {
					t.Fatalf("%v bf16=%v: wrote C[%d,%d] outside the matrix", tc, bf16, i, j)
				}
			}
		}
	}
}

func TestSgemmShapes(t *testing.T) {
	withKernelPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		sizes := []int{1, 2, 3, 5, 12, 13, 17, 33}
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, m := range sizes {
					for _, n := range sizes {
						for _, k := range []int{1, 3, 17, 33} {
							gemmCase{transA: tA, transB: tB, m: m, n: n, k: k, alpha: 1, beta: 0, threads: 1}.check(t, r)
						}
					}
				}
			}
		}
	})
}

func TestSgemmBlocking(t *testing.T) {
	// Shapes that cross every block boundary (kc = 512 and 1024, mc = 96 and 144, nc = 1024, the shared
	// B block's 2048 columns, the 6×16 and 12×32 tiles), with padded leading dimensions, alpha/beta
	// variants and several thread counts.
	withKernelPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		cases := []struct{ m, n, k int }{
			{255, 33, 257}, {33, 255, 300}, {150, 100, 513}, {7, 2100, 40}, {300, 49, 17}, {1, 300, 255},
			{97, 1, 129}, {64, 64, 64}, {146, 66, 256}, {40, 50, 2100}, {290, 2100, 30}, {3, 1500, 200}, {4, 333, 1100},
		}
		ab := []struct{ alpha, beta float32 }{{1, 0}, {1, 1}, {0.5, -2}, {-1.5, 0}}
		for i, sh := range cases {
			for j, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				v := ab[(i+j)%len(ab)]
				gemmCase{transA: tr[0], transB: tr[1], m: sh.m, n: sh.n, k: sh.k, alpha: v.alpha, beta: v.beta,
					padA: (i + j) % 3, padB: 2 * (j % 2), padC: 5 * ((i + j) % 2), threads: 1 + (i+j)%3}.check(t, r)
			}
		}
	})
}

func TestSgemmSpecial(t *testing.T) {
	withKernelPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, tc := range gemmSpecialCases(5) {
			tc.check(t, r)
		}
	})
}

// gemmSpecialCases are the degenerate products with m rows of C, on 2 threads: alpha = 0 and k = 0
// only scale C (and beta = 0 clears NaN); zero-sized shapes do nothing.
func gemmSpecialCases(m int) []gemmCase {
	cases := []gemmCase{
		{m: m, n: 7, k: 0, alpha: 1, beta: 0}, {m: m, n: 7, k: 0, alpha: 1, beta: 2},
		{m: m, n: 7, k: 9, alpha: 0, beta: 0}, {m: m, n: 7, k: 9, alpha: 0, beta: 0.5},
		{m: 0, n: 7, k: 9, alpha: 1, beta: 1}, {m: m, n: 0, k: 9, alpha: 1, beta: 1},
	}
	for i := range cases {
		cases[i].threads = 2
	}
	return cases
}

func TestSgemmPanics(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	a, b, c := make([]float32, 12), make([]float32, 12), make([]float32, 9)
	mustPanic("short c", func() { Sgemm(false, false, 3, 4, 4, 1, a, 4, b, 4, 0, c, 4) })
	mustPanic("small lda", func() { Sgemm(false, false, 3, 3, 4, 1, a, 3, b, 3, 0, c, 3) })
	mustPanic("short b", func() { Sgemm(false, false, 3, 3, 5, 1, a, 4, b, 3, 0, c, 3) })
	mustPanic("negative", func() { Sgemm(false, false, -1, 3, 4, 1, a, 4, b, 3, 0, c, 3) })
}
