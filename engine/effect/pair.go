package effect

// Two runs' tables, paired: a comparison of two runs (two models, two settings) measured on
// the same items is far tighter than their two tables' intervals suggest, because an easy
// passage is easy for both. So the items are matched by identity (what makes two runs' items
// the same one: a passage's text and questions, an ARC task's name), and each condition both
// runs have gets the difference over the matched items with its paired interval.

// Scored is one run's table before computing: per item its identity, and the conditions'
// scores over those items in the same order.
type Scored struct {
	Items      []string
	Conditions []Condition
}

// PairedRow is one condition of two runs over their matched items: each run's mean and the
// paired difference b - a with its interval (Diff.N: the items both scored).
type PairedRow struct {
	Label string
	A, B  float64
	Diff  Interval
}

// Pairing is two runs' tables paired: Items matched of ItemsA and ItemsB, and a row per
// condition both have, in a's order.
type Pairing struct {
	Items, ItemsA, ItemsB int
	Rows                  []PairedRow
}

// Pair matches b's items to a's by identity (an item listed twice counts once, at its first
// place) and computes the paired rows.
func Pair(a, b Scored, o Options) Pairing {
	at, bt := matchItems(a.Items, b.Items)
	p := Pairing{Items: len(at), ItemsA: len(a.Items), ItemsB: len(b.Items)}
	if len(at) == 0 {
		return p
	}
	resamples := o.Resamples
	if resamples == 0 {
		resamples = DefaultResamples
	}
	for _, ca := range a.Conditions {
		for _, cb := range b.Conditions {
			if cb.Label != ca.Label {
				continue
			}
			x, y := pick(ca.Scores, at), pick(cb.Scores, bt)
			ma, _ := meanOf(x, nil)
			mb, _ := meanOf(y, nil)
			p.Rows = append(p.Rows, PairedRow{Label: ca.Label, A: ma, B: mb, Diff: Paired(x, y, resamples, o.Seed)})
			break
		}
	}
	return p
}

// matchItems gives the positions in a and in b of the items both have, in a's order.
func matchItems(a, b []string) (at, bt []int) {
	inB := map[string]int{}
	for i := len(b) - 1; i >= 0; i-- {
		inB[b[i]] = i
	}
	seen := map[string]bool{}
	for i, it := range a {
		if j, ok := inB[it]; ok && !seen[it] {
			seen[it] = true
			at, bt = append(at, i), append(bt, j)
		}
	}
	return at, bt
}

func pick(x []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = x[j]
	}
	return out
}

// Compared is two runs paired under each reading of their items both have (the table's own
// reading first, then e.g. knowledge answers read by exact match), or why they cannot be.
type Compared struct {
	Items    string // what an item is, plural: "passages", "tasks"
	Readings []Reading
	Reason   string // not "": the runs cannot be paired (runs of two domains)
}

// Matched is the items both runs scored, and each run's count (0s for runs not paired).
// Every reading of a run has the same items, so the first one's say it.
func (c Compared) Matched() (items, ofA, ofB int) {
	if len(c.Readings) == 0 {
		return 0, 0, 0
	}
	p := c.Readings[0].Pairing
	return p.Items, p.ItemsA, p.ItemsB
}

// Reading is one reading's pairing: what a score is, and the paired rows.
type Reading struct {
	Metric string
	Pairing
}
