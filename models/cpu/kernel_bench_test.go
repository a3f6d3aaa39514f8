package cpu

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkKernel times the micro-kernels alone on L1-resident panels (kc = 256): the ceiling that the
// blocking and packing around them can reach on one core.
func BenchmarkKernel(b *testing.B) {
	for _, k := range kernelsForBench() {
		b.Run(k.name, func(b *testing.B) {
			const kc = 256
			r := rand.New(rand.NewPCG(1, 1))
			ap := gemmAlignedFloats(kc * k.mr)
			copy(ap, gemmRandSlice(r, kc*k.mr))
			bp := gemmAlignedFloats(kc * k.nr)
			copy(bp, gemmRandSlice(r, kc*k.nr))
			c := gemmAlignedFloats(k.mr * k.nr)
			for i := 0; i < b.N; i++ {
				k.full(kc, &ap[0], &bp[0], &c[0], k.nr, 1, 1)
			}
			b.ReportMetric(2*float64(kc*k.mr*k.nr)*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GFLOP/s")
		})
	}
}

// BenchmarkPackB times packing a whole 2048×8192 B (64 MiB in float32, from memory) into kernel
// panels, block by block as the parallel driver does, on one thread, in GB/s of B read. It is what
// dominates products with few rows, such as 128×2048×8192.
func BenchmarkPackB(b *testing.B) {
	const k, n = 2048, 8192
	r := rand.New(rand.NewPCG(1, 1))
	w := gemmRandSlice(r, k*n)
	wh := gemmToBF16(w)
	kern := &activeKernels.gemm
	kc := kern.kcFor(k)
	buf := gemmAlignedFloats(kc * kern.ncPar)
	for _, trans := range []bool{false, true} {
		for _, bf16 := range []bool{false, true} {
			name := map[bool]string{false: "N", true: "T"}[trans] + map[bool]string{false: "-f32", true: "-bf16"}[bf16]
			b.Run(name, func(b *testing.B) {
				p := gemmProblem{transB: trans, m: 128, n: n, k: k, b: w, ldb: n}
				bytes := 4.0 * k * n
				if bf16 {
					p.b, p.bh, bytes = nil, wh, 2.0*k*n
				}
				if trans {
					p.ldb = k
				}
				for i := 0; i < b.N; i++ {
					for jc := 0; jc < n; jc += kern.ncPar {
						for pc := 0; pc < k; pc += kc {
							p.packB(buf, kern.nr, pc, min(kc, k-pc), jc, min(kern.ncPar, n-jc))
						}
					}
				}
				b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GB/s")
			})
		}
	}
}
