package cpu

import (
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
