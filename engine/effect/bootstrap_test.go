package effect

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// A known case: 400 items, half of them 1. The mean is 0.5 and its 95% interval, by the
// normal approximation the bootstrap converges to, 0.5 ± 1.96·sqrt(0.25/400) = [0.451, 0.549].
func TestMeanKnownCase(t *testing.T) {
	x := make([]float64, 400)
	for i := range 200 {
		x[i] = 1
	}
	iv := Mean(x, DefaultResamples, 1)
	half := 1.96 * math.Sqrt(0.25/400)
	if iv.Est != 0.5 || iv.N != 400 || math.Abs(iv.Lo-(0.5-half)) > 0.006 || math.Abs(iv.Hi-(0.5+half)) > 0.006 {
		t.Fatalf("got %+v, want 0.5 in [%.3f, %.3f] within 0.006", iv, 0.5-half, 0.5+half)
	}
	// The same seed gives the same interval; a constant has a zero-width one.
	if again := Mean(x, DefaultResamples, 1); again != iv {
		t.Fatalf("not reproducible: %+v then %+v", iv, again)
	}
	if c := Mean([]float64{0.3, 0.3, 0.3}, 1000, 2); c.Lo != 0.3 || c.Hi != 0.3 {
		t.Fatalf("a constant's interval is %+v", c)
	}
}

// A difference that is the same on every item is known exactly: paired, its interval has
// no width, whatever the items' spread.
func TestPairedConstantShift(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := make([]float64, 64), make([]float64, 64)
	for i := range a {
		a[i] = rng.Float64()
		b[i] = a[i] + 0.1
	}
	iv := Paired(a, b, 2000, 5)
	for _, v := range []float64{iv.Est, iv.Lo, iv.Hi} {
		if math.Abs(v-0.1) > 1e-12 {
			t.Fatalf("paired difference %+v, want exactly 0.1", iv)
		}
	}
}

// Unscored items (NaN) are left out of a mean and of a difference.
func TestMissingScores(t *testing.T) {
	iv := Mean([]float64{1, math.NaN(), 0, math.NaN()}, 1000, 1)
	if iv.Est != 0.5 || iv.N != 2 {
		t.Fatalf("got %+v, want 0.5 over 2 items", iv)
	}
	d := Paired([]float64{0, 1, math.NaN()}, []float64{1, 1, 1}, 1000, 1)
	if d.Est != 0.5 || d.N != 2 {
		t.Fatalf("got %+v, want 0.5 over the 2 items scored in both", d)
	}
	if e := Mean([]float64{math.NaN()}, 1000, 1); !math.IsNaN(e.Est) || e.N != 0 {
		t.Fatalf("no scored item gave %+v", e)
	}
}

// In a simulation with a known mean, the 95% interval covers it in about 95% of samples.
// 400 samples of 40 items (normal, mean 0.3, sd 0.2), 2,000 resamples each; the
// percentile interval is a little narrow at 40 items, so 0.90 to 0.99 is accepted (a 68%
// or a 99.9% interval falls outside).
func TestCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const samples, items, truth = 400, 40, 0.3
	covered := 0
	for s := range samples {
		x := make([]float64, items)
		for i := range x {
			x[i] = truth + 0.2*rng.NormFloat64()
		}
		iv := Mean(x, 2000, uint64(s))
		if iv.Lo <= truth && truth <= iv.Hi {
			covered++
		}
	}
	rate := float64(covered) / samples
	t.Logf("coverage %.3f", rate)
	if rate < 0.90 || rate > 0.99 {
		t.Fatalf("the 95%% interval covered the truth in %.3f of %d samples", rate, samples)
	}
}

// Items differ far more among themselves than the conditions do: pairing cancels the
// items' own spread, so the paired interval of the difference is much narrower than the
// one from resampling each condition on its own.
func TestPairedNarrowerThanUnpaired(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const n, resamples = 64, 4000
	a, b := make([]float64, n), make([]float64, n)
	for i := range a {
		difficulty := rng.Float64()
		a[i] = difficulty + 0.02*rng.NormFloat64()
		b[i] = difficulty + 0.05 + 0.02*rng.NormFloat64()
	}
	p := Paired(a, b, resamples, 7)
	ma := resampledMeans(a, resamples, rand.New(rand.NewPCG(1, 2)))
	mb := resampledMeans(b, resamples, rand.New(rand.NewPCG(3, 4)))
	d := make([]float64, resamples)
	rng.Shuffle(len(ma), func(i, j int) { ma[i], ma[j] = ma[j], ma[i] }) // pair draws at random, not by rank
	for i := range d {
		d[i] = mb[i] - ma[i]
	}
	slices.Sort(d)
	lo, hi := percentiles(d)
	t.Logf("paired [%.4f, %.4f], unpaired [%.4f, %.4f]", p.Lo, p.Hi, lo, hi)
	if p.Hi-p.Lo >= 0.5*(hi-lo) {
		t.Fatalf("paired width %.4f is not under half the unpaired %.4f", p.Hi-p.Lo, hi-lo)
	}
	if p.Lo <= 0 || lo > 0 {
		t.Fatalf("want the paired interval above 0 and the unpaired one across it: paired [%.4f, %.4f], unpaired [%.4f, %.4f]", p.Lo, p.Hi, lo, hi)
	}
}

func TestTable(t *testing.T) {
	conds := []Condition{
		{"no update", []float64{0, 0, 0.5, 0}},
		{"passage only", []float64{0.5, 0.5, 1, 0.5}},
	}
	tb, err := Compute(conds, Options{Resamples: 1000, Seed: 1, Metric: "accuracy", Items: "passages", Note: "run 7"})
	if err != nil {
		t.Fatal(err)
	}
	if tb.Rows[0].Diff != nil || tb.Rows[1].Diff == nil || tb.Rows[1].Diff.Est != 0.5 || tb.Rows[1].Diff.Lo != 0.5 {
		t.Fatalf("rows %+v", tb.Rows)
	}
	md := tb.Markdown()
	for _, want := range []string{
		"| no update | 0.125 | [", "| passage only | 0.625 |", "| +0.500 | [+0.500, +0.500] |",
		"accuracy: mean over 4 passages; 95% intervals by a percentile bootstrap over passages (1000 resamples, seed 1)", "run 7",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("no %q in\n%s", want, md)
		}
	}
	if _, err := Compute([]Condition{{"a", []float64{1}}, {"b", []float64{1, 0}}}, Options{}); err == nil || !strings.Contains(err.Error(), `"b" has 2 items`) {
		t.Errorf("mismatched items: %v", err)
	}
	if _, err := Compute(conds, Options{Resamples: 10}); err == nil {
		t.Error("10 resamples accepted")
	}
}
