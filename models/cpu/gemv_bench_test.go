package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// gemvReportBandwidth reports GB/s of `bytes` per call, over all calls and for the best call (this machine
// is shared: the best call is what the code does when nothing else competes for memory).
func gemvReportBandwidth(b *testing.B, bytes float64, best time.Duration) {
	b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GB/s")
	b.ReportMetric(bytes/best.Seconds()*1e-9, "best-GB/s")
}

// BenchmarkSgemv: y = A·x (N) and y = Aᵀ·x (T), reporting GB/s of A read. At 2048×8192 A is 64 MiB
// in float32 and 32 MiB in bf16, about the size of the 32 MiB L3, so part of it can still be cached from
// the previous call; at 8192×8192 (256 MiB, 128 MiB) it streams from memory, as the weights of a whole
// model do during decode.
func BenchmarkSgemv(b *testing.B) {
	for _, sh := range [][2]int{{2048, 8192}, {8192, 8192}} {
		m, n := sh[0], sh[1]
		r := rand.New(rand.NewPCG(1, 1))
		a := gemmRandSlice(r, m*n)
		ah := gemmToBF16(a)
		x := gemmRandSlice(r, max(m, n))
		y := make([]float32, max(m, n))
		for _, trans := range []bool{false, true} {
			if m == n && trans {
				continue // the big square case is there for the memory-bound figure only
			}
			for _, bf16 := range []bool{false, true} {
				name := map[bool]string{false: "N", true: "T"}[trans] + map[bool]string{false: "-f32", true: "-bf16"}[bf16]
				b.Run(fmt.Sprintf("%s/%dx%d", name, m, n), func(b *testing.B) {
					bytes := 4.0 * float64(m*n)
					if bf16 {
						bytes = 2.0 * float64(m*n)
					}
					best := time.Duration(math.MaxInt64)
					for i := 0; i < b.N; i++ {
						t0 := time.Now()
						if bf16 {
							SgemvBF16(trans, m, n, 1, ah, n, x, 0, y)
						} else {
							Sgemv(trans, m, n, 1, a, n, x, 0, y)
						}
						best = min(best, time.Since(t0))
					}
					gemvReportBandwidth(b, bytes, best)
				})
			}
		}
	}
}

// BenchmarkMemory measures what bounds decode: "copy" is copy() of 256 MiB (GB/s of bytes copied; the
// bus carries that twice, read and write), "read" sums 256 MiB of float32 with the GEMV kernel's dot
// product (GB/s read; "-1T" on one thread, the single-core ceiling for a matrix-vector product).
func BenchmarkMemory(b *testing.B) {
	const size = 256 << 20
	src := make([]float32, size/4)
	dst := make([]float32, size/4)
	for i := range src {
		src[i] = 1
	}
	b.Run("copy-256MiB", func(b *testing.B) {
		best := time.Duration(math.MaxInt64)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			copy(dst, src)
			best = min(best, time.Since(t0))
		}
		gemvReportBandwidth(b, size, best)
	})
	for _, threads := range []int{1, 0} {
		name := "read-256MiB"
		if threads == 1 {
			name += "-1T"
		}
		b.Run(name, func(b *testing.B) {
			ones := src[:4096]
			SetThreads(threads)
			defer SetThreads(0)
			best := time.Duration(math.MaxInt64)
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				// A 16384×4096 matrix times a vector of ones: reads all of src once.
				Sgemv(false, len(src)/4096, 4096, 1, src, 4096, ones, 0, dst)
				best = min(best, time.Since(t0))
			}
			gemvReportBandwidth(b, size, best)
		})
	}
}
