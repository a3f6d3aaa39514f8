package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"seal/models/safetensors"
)

// withDotPaths runs f with the kernels this machine selects (the VDPBF16PS kernel where the CPU has
// AVX512_BF16), with AVX-512 but no dot kernel (SgemmBF16Dot's fallback: A rounded, f32 kernels) and
// with the generic Go path.
func withDotPaths(t *testing.T, f func(t *testing.T)) {
	t.Run(activeKernels.name, f)
	if hostFeatures.bf16dot {
		prev := useKernelFeatures(kernelFeatures{avx2FMA: true, avx512: true})
		t.Run("no dot kernel: "+activeKernels.name, f)
		activeKernels = prev
	}
	if activeKernels.name == selectKernels(kernelFeatures{}).name {
		return
	}
	prev := useKernelFeatures(kernelFeatures{})
	defer func() { activeKernels = prev }()
	t.Run(activeKernels.name, f)
}

// checkDot runs SgemmBF16Dot on one case and compares every element with a float64 reference on the
// bf16-rounded A (torch's rounding, safetensors.F32ToBF16) and bf16 B. The products of bf16 values are
// exact, so the only error is the float32 summation: the same tolerance as Sgemm's, gemmTol(k), relative
// to Σ|terms|. Not rounding A would be off by about 2^-9 relative per term, a thousand times more.
func (tc gemmCase) checkDot(t *testing.T, r *rand.Rand) {
	t.Helper()
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc := tc.k+tc.padA, bc+tc.padB, tc.n+tc.padC
	a := gemmRandSlice(r, max(0, gemmSpan(tc.m, tc.k, lda)))
	bh := gemmToBF16(gemmRandSlice(r, max(0, gemmSpan(br, bc, ldb))))
	c0 := gemmRandSlice(r, max(0, gemmSpan(tc.m, tc.n, ldc)))
	if tc.beta == 0 {
		for i := range c0 {
			c0[i] = float32(math.NaN()) // beta = 0 must overwrite, never read
		}
	}
	c := append([]float32(nil), c0...)
	SetThreads(tc.threads)
	SgemmBF16Dot(tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bh, ldb, tc.beta, c, ldc)
	SetThreads(0)
	tol := gemmTol(tc.k)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			var want, scale float64
			for p := 0; p < tc.k; p++ {
				ib := p*ldb + j
				if tc.transB {
					ib = j*ldb + p
				}
				av := float64(safetensors.BF16ToF32(safetensors.F32ToBF16(a[i*lda+p])))
				bv := float64(gemmWidenBF16(bh[ib]))
				want += av * bv
				scale += math.Abs(av * bv)
			}
			want *= float64(tc.alpha)
			scale *= math.Abs(float64(tc.alpha))
			if tc.beta != 0 {
				want += float64(tc.beta) * float64(c0[i*ldc+j])
				scale += math.Abs(float64(tc.beta) * float64(c0[i*ldc+j]))
			}
			if got := float64(c[i*ldc+j]); !(math.Abs(got-want) <= tol*scale) {
				t.Fatalf("%v: C[%d,%d] = %g, want %g (scale %g, tol %g)", tc, i, j, got, want, scale, tol*scale)
			}
		}
		for j := tc.n; j < ldc && i*ldc+j < len(c); j++ {
			if math.Float32bits(c[i*ldc+j]) != math.Float32bits(c0[i*ldc+j]) {
				t.Fatalf("%v: wrote C[%d,%d] outside the matrix", tc, i, j)
			}
		}
	}
}

func TestSgemmBF16DotShapes(t *testing.T) {
	withDotPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		// Rows around minDotRows and the 12-row tile, odd widths and depths (the last pair half empty).
		for _, m := range []int{1, 5, minDotRows - 1, minDotRows, 61} {
			for _, n := range []int{1, 3, 31, 33, 70} {
				for _, k := range []int{1, 2, 3, 17, 34, 67} {
					for _, tB := range []bool{false, true} {
						gemmCase{transB: tB, m: m, n: n, k: k, alpha: 1, beta: 0, threads: 1}.checkDot(t, r)
					}
				}
			}
		}
	})
}

func TestSgemmBF16DotBlocking(t *testing.T) {
	// Shapes across the dot kernel's blocks (kc = 2048 values of k, mc = 144, nc = 1024, the shared
	// block's 2048 columns), even and odd leading dimensions (an odd ldb takes the Go packing), alpha/beta
	// variants and thread counts; large enough to run in parallel.
	withDotPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 10))
		cases := []struct{ m, n, k int }{
			{150, 100, 513}, {64, 2100, 40}, {290, 66, 2100}, {97, 33, 4099}, {146, 1030, 64}, {50, 40, 2049},
		}
		ab := []struct{ alpha, beta float32 }{{1, 0}, {1, 1}, {0.5, -2}, {-1.5, 0}}
		for i, sh := range cases {
			for j, tB := range []bool{false, true} {
				v := ab[(i+j)%len(ab)]
				gemmCase{transB: tB, m: sh.m, n: sh.n, k: sh.k, alpha: v.alpha, beta: v.beta,
					padA: (i + j) % 3, padB: (i + 2*j) % 3, padC: 5 * ((i + j) % 2), threads: 1 + (i+j)%3}.checkDot(t, r)
			}
		}
	})
}

