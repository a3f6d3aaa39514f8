package engine

import "math"

// Retention is a paired comparison of probe accuracy before and after a change.
//
// Each probe question i gives d_i = correct_after_i − correct_before_i ∈ {−1, 0, 1};
// Delta is their mean (the accuracy change) and SE the standard error of that mean,
// sd(d)/√n with the sample standard deviation. Pairing cancels the questions' own
// difficulty, so the noise is only what the change did, question by question. The
// change counts as a drop when even the optimistic end of the one-sided interval is
// below the tolerated loss: Delta + Z·SE < −Margin. With fewer than two probes there
// is no noise estimate and the guard treats SE as 1 (nothing is judged dropped by a
// single question).
type Retention struct {
	N       int     `json:"n"`
	Before  float64 `json:"before"`
	After   float64 `json:"after"`
	Delta   float64 `json:"delta"`
	SE      float64 `json:"se"`
	Noise   float64 `json:"noise"` // Z·SE
	Margin  float64 `json:"margin"`
	Dropped bool    `json:"dropped"`
}

// PairedRetention compares per-question correctness before and after a change.
func PairedRetention(before, after []bool, margin, z float64) Retention {
	n := min(len(before), len(after))
	r := Retention{N: n, Margin: margin}
	if n == 0 {
		return r
	}
	d := make([]float64, n)
	var sb, sa, sd float64
	for i := range n {
		b, a := b2f(before[i]), b2f(after[i])
		sb, sa = sb+b, sa+a
		d[i] = a - b
		sd += d[i]
	}
	fn := float64(n)
	r.Before, r.After, r.Delta = sb/fn, sa/fn, sd/fn
	if n < 2 {
		r.SE = 1
	} else {
		var ss float64
		for _, v := range d {
			ss += (v - r.Delta) * (v - r.Delta)
		}
		r.SE = math.Sqrt(ss/(fn-1)) / math.Sqrt(fn)
	}
	r.Noise = z * r.SE
	r.Dropped = r.Delta+r.Noise < -margin
	return r
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
