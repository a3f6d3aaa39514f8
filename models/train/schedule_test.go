package train

import (
	"math"
	"testing"
)

func TestSchedules(t *testing.T) {
	// Hand-computed from transformers' lr lambdas (optimization.py).
	cases := []struct {
		name string
		s    Schedule
		want map[int]float64
	}{
		{"constant warmup 3", Constant(3), map[int]float64{0: 0, 1: 1.0 / 3, 2: 2.0 / 3, 3: 1, 4: 1, 1000: 1}},
		{"constant no warmup", Constant(0), map[int]float64{0: 1, 1: 1, 50: 1}},
		// warmup ramp, then (total-step)/(total-warmup), floored at 0
		{"linear 2/10", Linear(2, 10), map[int]float64{0: 0, 1: 0.5, 2: 1, 3: 7.0 / 8, 6: 0.5, 9: 1.0 / 8, 10: 0, 11: 0, 20: 0}},
		{"linear 0/4", Linear(0, 4), map[int]float64{0: 1, 1: 0.75, 2: 0.5, 4: 0}},
		{"linear warmup=total", Linear(5, 5), map[int]float64{4: 0.8, 5: 0, 6: 0}},
		// 0.5·(1+cos(π·progress)), progress = (step-warmup)/(total-warmup)
		{"cosine 2/10", Cosine(2, 10), map[int]float64{
			0: 0, 1: 0.5, 2: 1,
			4:  0.5 * (1 + math.Sqrt2/2), // progress 1/4
			6:  0.5,                      // progress 1/2
			8:  0.5 * (1 - math.Sqrt2/2), // progress 3/4
			10: 0,
			14: 0.5, // past total the cosine comes back up (progress 3/2), as in transformers
		}},
		{"cosine 0/3", Cosine(0, 3), map[int]float64{0: 1, 1: 0.75, 2: 0.25, 3: 0}},
	}
	for _, c := range cases {
		for step, want := range c.want {
			if got := c.s.Factor(step); math.Abs(got-want) > 1e-12 {
				t.Errorf("%s: Factor(%d) = %.15g, want %.15g", c.name, step, got, want)
			}
		}
	}
}

func TestParseSchedule(t *testing.T) {
	for name, want := range map[string]Schedule{
		"constant": Constant(2), "constant_with_warmup": Constant(2), "linear": Linear(2, 8), "cosine": Cosine(2, 8),
	} {
		s, err := ParseSchedule(name, 2, 8)
		if err != nil || s != want {
			t.Errorf("%s: %v %v", name, s, err)
		}
	}
	for _, bad := range []string{"", "Cosine", "exponential"} {
		if _, err := ParseSchedule(bad, 0, 10); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := ParseSchedule("linear", -1, 10); err == nil {
		t.Error("negative warmup: no error")
	}
}

func TestOptimizerUsesScheduleLR(t *testing.T) {
	cfg := AdamWConfig{LR: 2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	opt := NewAdamW(hostBackend{}, nil, cfg, Linear(2, 6))
	for k, want := range []float32{0, 1, 2, 1.5, 1, 0.5, 0} {
		if lr, _ := opt.Step(); lr != want {
			t.Errorf("step %d: lr %g, want %g", k, lr, want)
		}
	}
	opt.SetStepCount(3)
	if opt.LR() != 1.5 {
		t.Errorf("after SetStepCount(3): lr %g", opt.LR())
	}
}

func TestAccumulator(t *testing.T) {
	a := Accumulator{Every: 3}
	var got []bool
	for range 7 {
		got = append(got, a.Micro())
	}
	want := []bool{false, false, true, false, false, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Micro sequence %v, want %v", got, want)
		}
	}
	if a.LossScale() != float32(1)/3 || a.Pending() != 1 {
		t.Fatalf("scale %g pending %d", a.LossScale(), a.Pending())
	}
	if !a.Flush() || a.Pending() != 0 || a.Flush() {
		t.Fatal("Flush")
	}
	for _, every := range []int{0, 1} {
		b := Accumulator{Every: every}
		if !b.Micro() || !b.Micro() || b.LossScale() != 1 {
			t.Fatalf("Every %d must step every micro-batch", every)
		}
	}
}
