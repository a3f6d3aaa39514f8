package train

import (
	"fmt"
	"math"
)

// Schedule is a learning-rate multiplier for a 0-based optimizer step, as torch's
// LambdaLR applies it: the k-th call of optimizer.step() (k = 0, 1, ...) runs with
// base_lr · Factor(k), because the HF Trainer steps the scheduler after the optimizer.
type Schedule interface {
	Factor(step int) float64
}

// warmupFactor is the linear ramp shared by all transformers schedules:
// step / max(1, warmup) while step < warmup.
func warmupFactor(step, warmup int) float64 {
	return float64(step) / float64(max(1, warmup))
}

type constant struct{ warmup int }

func (s constant) Factor(step int) float64 {
	if step < s.warmup {
		return warmupFactor(step, s.warmup)
	}
	return 1
}

// Constant is transformers' get_constant_schedule_with_warmup: a linear ramp from 0 over
// warmup steps, then 1. Constant(0) is a constant lr.
func Constant(warmup int) Schedule { return constant{warmup} }

type linear struct{ warmup, total int }

func (s linear) Factor(step int) float64 {
	if step < s.warmup {
		return warmupFactor(step, s.warmup)
	}
	return max(0, float64(s.total-step)/float64(max(1, s.total-s.warmup)))
}

// Linear is transformers' get_linear_schedule_with_warmup: the warmup ramp, then a linear
// decay from 1 at step warmup to 0 at step total (and 0 after).
func Linear(warmup, total int) Schedule { return linear{warmup, total} }

type cosine struct{ warmup, total int }

func (s cosine) Factor(step int) float64 {
	if step < s.warmup {
		return warmupFactor(step, s.warmup)
	}
	const numCycles = 0.5
	progress := float64(step-s.warmup) / float64(max(1, s.total-s.warmup))
	return max(0, 0.5*(1+math.Cos(math.Pi*numCycles*2*progress)))
}

// Cosine is transformers' get_cosine_schedule_with_warmup with num_cycles 0.5: the warmup
// ramp, then half a cosine from 1 at step warmup to 0 at step total. Past total the
// formula rises again, as it does in transformers.
func Cosine(warmup, total int) Schedule { return cosine{warmup, total} }

// ParseSchedule builds a schedule by name: "constant" (also "constant_with_warmup"; it
// keeps the warmup, unlike transformers' plain "constant"), "linear" or "cosine".
func ParseSchedule(name string, warmup, total int) (Schedule, error) {
	if warmup < 0 || total < 0 {
		return nil, fmt.Errorf("train: lr schedule %q: warmup %d and total %d must not be negative", name, warmup, total)
	}
	switch name {
	case "constant", "constant_with_warmup":
		return Constant(warmup), nil
	case "linear":
		return Linear(warmup, total), nil
	case "cosine":
		return Cosine(warmup, total), nil
	}
	return nil, fmt.Errorf("train: unknown lr schedule %q (want constant, linear or cosine)", name)
}
