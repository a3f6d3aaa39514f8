package cpu

import (
	"math"
	"testing"

	"seal/models/tensor"
)

// withGoLoops runs f with the vector forms switched off, so it gets the Go loops' numbers.
func withGoLoops(f func()) {
	prev := activeKernels
	ks := *prev
	ks.vecMath = false
	activeKernels = &ks
	defer func() { activeKernels = prev }()
	f()
}

// TestElementwiseVectorsMatchGo: the AVX-512 forms of Add (alpha 1 and not), Scale and SumSquares'
// loop give the Go loops' numbers for every length from 1 to 70 and a long one, with ±Inf and NaN in
// the data: Add and Scale bit for bit (NaN as NaN), the sum of squares within 1e-15 of the Go sum
// (it adds in another order; exactly equal when every partial sum is exact, as for small integers).
func TestElementwiseVectorsMatchGo(t *testing.T) {
	if !hostFeatures.avx512 {
		t.Skip("no AVX-512 on this machine: only the Go loops run")
	}
	r := newRNG(41)
	lengths := []int{1 << 12}
	for n := 1; n <= 70; n++ {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		for variant := 0; variant < 3; variant++ {
			a, b := randF32(r, n, 10), randF32(r, n, 10)
			switch variant {
			case 1:
				a[r.IntN(n)], b[r.IntN(n)] = float32(math.Inf(1)), float32(math.NaN())
			case 2:
				for i := range a {
					a[i] = float32(i%7) - 3
				}
			}
			for _, alpha := range []float32{1, 0.37, -2} {
				want := append([]float32(nil), a...)
				withGoLoops(func() { addRange(want, tensor.FromF32(b, n), alpha, 0, n) })
				got := append([]float32(nil), a...)
				addRange(got, tensor.FromF32(b, n), alpha, 0, n)
				for i := range got {
					if !sameBits(got[i], want[i]) {
						t.Fatalf("Add n %d alpha %v [%d]: %v, Go loop %v", n, alpha, i, got[i], want[i])
					}
				}
			}
			want := append([]float32(nil), a...)
			withGoLoops(func() { scaleF32(want, 0.731) })
			got := append([]float32(nil), a...)
			scaleF32(got, 0.731)
			for i := range got {
				if !sameBits(got[i], want[i]) {
					t.Fatalf("Scale n %d [%d]: %v, Go loop %v", n, i, got[i], want[i])
				}
			}
			var ws float64
			withGoLoops(func() { ws = sumSq(a) })
			gs := sumSq(a)
			switch {
			case variant == 1 && !math.IsInf(gs, 1):
				t.Fatalf("SumSquares n %d with an Inf: %v", n, gs)
			case variant == 2 && gs != ws:
				t.Fatalf("SumSquares n %d of small integers: %v, Go loop %v (both exact)", n, gs, ws)
			case variant == 0 && math.Abs(gs-ws) > 1e-15*ws:
				t.Fatalf("SumSquares n %d: %v, Go loop %v", n, gs, ws)
			}
		}
	}
}
