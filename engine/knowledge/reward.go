package knowledge

import "math"

// Score counts correct answers over a set of questions.
type Score struct{ Correct, Total int }

// Accuracy is Correct/Total, 0 for no questions.
func (s Score) Accuracy() float64 {
	if s.Total == 0 {
		return 0
	}
	return float64(s.Correct) / float64(s.Total)
}

// Add pools two scores: summing scores gives the micro accuracy that CPT reports (§1.11).
func (s Score) Add(o Score) Score { return Score{s.Correct + o.Correct, s.Total + o.Total} }

// ScoreOf counts the correct grades.
func ScoreOf(grades []Grade) Score {
	s := Score{Total: len(grades)}
	for _, g := range grades {
		if g.Correct {
			s.Correct++
		}
	}
	return s
}

// Gains compares per-question verdicts before and after adaptation as the inner-loop reply
// does: +1 for a question fixed, -1 for one broken, 0 otherwise. The slices must be equally
// long; extra entries of either are ignored.
func Gains(baseline, adapted []bool) []int {
	n := min(len(baseline), len(adapted))
	out := make([]int, n)
	for i := range n {
		switch {
		case adapted[i] && !baseline[i]:
			out[i] = 1
		case baseline[i] && !adapted[i]:
			out[i] = -1
		}
	}
	return out
}

// MeanStd is the mean and the sample standard deviation (n-1, as the reference's
// statistics.stdev); std is 0 for fewer than two values, mean 0 for none.
func MeanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// BestOfK is the KI ReST-EM filter (§1.9): the index of the candidate with the highest
// adapted-accuracy mean, the earliest on ties (a stable descending sort's first), with no
// requirement that it beat the baseline. NaN never wins; -1 when there is no candidate or
// every mean is NaN.
func BestOfK(adaptedMeans []float64) int {
	best := -1
	for i, m := range adaptedMeans {
		if math.IsNaN(m) {
			continue
		}
		if best < 0 || m > adaptedMeans[best] {
			best = i
		}
	}
	return best
}

// MacroAccuracy is the headline KI accuracy: the mean over passages of each passage's
// accuracy, not the pooled accuracy over questions (§1.8). 0 for no passages.
func MacroAccuracy(perPassage []float64) float64 {
	m, _ := MeanStd(perPassage)
	return m
}
