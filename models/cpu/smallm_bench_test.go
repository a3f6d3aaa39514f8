package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkSmallRows: Y[m×n] = X·Wᵀ with W bf16 n×k, the decode of m sequences through Llama-3.2-1B's
// MLP up projection (8192×2048, 32 MiB: about the L3, so "read" says how fast it streams) and down
// projection (2048×8192). "few-rows" is the one-pass kernel, "old" what ran before it (matrix-vector
// products for m <= 4, the packed GEMM above), "read" one bf16 matrix-vector product over W on the same
// matrix (the batch-1 floor; one pass at memory speed). GB/s is W's bytes per call; GFLOP/s 2·m·n·k.
func BenchmarkSmallRows(b *testing.B) {
	for _, sh := range [][2]int{{8192, 2048}, {2048, 8192}} {
		n, k := sh[0], sh[1]
		r := rand.New(rand.NewPCG(1, 1))
		wh := gemmToBF16(gemmRandSlice(r, n*k))
		x := gemmRandSlice(r, 24*k)
		c := make([]float32, 24*n)
		run := func(b *testing.B, m int, f func()) {
			best := time.Duration(math.MaxInt64)
			for b.Loop() {
				t0 := time.Now()
				f()
				best = min(best, time.Since(t0))
			}
			bytes, flop := 2*float64(n*k), 2*float64(m*n*k)
			b.ReportMetric(bytes/best.Seconds()*1e-9, "best-GB/s")
			b.ReportMetric(flop/best.Seconds()*1e-9, "best-GFLOP/s")
		}
		b.Run(fmt.Sprintf("read/%dx%d", n, k), func(b *testing.B) {
			run(b, 1, func() { SgemvBF16(false, n, k, 1, wh, k, x, 0, c) })
		})
		for _, m := range []int{1, 2, 4, 5, 8, 12, 16, 24} {
			for _, path := range []string{"few-rows", "old"} {
				b.Run(fmt.Sprintf("%s/m%d/%dx%d", path, m, n, k), func(b *testing.B) {
					if path == "old" {
						prev := activeKernels
						ks := *prev
						ks.smallM, ks.maxSmall = nil, 0
						activeKernels = &ks
						defer func() { activeKernels = prev }()
					} else if m > activeKernels.maxSmall {
						b.Skip("above maxSmall")
					}
					run(b, m, func() { SgemmBF16(false, true, m, n, k, 1, x, k, wh, k, 0, c, n) })
				})
			}
		}
	}
}
