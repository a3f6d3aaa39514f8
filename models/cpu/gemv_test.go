package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// checkGemv compares Sgemv and SgemvBF16 with a float64 reference, with the tolerance of gemmTol (the
// dot products have length n, or m for Aᵀ).
func checkGemv(t *testing.T, r *rand.Rand, trans bool, m, n, pad int, alpha, beta float32, threads int) {
	t.Helper()
	lda := n + pad
	a := gemmRandSlice(r, max(0, gemmSpan(m, n, lda)))
	ah := gemmToBF16(a)
	lx, ly := n, m
	if trans {
		lx, ly = m, n
	}
	x := gemmRandSlice(r, lx)
	y0 := gemmRandSlice(r, ly)
	if beta == 0 {
		for i := range y0 {
			y0[i] = float32(math.NaN())
		}
	}
	for _, bf16 := range []bool{false, true} {
		aref := a
		y := append([]float32(nil), y0...)
		SetThreads(threads)
		if bf16 {
			aref = gemmFromBF16(ah)
			SgemvBF16(trans, m, n, alpha, ah, lda, x, beta, y)
		} else {
			Sgemv(trans, m, n, alpha, a, lda, x, beta, y)
		}
		SetThreads(0)
		tol := gemmTol(lx)
		for i := 0; i < ly; i++ {
			var want, scale float64
			for j := 0; j < lx; j++ {
				ia := i*lda + j
				if trans {
					ia = j*lda + i
				}
				av := aref[ia]
				want += float64(av) * float64(x[j])
				scale += math.Abs(float64(av) * float64(x[j]))
			}
			want *= float64(alpha)
			scale *= math.Abs(float64(alpha))
			if beta != 0 {
				want += float64(beta) * float64(y0[i])
				scale += math.Abs(float64(beta) * float64(y0[i]))
			}
			if got := float64(y[i]); !(math.Abs(got-want) <= tol*scale) {
				t.Fatalf("trans=%v m=%d n=%d pad=%d alpha=%g beta=%g threads=%d bf16=%v: y[%d] = %g, want %g (tol %g)",
					trans, m, n, pad, alpha, beta, threads, bf16, i, got, want, tol*scale)
			}
		}
	}
}

func TestSgemv(t *testing.T) {
	withKernelPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		sizes := []int{0, 1, 3, 4, 5, 15, 16, 17, 33, 100, 255}
		ab := []struct{ alpha, beta float32 }{{1, 0}, {1, 1}, {0.5, -2}, {-1.5, 0}, {0, 0.5}}
		v := 0
		for _, trans := range []bool{false, true} {
			for _, m := range sizes {
				for _, n := range sizes {
					s := ab[v%len(ab)]
					checkGemv(t, r, trans, m, n, v%3, s.alpha, s.beta, 1+v%2)
					v++
				}
			}
		}
	})
}

func TestSgemvLarge(t *testing.T) {
	// big enough to be split across threads, with odd edges
	withKernelPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, sh := range [][2]int{{515, 1031}, {1031, 515}, {4099, 67}} {
			for _, trans := range []bool{false, true} {
				t.Run(fmt.Sprintf("%dx%d/trans=%v", sh[0], sh[1], trans), func(t *testing.T) {
					checkGemv(t, r, trans, sh[0], sh[1], 3, 0.75, 0.25, 3)
				})
			}
		}
	})
}
