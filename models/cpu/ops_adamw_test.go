package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"seal/models/tensor"
)

// TestAdamWNeedsStep: Step counts from 1 (it drives the bias correction); 0 is a bug.
func TestAdamWNeedsStep(t *testing.T) {
	p, g, m, v := tensor.New(3), tensor.New(3), tensor.New(3), tensor.New(3)
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

// TestAdamWVectorMatchesScalar: the AVX-512 form (adamw_amd64.s) gives the Go loop's numbers for
// both lerp forms, with and without weight decay, over three steps: the same operations rounded in
// the same places. The one fused step may differ from the Go loop's (a float64 FMA rounded to
// float32) in a halfway case; none occurs in these 3 × 4,099 updates per setting, so any
// difference fails.
func TestAdamWVectorMatchesScalar(t *testing.T) {
	if !activeKernels.vecMath {
		t.Skip("no AVX-512 here: the Go loop is the only form")
	}
	for _, hp := range []tensor.AdamW{
		{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01},
		{LR: 3e-4, Beta1: 0.9, Beta2: 0.95, Eps: 1e-6},
		{LR: 1e-2, Beta1: 0.3, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.1}, // lerp weight 0.7: the large form
	} {
		const n = 4099
		r := rand.New(rand.NewPCG(3, 9))
		state := func() [4][]float32 {
			var s [4][]float32
			for i := range s {
				s[i] = make([]float32, n)
			}
			for i := range s[0] {
				s[0][i] = float32(r.NormFloat64())
			}
			return s
		}
		vec, sc := state(), state()
		copy(sc[0], vec[0])
		for step := 1; step <= 3; step++ {
			for i := range vec[1] {
				g := float32(r.NormFloat64() * 0.1)
				vec[1][i], sc[1][i] = g, g
			}
			h := hp
			h.Step = step
			c := adamwConsts(h)
			adamwRange(c, vec[0], vec[1], vec[2], vec[3])
			saved := activeKernels.vecMath
			activeKernels.vecMath = false
			adamwRange(c, sc[0], sc[1], sc[2], sc[3])
			activeKernels.vecMath = saved
			for k, name := range []string{"p", "", "m", "v"} {
				if name == "" {
					continue
				}
				for i := range vec[k] {
					if math.Float32bits(vec[k][i]) != math.Float32bits(sc[k][i]) {
						t.Fatalf("%+v step %d: %s[%d] = %v vector, %v scalar", hp, step, name, i, vec[k][i], sc[k][i])
					}
				}
			}
		}
	}
}
