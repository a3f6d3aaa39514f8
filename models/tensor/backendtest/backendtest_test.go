package backendtest

import (
	"math"
	"strings"
	"testing"

	"seal/models/cpu"
)

// TestGradCheckCatchesWrongGradients shows the checker can fail: a correct gradient
// passes, and the same gradient 1% too large, with one element off by 1% of the scale,
// with one sign flipped, or with gorgonia's InverseSqrt factor of 3 (see
// docs/architecture.md) does not.
func TestGradCheckCatchesWrongGradients(t *testing.T) {
	be := cpu.New()
	r := newRNG(1)
	// A real op: RMSNorm, d(Σ R·out)/dx.
	const rows, D = 3, 7
	xs := randF32(r, rows*D, 1)
	ws := randF32(r, D, 1)
	R := randF32(r, rows*D, 1)
	x64, w64, R64 := f64s(xs), f64s(ws), f64s(R)
	want := fdGrad(x64, func() float64 { return dot64(R64, refRMSNorm(x64, w64, rows, D, 1e-5)) })
	x, w := up(be, xs, rows, D), up(be, ws, D)
	out, rstd := zeros(be, rows, D), zeros(be, rows)
	be.RMSNorm(out, rstd, x, w, 1e-5)
	dx := zeros(be, rows, D)
	be.RMSNormBackward(dx, nil, up(be, R, rows, D), x, w, rstd)
	good := down(be, dx)
	if err := gradError(good, want); err != nil {
		t.Fatalf("the correct gradient fails the check: %v", err)
	}
	var scale float64
	big := 0
	for i, w := range want {
		if math.Abs(w) > scale {
			scale, big = math.Abs(w), i
		}
	}
	scaled := func(s float32) func(g []float32) {
		return func(g []float32) {
			for i := range g {
				g[i] *= s
			}
		}
	}
	wrong := map[string]func(g []float32){
		"scaled by 1.01":              scaled(1.01),
		"one element off by 1%":       func(g []float32) { g[len(g)/2] += float32(0.01 * scale) },
		"largest element sign":        func(g []float32) { g[big] = -g[big] },
		"gorgonia InverseSqrt factor": scaled(3),
		"one element NaN":             func(g []float32) { g[0] = float32(math.NaN()) },
	}
	for name, spoil := range wrong {
		g := append([]float32(nil), good...)
		spoil(g)
		if err := gradError(g, want); err == nil {
			t.Errorf("%s: a wrong gradient passed the check", name)
		} else if !strings.Contains(err.Error(), "finite differences") {
			t.Errorf("%s: unexpected error text %q", name, err)
		}
	}
}
