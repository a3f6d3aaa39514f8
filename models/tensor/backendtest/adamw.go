package backendtest

import (
	"fmt"
	"math"
	"strconv"
	"testing"

	"seal/models/tensor"
)

// refAdamW is torch.optim.AdamW's update in float64 with exact arithmetic: decoupled
// weight decay first, then the moments, then p −= (lr/bc1)·m / (sqrt(v)/sqrt(bc2) + eps).
func refAdamW(p, g, m, v []float64, lr, b1, b2, eps, wd float64, step int) {
	bc1 := 1 - math.Pow(b1, float64(step))
	bc2 := 1 - math.Pow(b2, float64(step))
	for i := range p {
		p[i] *= 1 - lr*wd
		m[i] = b1*m[i] + (1-b1)*g[i]
		v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
		p[i] -= lr / bc1 * m[i] / (math.Sqrt(v[i])/math.Sqrt(bc2) + eps)
	}
}

// decimal is the Python float a float32 hyperparameter was written as (its shortest
// decimal form), which is what torch computes with.
func decimal(f float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return v
}

func testAdamW(t *testing.T, be tensor.Backend) {
	for _, hp := range []tensor.AdamW{
		{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01},
		{LR: 3e-4, Beta1: 0.9, Beta2: 0.95, Eps: 1e-6, WeightDecay: 0},
		{LR: 1e-2, Beta1: 0.3, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.1}, // lerp weight 0.7 >= 0.5
	} {
		for _, n := range []int{1, 7, 17, 100003} {
			name := fmt.Sprintf("%+v n=%d", hp, n)
			r := newRNG(uint64(90 + n))
			ps := randF32(r, n, 1)
			p, m, v := up(be, ps, n), zeros(be, n), zeros(be, n)
			p64, m64, v64 := f64s(ps), make([]float64, n), make([]float64, n)
			for step := 1; step <= 3; step++ {
				gs := randF32(r, n, 0.1)
				if n > 1 {
					gs[1] = 0 // a zero gradient: the denominator is eps alone on the first step
				}
				h := hp
				h.Step = step
				be.AdamWStep(p, up(be, gs, n), m, v, h)
				refAdamW(p64, f64s(gs), m64, v64, decimal(hp.LR), decimal(hp.Beta1), decimal(hp.Beta2),
					decimal(hp.Eps), decimal(hp.WeightDecay), step)
				// float32 state: p is rounded twice per step (the decay and the update), each
				// within an ulp (2^-23 of a power of two <= |p|, under 1.2e-7·|p|), plus 1e-5
				// of one step's size for the update's own rounding; the moments to a few ulp.
				closeTo(t, fmt.Sprintf("%s step %d p", name, step), down(be, p), p64, 2.4e-7*float64(step), 1e-5*float64(hp.LR))
				closeTo(t, fmt.Sprintf("%s step %d m", name, step), down(be, m), m64, 1e-6, 1e-7)
				closeTo(t, fmt.Sprintf("%s step %d v", name, step), down(be, v), v64, 1e-6, 1e-7)
			}
		}
	}
}

// testAdamWFirstStepSign: with no weight decay the first step moves every weight by lr
// against the sign of its gradient (m/sqrt(v) = ±1 after bias correction, up to eps), as
// torch's does.
func testAdamWFirstStepSign(t *testing.T, be tensor.Backend) {
	p, g := up(be, []float32{1, 1, 1}, 3), up(be, []float32{0.5, -2, 1e-3}, 3)
	m, v := zeros(be, 3), zeros(be, 3)
	be.AdamWStep(p, g, m, v, tensor.AdamW{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Step: 1})
	got := down(be, p)
	for i, want := range []float64{0.99, 1.01, 0.99} {
		if math.Abs(float64(got[i])-want) > 1e-6 {
			t.Errorf("p[%d] = %v, want %v", i, got[i], want)
		}
	}
}
