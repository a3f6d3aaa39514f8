package cpu

import (
	"fmt"
	"testing"

	"seal/models/tensor"
)

func refAddBias(x, bias []float64, cols int) []float64 {
	out := make([]float64, len(x))
	for i := range x {
		out[i] = x[i] + bias[i%cols]
	}
	return out
}

func TestBias(t *testing.T) {
	r := newRNG(41)
	for _, sh := range []struct{ rows, cols int }{{1, 1}, {3, 5}, {7, 17}, {5, 130}, {600, 200}} {
		for _, bf16 := range []bool{false, true} {
			name := fmt.Sprintf("%dx%d bf16=%v", sh.rows, sh.cols, bf16)
			xs := randF32(r, sh.rows*sh.cols, 1)
			bias, b64 := weightTensor(randF32(r, sh.cols, 1), bf16, sh.cols)
			want := refAddBias(f64s(xs), b64, sh.cols)
			x := tensor.FromF32(append([]float32(nil), xs...), sh.rows, sh.cols)
			be.AddBias(x, bias)
			closeTo(t, name+" forward", x.F32, want, 6e-8, 0)

			// db of Σ R·(x + bias): by finite differences on the bias.
			R := randF32(r, sh.rows*sh.cols, 1)
			x64, R64 := f64s(xs), f64s(R)
			wantDb := fdGrad(b64, func() float64 { return dot64(R64, refAddBias(x64, b64, sh.cols)) })
			db := tensor.New(sh.cols)
			d0 := randF32(r, sh.cols, 1) // BiasBackward adds
			copy(db.F32, d0)
			be.BiasBackward(db, tensor.FromF32(R, sh.rows, sh.cols))
			for j := range d0 {
				db.F32[j] -= d0[j]
			}
			checkGrad(t, name+" db", db.F32, wantDb)
		}
	}
	mustPanic(t, "bias", func() { be.AddBias(tensor.New(2, 3), tensor.New(2)) })
	mustPanic(t, "db", func() { be.BiasBackward(tensor.New(2), tensor.New(2, 3)) })
}
