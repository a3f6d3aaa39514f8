package cpu

import (
	"fmt"
	"math"
	"testing"

	"seal/models/tensor"
)

// refAdamW is torch.optim.AdamW's update in float64 with exact arithmetic: decoupled weight decay first,
// then the moments, then p −= (lr/bc1)·m / (sqrt(v)/sqrt(bc2) + eps).
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

func TestAdamW(t *testing.T) {
	for _, hp := range []tensor.AdamW{
		{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01},
		{LR: 3e-4, Beta1: 0.9, Beta2: 0.95, Eps: 1e-6, WeightDecay: 0},
		{LR: 1e-2, Beta1: 0.3, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.1}, // lerp weight 0.7 >= 0.5
	} {
		for _, n := range []int{1, 7, 17, 100003} {
			name := fmt.Sprintf("%+v n=%d", hp, n)
			r := newRNG(uint64(90 + n))
			ps := randF32(r, n, 1)
			p, m, v := tensor.FromF32(append([]float32(nil), ps...), n), tensor.New(n), tensor.New(n)
			p64, m64, v64 := f64s(ps), make([]float64, n), make([]float64, n)
			for step := 1; step <= 3; step++ {
				gs := randF32(r, n, 0.1)
				if n > 1 {
					gs[1] = 0 // a zero gradient: the denominator is eps alone on the first step
				}
				h := hp
				h.Step = step
				be.AdamWStep(p, tensor.FromF32(gs, n), m, v, h)
				refAdamW(p64, f64s(gs), m64, v64, decimal(hp.LR), decimal(hp.Beta1), decimal(hp.Beta2),
					decimal(hp.Eps), decimal(hp.WeightDecay), step)
				// float32 state: p is rounded twice per step (the decay and the update), each within an
				// ulp (2^-23 of a power of two <= |p|, under 1.2e-7·|p|), plus 1e-5 of one step's
				// size for the update's own rounding; the moments to a few ulp.
				closeTo(t, fmt.Sprintf("%s step %d p", name, step), p.F32, p64, 2.4e-7*float64(step), 1e-5*float64(hp.LR))
				closeTo(t, fmt.Sprintf("%s step %d m", name, step), m.F32, m64, 1e-6, 1e-7)
				closeTo(t, fmt.Sprintf("%s step %d v", name, step), v.F32, v64, 1e-6, 1e-7)
			}
		}
	}
}

// TestAdamWFirstStepSign: with no weight decay the first step moves every weight by lr against the sign
// of its gradient (m/sqrt(v) = ±1 after bias correction, up to eps), as torch's does.
func TestAdamWFirstStepSign(t *testing.T) {
	p, g := tensor.FromF32([]float32{1, 1, 1}, 3), tensor.FromF32([]float32{0.5, -2, 1e-3}, 3)
	m, v := tensor.New(3), tensor.New(3)
	be.AdamWStep(p, g, m, v, tensor.AdamW{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Step: 1})
	for i, want := range []float64{0.99, 1.01, 0.99} {
		if math.Abs(float64(p.F32[i])-want) > 1e-6 {
			t.Errorf("p[%d] = %v, want %v", i, p.F32[i], want)
		}
	}
	mustPanic(t, "Step", func() { be.AdamWStep(p, g, m, v, tensor.AdamW{LR: 0.01, Beta1: 0.9, Beta2: 0.999}) })
}

func TestDecimal(t *testing.T) {
	for _, c := range []struct {
		f32 float32
		f64 float64
	}{{0.9, 0.9}, {0.999, 0.999}, {1e-8, 1e-8}, {3e-4, 3e-4}, {0.01, 0.01}, {0, 0}} {
		if got := decimal(c.f32); got != c.f64 {
			t.Errorf("decimal(%v) = %v, want %v", c.f32, got, c.f64)
		}
	}
	// 1 − β1 as torch computes it from the Python float 0.9, not from float32(0.9).
	if got := adamwConsts(tensor.AdamW{Beta1: 0.9, Beta2: 0.999, Step: 1}).w; got != float32(1-0.9) {
		t.Errorf("lerp weight %v, want float32(1-0.9) = %v", got, float32(1-0.9))
	}
}
