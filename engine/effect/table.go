package effect

import (
	"fmt"
	"math"
	"strings"
)

// Condition is one row of the table: a label and one score per item, items in the same
// order in every condition of a table (NaN: the condition has no score for that item).
type Condition struct {
	Label  string
	Scores []float64
}

// Options say how the table is computed and what its header calls things.
type Options struct {
	Resamples int    // bootstrap draws; 0 means DefaultResamples
	Seed      uint64 // the bootstrap's seed, fixed so a table prints the same twice
	Metric    string // what a score is: "closed-book accuracy", "pass@2"
	Items     string // what an item is, plural: "passages", "tasks"
	Note      string // a line printed under the table (the run, the question count, ...)
}

// DefaultResamples is the bootstrap's number of draws.
const DefaultResamples = 10_000

// Row is one condition's result: its mean with interval, and (from the second row on)
// the paired difference from the row above.
type Row struct {
	Label string
	Mean  Interval
	Diff  *Interval // nil on the first row
}

// Table is the computed table.
type Table struct {
	Rows  []Row
	Items int // items per condition
	Opts  Options
}

// Compute bootstraps every condition and every adjacent pair. Conditions must all have
// the same number of items, at least one.
func Compute(conds []Condition, o Options) (Table, error) {
	if o.Resamples == 0 {
		o.Resamples = DefaultResamples
	}
	if o.Resamples < 100 {
		return Table{}, fmt.Errorf("effect: %d bootstrap resamples are too few for a 95%% interval (want at least 100)", o.Resamples)
	}
	if len(conds) == 0 {
		return Table{}, fmt.Errorf("effect: no conditions")
	}
	n := len(conds[0].Scores)
	for _, c := range conds {
		if len(c.Scores) != n {
			return Table{}, fmt.Errorf("effect: condition %q has %d items, %q has %d: the rows must score the same items",
				c.Label, len(c.Scores), conds[0].Label, n)
		}
	}
	if n == 0 {
		return Table{}, fmt.Errorf("effect: no items")
	}
	t := Table{Items: n, Opts: o}
	for i, c := range conds {
		// Every row draws the same items (one seed): the intervals of a table are of one bootstrap.
		r := Row{Label: c.Label, Mean: Mean(c.Scores, o.Resamples, o.Seed)}
		if i > 0 {
			d := Paired(conds[i-1].Scores, c.Scores, o.Resamples, o.Seed)
			r.Diff = &d
		}
		t.Rows = append(t.Rows, r)
	}
	return t, nil
}

// Markdown renders the table: condition, mean, its interval, and the paired difference
// from the row above with its interval.
func (t Table) Markdown() string {
	var b strings.Builder
	metric, items := t.Opts.Metric, t.Opts.Items
	if metric == "" {
		metric = "score"
	}
	if items == "" {
		items = "items"
	}
	fmt.Fprintf(&b, "| condition | %s | 95%% CI | difference from the row above (paired) | 95%% CI |\n|---|---|---|---|---|\n", metric)
	for _, r := range t.Rows {
		diff, ci := "", ""
		if r.Diff != nil {
			diff, ci = Signed(r.Diff.Est), IntervalText(*r.Diff, true)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.Label, Num(r.Mean.Est), IntervalText(r.Mean, false), diff, ci)
	}
	fmt.Fprintf(&b, "\n%s: mean over %d %s; 95%% intervals by a percentile bootstrap over %s (%d resamples, seed %d); a difference resamples the same %s for both rows.\n",
		metric, t.Items, items, items, t.Opts.Resamples, t.Opts.Seed, items)
	for _, r := range t.Rows {
		if r.Mean.N < t.Items {
			fmt.Fprintf(&b, "%s: %d of the %d %s scored.\n", r.Label, r.Mean.N, t.Items, items)
		}
	}
	if t.Opts.Note != "" {
		fmt.Fprintln(&b, t.Opts.Note)
	}
	return b.String()
}

// Num is v to three decimals, a dash for NaN (no score); Signed the same with its sign.
func Num(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.3f", v)
}

func Signed(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%+.3f", v)
}

// IntervalText is iv's interval as "[lo, hi]" (signed for a difference), a dash when it has none.
func IntervalText(iv Interval, sign bool) string {
	if math.IsNaN(iv.Lo) {
		return "–"
	}
	f := Num
	if sign {
		f = Signed
	}
	return "[" + f(iv.Lo) + ", " + f(iv.Hi) + "]"
}
