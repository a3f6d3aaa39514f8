// Package effect turns per-item scores into the effect table: each condition's mean over
// items (passages, ARC tasks) with a 95% percentile-bootstrap interval, and each adjacent
// pair's paired difference with its own interval. It knows nothing of runs or domains: a
// caller hands it conditions × items score vectors, so the knowledge table (accuracy per
// passage) and the ARC table (pass@2 per task) print through the same code.
//
// The bootstrap resamples items with replacement. A paired difference resamples the same
// items for both conditions, so what the two share (an easy passage is easy for both)
// cancels, and its interval is the one that says whether the second beats the first.
package effect

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Interval is a statistic and its percentile-bootstrap interval.
type Interval struct {
	Est, Lo, Hi float64 // the statistic on the items as given; the interval's ends
	N           int     // items that had a score (NaN: no score)
}

// Level is the interval's coverage: 95%.
const Level = 0.95

// Mean is the mean of x's scored items (NaN marks an item with no score) with its 95%
// percentile-bootstrap interval over resamples draws of len(x) items with replacement.
func Mean(x []float64, resamples int, seed uint64) Interval {
	return Paired(nil, x, resamples, seed)
}

// Paired is the mean over items of b[i] - a[i] (the items scored in both) with its 95%
// percentile-bootstrap interval: each draw resamples items and takes both conditions' scores
// of the same items. A nil a gives the mean of b alone (Mean).
func Paired(a, b []float64, resamples int, seed uint64) Interval {
	d := diffs(a, b)
	est, n := meanOf(d, nil)
	if n == 0 {
		return Interval{Est: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	means := resampledMeans(d, resamples, rand.New(rand.NewPCG(seed, 0x5ea1)))
	lo, hi := percentiles(means)
	return Interval{Est: est, Lo: lo, Hi: hi, N: n}
}

// diffs is b - a item by item (b alone when a is nil); an item missing in either is NaN.
func diffs(a, b []float64) []float64 {
	d := slices.Clone(b)
	if a != nil {
		for i := range d {
			d[i] -= a[i] // NaN in either stays NaN
		}
	}
	return d
}

// meanOf is the mean of the non-NaN x[idx[j]] (every x when idx is nil) and their count.
func meanOf(x []float64, idx []int) (float64, int) {
	sum, n := 0.0, 0
	add := func(v float64) {
		if !math.IsNaN(v) {
			sum += v
			n++
		}
	}
	if idx == nil {
		for _, v := range x {
			add(v)
		}
	} else {
		for _, i := range idx {
			add(x[i])
		}
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return sum / float64(n), n
}

// resampledMeans draws resamples bootstrap samples of x's items and returns each one's
// mean, sorted. A draw in which every item is unscored (possible only when some are) is
// left out.
func resampledMeans(x []float64, resamples int, rng *rand.Rand) []float64 {
	idx := make([]int, len(x))
	out := make([]float64, 0, resamples)
	for range resamples {
		for j := range idx {
			idx[j] = rng.IntN(len(x))
		}
		if m, n := meanOf(x, idx); n > 0 {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

// percentiles are the (1-Level)/2 and (1+Level)/2 quantiles of sorted, interpolated
// linearly between order statistics (the type 7 rule of R and NumPy's default).
func percentiles(sorted []float64) (lo, hi float64) {
	return quantile(sorted, (1-Level)/2), quantile(sorted, (1+Level)/2)
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := q * float64(len(sorted)-1)
	i := int(math.Floor(h))
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}
