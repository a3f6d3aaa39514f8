package effect

import (
	"math"
	"testing"
)

// TestPairMatchesItemsByIdentity: two runs that scored overlapping items in other orders are
// paired by item, not by position, each row over the items both scored.
func TestPairMatchesItemsByIdentity(t *testing.T) {
	a := Scored{Items: []string{"p1", "p2", "p3", "p1"}, Conditions: []Condition{
		{Label: "passage", Scores: []float64{1, 0, 0.5, 0}}, {Label: "own", Scores: []float64{0, 0, 0, 0}}}}
	b := Scored{Items: []string{"p3", "p1", "p4"}, Conditions: []Condition{
		{Label: "teacher", Scores: []float64{1, 1, 1}}, {Label: "passage", Scores: []float64{0.25, math.NaN(), 1}}}}
	p := Pair(a, b, Options{Resamples: 2000, Seed: 1})
	if p.Items != 2 || p.ItemsA != 4 || p.ItemsB != 3 {
		t.Fatalf("matched %d of %d and %d items, want 2 of 4 and 3", p.Items, p.ItemsA, p.ItemsB)
	}
	if len(p.Rows) != 1 || p.Rows[0].Label != "passage" {
		t.Fatalf("rows %+v, want the one condition both runs have", p.Rows)
	}
	r := p.Rows[0]
	// p1: 1 -> unscored, p3: 0.5 -> 0.25 (a's second p1 is not a second item).
	if r.A != 0.75 || r.B != 0.25 || r.Diff.N != 1 || r.Diff.Est != -0.25 || r.Diff.Lo != -0.25 || r.Diff.Hi != -0.25 {
		t.Errorf("row %+v, want a 0.75, b 0.25 and the difference -0.25 over one item", r)
	}
	if p := Pair(a, Scored{Items: []string{"p9"}, Conditions: b.Conditions}, Options{}); p.Items != 0 || len(p.Rows) != 0 {
		t.Errorf("disjoint runs paired: %+v", p)
	}
}