func TestSgemmBF16DotSpecial(t *testing.T) {
	withDotPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, tc := range gemmSpecialCases(60) { // 60 rows: the dot kernels' path (minDotRows)
			tc.checkDot(t, r)
		}
	})
}

// TestRoundBF16MatchesCheckpointRounding: A is rounded as the checkpoint writer (and torch) round
// (the scalar path is safetensors.F32ToBF16 itself), on
// ties, the largest values, infinities, NaN and subnormals.
func TestRoundBF16MatchesCheckpointRounding(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	special := []uint32{0, 0x80000000, 0x3f808000, 0x3f818000, 0x3f80ffff, 0x7f7fffff, 0xff7f8000, 0x7f800000,
		0xff800000, 0x7fc00000, 0x7f800001, 0xffa00000, 0x00000001, 0x807fffff, 0x00ff8000}
	for i := 0; i < 100000; i++ {
		special = append(special, r.Uint32())
	}
	src := make([]float32, len(special)|1-2) // odd: the last pair has one value
	for i, u := range special[:len(src)] {
		src[i] = math.Float32frombits(u)
	}
	// The vector rounding that packs A's pairs (assembly where there is some) gives the same bits.
	withKernelPaths(t, func(t *testing.T) {
		pairs := make([]float32, (len(src)+1)/2)
		roundBF16Pairs(pairs, src)
		for i, f := range src {
			got := uint16(math.Float32bits(pairs[i/2]) >> (16 * (i % 2)))
			if want := safetensors.F32ToBF16(f); got != want {
				t.Fatalf("pair rounding of %#08x = %#04x, want %#04x", math.Float32bits(f), got, want)
			}
		}
		if math.Float32bits(pairs[len(pairs)-1])>>16 != 0 {
			t.Fatal("an odd length's last pair must have a zero high half")
		}
	})
}

func TestSgemmBF16DotPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("short b: no panic")
		}
	}()
	SgemmBF16Dot(false, 60, 3, 5, 1, make([]float32, 300), 5, make([]uint16, 12), 3, 0, make([]float32, 180), 3)
}

// BenchmarkSgemmBF16Dot times SgemmBF16 (B widened to f32, f32 FMA) and SgemmBF16Dot (VDPBF16PS on bf16
// pairs) on the products of a 1B-shaped LoRA training step: Y = X·Wᵀ ("NT") and dX = dY·W ("NN") for 512
// rows through the 2048×2048, 8192×2048 and 2048×8192 projections, and the lm_head's 64-row chunks. The
// ratio is only meaningful between the two lines of one run on the same machine.
func BenchmarkSgemmBF16Dot(b *testing.B) {
	if activeKernels.dot == nil {
		b.Skip("no AVX512_BF16 on this CPU")
	}
	shapes := []struct{ m, k, n int }{{512, 2048, 2048}, {512, 2048, 8192}, {512, 8192, 2048}, {64, 2048, 32768}}
	for _, s := range shapes {
		for _, tr := range []struct {
			name string
			tB   bool
		}{{"NT", true}, {"NN", false}} {
			for _, dot := range []bool{false, true} {
				name := "f32fma"
				if dot {
					name = "bf16dot"
				}
				b.Run(fmt.Sprintf("%s/%dx%dx%d/%s", tr.name, s.m, s.k, s.n, name), func(b *testing.B) {
					benchBF16(b, tr.tB, dot, s.m, s.k, s.n)
				})
			}
		}
	}
}

// BenchmarkSgemmBF16DotRows chooses minDotRows: the dot kernels forced on few rows (2048×8192 bf16 B)
// against the float32 path SgemmBF16Dot would otherwise take (B transposed, at most 16 rows: the
// few-rows kernel), in one run.
func BenchmarkSgemmBF16DotRows(b *testing.B) {
	if activeKernels.dot == nil {
		b.Skip("no AVX512_BF16 on this CPU")
	}
	for _, m := range []int{16, 24, 32, 48} {
		for _, tB := range []bool{true, false} {
			for _, dot := range []bool{false, true} {
				b.Run(fmt.Sprintf("m%d/transB=%v/dot=%v", m, tB, dot), func(b *testing.B) {
					benchBF16(b, tB, dot, m, 2048, 8192)
				})
			}
		}
	}
}

func benchBF16(b *testing.B, transB, dot bool, m, k, n int) {
	r := rand.New(rand.NewPCG(1, 1))
	a := gemmRandSlice(r, m*k)
	wh := gemmToBF16(gemmRandSlice(r, k*n))
	c := make([]float32, m*n)
	ldb := n
	if transB {
		ldb = k
	}
	flop := 2 * float64(m) * float64(n) * float64(k)
	best := math.Inf(1)
	for b.Loop() {
		t0 := time.Now()
		if dot { // the dot kernels whatever m (SgemmBF16Dot would not take them below minDotRows)
			p := gemmProblem{transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: k, bh: wh, ldb: ldb, c: c, ldc: n, dot: true}
			p.run()
		} else {
			SgemmBF16(false, transB, m, n, k, 1, a, k, wh, ldb, 0, c, n)
		}
		best = min(best, time.Since(t0).Seconds())
	}
	b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GFLOP/s")
	b.ReportMetric(flop/best*1e-9, "best-GFLOP/s")
}
