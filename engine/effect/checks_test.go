package effect

import (
	"strings"
	"testing"
)

// TestChecks: a difference that clears its margin with an interval above zero is met;
// one whose interval reaches zero is missed when Sure asks for it; an upper bound on a
// mean is checked as such; Mix takes a share of a gain.
func TestChecks(t *testing.T) {
	base := []float64{0.2, 0.4, 0.0, 0.6, 0.2, 0.4, 0.2, 0.0}
	up := []float64{0.4, 0.6, 0.2, 0.8, 0.4, 0.6, 0.4, 0.2}    // +0.2 on every item
	noisy := []float64{0.6, 0.2, 0.2, 0.4, 0.0, 0.8, 0.2, 0.0} // +0.05 on average, either way per item
	at := 0.05
	os := Evaluate([]Check{
		{Label: "up", A: base, B: up, AtLeast: 0.05, Sure: true},
		{Label: "noisy", A: base, B: noisy, AtLeast: 0.0, Sure: true},
		{Label: "noisy, point only", A: base, B: noisy, AtLeast: 0.0},
		{Label: "base at most 0.05", B: base, AtMost: &at},
		{Label: "up beats half of itself over base", A: Mix(up, base, 0.5), B: up, Sure: true},
	}, Options{Resamples: 2000, Seed: 1})
	want := []bool{true, false, true, false, true}
	for i, o := range os {
		if o.Met != want[i] {
			t.Errorf("%s: met %v (%.3f [%.3f, %.3f]), want %v", o.Label, o.Met, o.Est, o.Lo, o.Hi, want[i])
		}
	}
	if d := os[0].Est; d < 0.2-1e-9 || d > 0.2+1e-9 {
		t.Errorf("up - base = %g, want 0.2", d)
	}
	md := ChecksMarkdown(os)
	if !strings.Contains(md, "| up | +0.200 | [+0.200, +0.200] | met |") || !strings.Contains(md, "| base at most 0.05 | 0.250 |") {
		t.Errorf("markdown:\n%s", md)
	}
}
