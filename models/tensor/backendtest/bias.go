package backendtest

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

func testBias(t *testing.T, be tensor.Backend) {
	r := newRNG(41)
	for _, sh := range []struct{ rows, cols int }{{1, 1}, {3, 5}, {7, 17}, {5, 130}, {600, 200}} {
		for _, bf16 := range []bool{false, true} {
			name := fmt.Sprintf("%dx%d bf16=%v", sh.rows, sh.cols, bf16)
			xs := randF32(r, sh.rows*sh.cols, 1)
			bias, b64 := weightTensor(be, randF32(r, sh.cols, 1), bf16, sh.cols)
			want := refAddBias(f64s(xs), b64, sh.cols)
			x := up(be, xs, sh.rows, sh.cols)
			be.AddBias(x, bias)
			closeTo(t, name+" forward", down(be, x), want, 6e-8, 0)

			// db of Σ R·(x + bias): by finite differences on the bias.
			R := randF32(r, sh.rows*sh.cols, 1)
			x64, R64 := f64s(xs), f64s(R)
			wantDb := fdGrad(b64, func() float64 { return dot64(R64, refAddBias(x64, b64, sh.cols)) })
			d0 := randF32(r, sh.cols, 1) // BiasBackward adds
			db := up(be, d0, sh.cols)
			be.BiasBackward(db, up(be, R, sh.rows, sh.cols))
			checkGrad(t, name+" db", sub32(down(be, db), d0), wantDb)
		}
	}
}
