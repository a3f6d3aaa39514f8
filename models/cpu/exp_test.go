package cpu

import (
	"math"
	"testing"

	"seal/models/tensor"
)

// expCases are rows for the exponential's users: every length from 1 to 40 (whole groups of 8 and
// rests), values spread over the clamped range and past it, ±0, ±Inf and NaN.
func expCases() [][]float32 {
	r := newRNG(21)
	var rows [][]float32
	for n := 1; n <= 40; n++ {
		row := randF32(r, n, 60)
		special := []float32{-1e30, 1e30, 120, -120, 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)),
			float32(math.Inf(-1)), float32(math.NaN()), 88.7, -103.9, 1e-30}
		for i := range row {
			if i%3 == 0 {
				row[i] = special[(i/3+n)%len(special)]
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// TestVectorExpMatchesGo: with the AVX-512 forms (where the CPU has them) the softmax exponentials and
// SwiGLU's forward and backward give the Go loops' bits, element for element, whatever the length.
func TestVectorExpMatchesGo(t *testing.T) {
	if !hostFeatures.avx512 {
		t.Skip("no AVX-512 on this machine: only the Go loops run")
	}
	for _, row := range expCases() {
		n := len(row)
		// expShiftSumTo, and its sum within float64 rounding of the Go loop's.
		want, got := make([]float32, n), make([]float32, n)
		var wantSum float64
		withGoLoops(func() { wantSum = expShiftSumTo(want, row, 3.5) })
		gotSum := expShiftSumTo(got, row, 3.5)
		for i := range row {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("n=%d: e^(%g-3.5) = %g, the Go loop gives %g", n, row[i], got[i], want[i])
			}
		}
		if !(math.Abs(gotSum-wantSum) <= 1e-15*math.Abs(wantSum)) && !(math.IsNaN(gotSum) && math.IsNaN(wantSum)) && gotSum != wantSum {
			t.Fatalf("n=%d: sum %v, the Go loop gives %v", n, gotSum, wantSum)
		}
		// SwiGLU forward and backward.
		r := newRNG(uint64(n))
		u, d := randF32(r, n, 3), randF32(r, n, 3)
		wantO, gotO := make([]float32, n), make([]float32, n)
		withGoLoops(func() { swiGLU(wantO, row, u) })
		swiGLU(gotO, row, u)
		wdg, wdu, gdg, gdu := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		back := func(dg, du []float32) {
			of := func(v []float32) *tensor.Tensor { return tensor.FromF32(v, len(v)) }
			New().SwiGLUBackward(of(dg), of(du), of(d), of(row), of(u))
		}
		withGoLoops(func() { back(wdg, wdu) })
		back(gdg, gdu)
		for i := range row {
			if !sameBits(gotO[i], wantO[i]) || !sameBits(gdg[i], wdg[i]) || !sameBits(gdu[i], wdu[i]) {
				t.Fatalf("n=%d element %d (gate %g): silu·up %g dgate %g dup %g, the Go loops give %g %g %g",
					n, i, row[i], gotO[i], gdg[i], gdu[i], wantO[i], wdg[i], wdu[i])
			}
		}
	}
}

// BenchmarkVectorExp times the exponential's users on a small-model training step's shapes (SwiGLU on
// 4×128 tokens × 688, a cross-entropy row of 2048 logits) with the AVX-512 forms and with the Go loops.
func BenchmarkVectorExp(b *testing.B) {
	r := newRNG(5)
	g, u, d := randF32(r, 512*688, 3), randF32(r, 512*688, 3), randF32(r, 512*688, 1)
	o, dg, du := make([]float32, len(g)), make([]float32, len(g)), make([]float32, len(g))
	logits, e := randF32(r, 2048, 4), make([]float32, 2048)
	for _, vec := range []bool{false, true} {
		if vec && !hostFeatures.avx512 {
			continue
		}
		name := map[bool]string{false: "go", true: "avx512"}[vec]
		run := func(b *testing.B, f func()) {
			prev := activeKernels
			ks := *prev
			ks.vecMath = vec
			activeKernels = &ks
			defer func() { activeKernels = prev }()
			for b.Loop() {
				f()
			}
		}
		b.Run("swiglu/"+name, func(b *testing.B) { run(b, func() { swiGLU(o, g, u) }) })
		b.Run("swiglu-backward/"+name, func(b *testing.B) {
			of := func(v []float32) *tensor.Tensor { return tensor.FromF32(v, len(v)) }
			gt, ut, dt, dgt, dut := of(g), of(u), of(d), of(dg), of(du)
			SetThreads(1)
			defer SetThreads(0)
			run(b, func() { New().SwiGLUBackward(dgt, dut, dt, gt, ut) })
		})
		b.Run("exp-row-2048/"+name, func(b *testing.B) { run(b, func() { expShiftSumTo(e, logits, 2) }) })
	}
}

// TestVectorMaxMatchesGo: the AVX-512 row maximum gives the Go loop's value (equal as numbers: a row
// whose largest value is a zero of both signs may give either) for every length from 1 to 70, NaNs
// skipped after the first element and kept in it, ±Inf, and rows of one value.
func TestVectorMaxMatchesGo(t *testing.T) {
	if !hostFeatures.avx512 {
		t.Skip("no AVX-512 on this machine: only the Go loop runs")
	}
	r := newRNG(31)
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for n := 1; n <= 70; n++ {
		for variant := 0; variant < 6; variant++ {
			row := randF32(r, n, 10)
			switch variant {
			case 1:
				row[r.IntN(n)] = nan
			case 2:
				row[0] = nan
			case 3:
				row[r.IntN(n)] = inf
			case 4:
				for i := range row {
					row[i] = float32(math.Copysign(0, float64(i%2)-0.5))
				}
			case 5:
				row[r.IntN(n)], row[r.IntN(n)] = -inf, nan
			}
			var want float32
			withGoLoops(func() { want = maxF32(row) })
			got := maxF32(row)
			if got != want && !(got != got && want != want) {
				t.Fatalf("n=%d variant %d: max %g, the Go loop gives %g (row %v)", n, variant, got, want, row)
			}
		}
	}
}
