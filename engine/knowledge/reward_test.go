package knowledge

import (
	"math"
	"slices"
	"testing"
)

func TestScore(t *testing.T) {
	if got := (Score{3, 4}).Accuracy(); got != 0.75 {
		t.Errorf("3/4 = %v", got)
	}
	if got := (Score{}).Accuracy(); got != 0 {
		t.Errorf("no questions: %v", got)
	}
	s := ScoreOf([]Grade{{Correct: true}, {}, {Correct: true}})
	if s != (Score{2, 3}) {
		t.Errorf("ScoreOf = %+v", s)
	}
	// Micro pools questions; macro averages passages (§1.8: base run macro 32.67 vs micro 32.0).
	a, b := Score{1, 1}, Score{0, 3}
	if micro := a.Add(b).Accuracy(); micro != 0.25 {
		t.Errorf("micro = %v", micro)
	}
	if macro := MacroAccuracy([]float64{a.Accuracy(), b.Accuracy()}); macro != 0.5 {
		t.Errorf("macro = %v", macro)
	}
	if MacroAccuracy(nil) != 0 {
		t.Error("macro of nothing")
	}
}

func TestGains(t *testing.T) {
	got := Gains([]bool{false, true, true, false}, []bool{true, false, true, false})
	if !slices.Equal(got, []int{1, -1, 0, 0}) {
		t.Errorf("Gains = %v", got)
	}
}

func TestMeanStd(t *testing.T) {
	cases := []struct {
		xs        []float64
		mean, std float64
	}{
		{nil, 0, 0},
		{[]float64{0.4}, 0.4, 0},
		{[]float64{1, 2, 3, 4}, 2.5, math.Sqrt(5.0 / 3)}, // statistics.stdev([1,2,3,4]) = 1.2909944487358056
		{[]float64{0.2, 0.2, 0.2}, 0.2, 0},
		{[]float64{0, 1}, 0.5, math.Sqrt(0.5)},
	}
	for _, c := range cases {
		m, s := MeanStd(c.xs)
		if math.Abs(m-c.mean) > 1e-12 || math.Abs(s-c.std) > 1e-12 {
			t.Errorf("MeanStd(%v) = %v, %v; want %v, %v", c.xs, m, s, c.mean, c.std)
		}
	}
}

func TestBestOfK(t *testing.T) {
	cases := []struct {
		means []float64
		want  int
	}{
		{nil, -1},
		{[]float64{0.2}, 0},
		{[]float64{0.2, 0.6, 0.4}, 1},
		{[]float64{0.6, 0.2, 0.6, 0.6}, 0}, // ties keep the earliest (stable sort)
		{[]float64{0.2, 0.6, 0.6}, 1},
		{[]float64{0, 0, 0}, 0}, // no positive-reward requirement
		{[]float64{math.NaN(), 0.1}, 1},
		{[]float64{math.NaN()}, -1},
	}
	for _, c := range cases {
		if got := BestOfK(c.means); got != c.want {
			t.Errorf("BestOfK(%v) = %d, want %d", c.means, got, c.want)
		}
	}
}
