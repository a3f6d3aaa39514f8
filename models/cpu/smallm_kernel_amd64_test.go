package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkSmallMKernel is the few-rows kernel's arithmetic alone, on one core: 4 rows of W (k = 1024,
// bf16 and f32) against m rows of X, all in L1, beside the 12×32 GEMM micro-kernel on the same depth
// (the FMA peak). At m = 5 the kernel matches the GEMM kernel's rate, so a batch-5 step is bound by
// the FMA units once the weights stream faster than 2 bytes per 10 flops.
func BenchmarkSmallMKernel(b *testing.B) {
	if !hostFeatures.avx512 { // the kernels it calls are the AVX-512 ones
		b.Skip("no AVX-512 few-rows kernels on this machine")
	}
	const k, reps = 1024, 100
	r := rand.New(rand.NewPCG(1, 1))
	w := gemmRandSlice(r, 4*k)
	wh := gemmToBF16(w)
	x := gemmRandSlice(r, smallMGroup*k)
	var out [4 * smallMGroup]float32
	gflops := func(b *testing.B, flop float64, f func()) {
		best := time.Duration(math.MaxInt64)
		for b.Loop() {
			t0 := time.Now()
			for range reps {
				f()
			}
			best = min(best, time.Since(t0))
		}
		b.ReportMetric(reps*flop/best.Seconds()*1e-9, "best-GFLOP/s")
	}
	for _, m := range []int{1, 4, 5, 6} {
		b.Run(fmt.Sprintf("bf16/m%d", m), func(b *testing.B) {
			gflops(b, 8*float64(m*k), func() { smallMBF16Asm(m, k, wh, k, x, k, &out) })
		})
		b.Run(fmt.Sprintf("f32/m%d", m), func(b *testing.B) {
			gflops(b, 8*float64(m*k), func() { smallMF32Asm(m, k, w, k, x, k, &out) })
		})
	}
	if hostFeatures.avx512 {
		a, bp, c := gemmRandSlice(r, 12*k), gemmRandSlice(r, 32*k), make([]float32, 12*32)
		b.Run("gemm12x32", func(b *testing.B) {
			gflops(b, 2*12*32*float64(k), func() { gemmKernelAVX512_12x32(k, &a[0], &bp[0], &c[0], 32, 1, 0) })
		})
	}
}
