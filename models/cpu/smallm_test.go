package cpu

import (
	"math/rand/v2"
	"testing"
)

// TestSmallRows holds the few-rows product (Y = X·Wᵀ with 1..maxSmallRowsAVX512 rows, f32 and bf16 W)
// to the float64 reference on odd shapes: k not a multiple of 16 (the Go tail), n not a multiple of 4 (the
// last rows of W in Go), padded leading dimensions, alpha/beta, A transposed (gathered), 1-3 threads, and
// rows that split into groups (7 = 4+3, 13 = 5+4+4). withKernelPaths runs it on the AVX-512 kernels, on
// the AVX2 ones and on the Go kernels.
func TestSmallRows(t *testing.T) {
	withKernelPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		ab := []struct{ alpha, beta float32 }{{1, 0}, {1, 1}, {0.5, -2}, {-1.5, 0}}
		v := 0
		for m := 1; m <= maxSmallRowsAVX512+1; m++ {
			for _, sh := range [][2]int{{1, 1}, {3, 16}, {4, 17}, {7, 31}, {9, 48}, {33, 100}, {130, 257}} {
				s := ab[v%len(ab)]
				gemmCase{transA: v%5 == 0, transB: true, m: m, n: sh[0], k: sh[1], alpha: s.alpha, beta: s.beta,
					padA: v % 3, padB: 2 * (v % 2), padC: v % 4, threads: 1 + v%3}.check(t, r)
				v++
			}
		}
	})
}

// TestSmallRowsLarge: a decode-sized product split across threads (2 to 8 tasks), k long enough that the
// accumulators sum thousands of terms.
func TestSmallRowsLarge(t *testing.T) {
	withKernelPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, m := range []int{1, 5, 8, 16} {
			gemmCase{transB: true, m: m, n: 1030, k: 2064 + 3, alpha: 1, beta: 0, padB: 1, threads: 2}.check(t, r)
		}
	})
}
