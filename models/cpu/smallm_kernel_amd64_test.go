package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkSmallMKernel is the few-rows kernel's arithmetic alone, on one core: 4 rows of W (k = 1024,
// bf16 and f32) against m rows of X, all in L1, beside the GEMM micro-kernel of the same instruction set
// on the same depth (the FMA peak). On AVX-512 (Zen 5) at m = 5 the kernel matches the GEMM kernel's
// rate, so a batch-5 step is bound by the FMA units once the weights stream faster than 2 bytes per 10
// flops. It runs the kernels this machine selects (AVX-512 or AVX2).
func BenchmarkSmallMKernel(b *testing.B) {
	kern := activeKernels.smallM
	if kern == nil || kern.isa == smallMInGo {
		b.Skip("no assembly few-rows kernels on this machine")
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
	for _, m := range []int{1, 2, 3, 4, 5, 6} {
		b.Run(fmt.Sprintf("bf16/m%d", m), func(b *testing.B) {
			gflops(b, 8*float64(m*k), func() { kern.bf16(m, k, wh, k, x, k, &out) })
		})
		b.Run(fmt.Sprintf("f32/m%d", m), func(b *testing.B) {
			gflops(b, 8*float64(m*k), func() { kern.f32(m, k, w, k, x, k, &out) })
		})
	}
	if kern.isa == smallMInAVX512 {
		a, bp, c := gemmRandSlice(r, 12*k), gemmRandSlice(r, 32*k), make([]float32, 12*32)
		b.Run("gemm12x32", func(b *testing.B) {
			gflops(b, 2*12*32*float64(k), func() { gemmKernelAVX512_12x32(k, &a[0], &bp[0], &c[0], 32, 1, 0) })
		})
		return
	}
	a, bp, c := gemmRandSlice(r, 6*k), gemmRandSlice(r, 16*k), make([]float32, 6*16)
	b.Run("gemm6x16", func(b *testing.B) {
		gflops(b, 2*6*16*float64(k), func() { gemmKernelAVX2_6x16(k, &a[0], &bp[0], &c[0], 16, 1, 0) })
	})
}
