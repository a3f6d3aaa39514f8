package effect

import (
	"fmt"
	"math"
	"strings"
)

// A Check is one ordering the method expects, stated as a paired comparison over the
// table's items: the mean of B - A (B's mean alone when A is nil) must be at least
// AtLeast, or at most AtMost when that is set; Sure also asks for the difference's 95%
// interval to lie above zero, so the passages sampled do not explain it.
type Check struct {
	Label   string
	A, B    []float64
	AtLeast float64
	AtMost  *float64
	Sure    bool
}

// Outcome is a check's measured difference (or mean) with its interval, and whether it
// holds.
type Outcome struct {
	Check
	Interval
	Met bool
}

// Evaluate bootstraps each check as the table does (same resamples and seed).
func Evaluate(cs []Check, o Options) []Outcome {
	if o.Resamples == 0 {
		o.Resamples = DefaultResamples
	}
	var out []Outcome
	for _, c := range cs {
		iv := Paired(c.A, c.B, o.Resamples, o.Seed)
		met := iv.Est >= c.AtLeast-1e-12
		if c.AtMost != nil {
			met = iv.Est <= *c.AtMost+1e-12
		}
		if c.Sure {
			met = met && iv.Lo > 0
		}
		if math.IsNaN(iv.Est) {
			met = false
		}
		out = append(out, Outcome{Check: c, Interval: iv, Met: met})
	}
	return out
}

// Mix is the item-wise w·a + (1-w)·b: "half of the teacher's gain over the baseline" is
// B - Mix(teacher, baseline, 0.5) >= 0.
func Mix(a, b []float64, w float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = w*a[i] + (1-w)*b[i]
	}
	return out
}

// ChecksMarkdown renders outcomes as a table: what is checked, the measured value, its
// interval, and met or missed.
func ChecksMarkdown(os []Outcome) string {
	var b strings.Builder
	b.WriteString("| target | measured | 95% CI | |\n|---|---|---|---|\n")
	for _, o := range os {
		f, sign := Num, false
		if o.A != nil {
			f, sign = Signed, true
		}
		verdict := "missed"
		if o.Met {
			verdict = "met"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", o.Label, f(o.Est), IntervalText(o.Interval, sign), verdict)
	}
	return b.String()
}
