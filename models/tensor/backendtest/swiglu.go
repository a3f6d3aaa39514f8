package backendtest

import (
	"fmt"
	"math"
	"testing"

	"seal/models/tensor"
)

func refSwiGLU(gate, up []float64) []float64 {
	out := make([]float64, len(gate))
	for i, x := range gate {
		out[i] = x / (1 + math.Exp(-x)) * up[i]
	}
	return out
}

func testSwiGLU(t *testing.T, be tensor.Backend) {
	r := newRNG(40)
	for _, n := range []int{1, 3, 5, 7, 17, 100, 70000} {
		gs, us := randF32(r, n, 4), randF32(r, n, 1)
		out := zeros(be, n)
		be.SwiGLU(out, up(be, gs, n), up(be, us, n))
		closeTo(t, fmt.Sprint("forward n=", n), down(be, out), refSwiGLU(f64s(gs), f64s(us)), 1e-6, 1e-7)
		if n > 100 {
			continue
		}
		R := randF32(r, n, 1)
		g64, u64, R64 := f64s(gs), f64s(us), f64s(R)
		loss := func() float64 { return dot64(R64, refSwiGLU(g64, u64)) }
		wg, wu := fdGrad(g64, loss), fdGrad(u64, loss)
		dg, du := zeros(be, n), zeros(be, n)
		be.SwiGLUBackward(dg, du, up(be, R, n), up(be, gs, n), up(be, us, n))
		checkGrad(t, fmt.Sprint("dgate n=", n), down(be, dg), wg)
		checkGrad(t, fmt.Sprint("dup n=", n), down(be, du), wu)
	}
}

// testSwiGLUExtremes: silu is stable for large |x| (no NaN from Inf/Inf), forward and backward.
func testSwiGLUExtremes(t *testing.T, be tensor.Backend) {
	gs := []float32{-1e30, -1000, -100, -88, 88, 100, 1000, 1e30, 0}
	n := len(gs)
	us := make([]float32, n)
	for i := range us {
		us[i] = 1
	}
	out, dg, du := zeros(be, n), zeros(be, n), zeros(be, n)
	be.SwiGLU(out, up(be, gs, n), up(be, us, n))
	be.SwiGLUBackward(dg, du, up(be, us, n), up(be, gs, n), up(be, us, n))
	o, g, u := down(be, out), down(be, dg), down(be, du)
	for i, x := range gs {
		want := float64(x) / (1 + math.Exp(-float64(x)))
		if math.IsNaN(float64(o[i])) || math.Abs(float64(o[i])-want) > 1e-6*math.Abs(want)+1e-30 {
			t.Errorf("silu(%g) = %g, want %g", x, o[i], want)
		}
		s := 1 / (1 + math.Exp(-float64(x)))
		wantD := s * (1 + float64(x)*(1-s))
		if math.IsNaN(float64(g[i])) || math.Abs(float64(g[i])-wantD) > 1e-6 {
			t.Errorf("silu'(%g) = %g, want %g", x, g[i], wantD)
		}
		if u[i] != o[i] {
			t.Errorf("dup at %g: %g, want silu = %g", x, u[i], o[i])
		}
	}
}
