package main

import (
	"math"
	"strings"
	"testing"

	"seal/engine/effect"
)

// TestPairedComparisonPairsByPassage: two runs that evaluated overlapping passages in other
// orders are paired by passage, not by position, and the difference is taken over the
// passages both scored.
func TestPairedComparisonPairsByPassage(t *testing.T) {
	a := itemScores{domain: "knowledge", items: []string{"p1", "p2", "p3"},
		conds: []effect.Condition{{Label: rowPassage, Scores: []float64{1, 0, 0.5}}, {Label: rowOwn, Scores: []float64{0, 0, 0}}},
		exact: []effect.Condition{{Label: rowPassage, Scores: []float64{0, 0, 0}}}}
	b := itemScores{domain: "knowledge", items: []string{"p3", "p1", "p4"},
		conds: []effect.Condition{{Label: rowPassage, Scores: []float64{0.25, 0, 1}}, {Label: rowTeacher, Scores: []float64{1, 1, 1}}},
		exact: []effect.Condition{{Label: rowPassage, Scores: []float64{0.5, math.NaN(), 1}}}}
	out := pairedComparison(a, b, "A", "B", 2000)
	for _, want := range []string{
		"paired: B against A, over the 2 evaluation passages both runs scored (A has 3, B 3)",
		"| " + rowPassage + " | 0.750 | 0.125 | -0.625 |",                             // p1: 1 -> 0, p3: 0.5 -> 0.25
		"| " + rowPassage + " | 0.000 | 0.500 | +0.500 | [+0.500, +0.500] (1 of 2) |", // exact: p1 unscored in B
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, rowOwn) || strings.Contains(out, rowTeacher) {
		t.Errorf("a row only one run has is no pair:\n%s", out)
	}
	if out := pairedComparison(a, itemScores{domain: "knowledge", items: []string{"p9"}}, "A", "C", 100); !strings.Contains(out, "no evaluation passages in common (3 and 1)") {
		t.Errorf("disjoint runs:\n%s", out)
	}
	if out := pairedComparison(a, itemScores{domain: "arc", items: []string{"p1"}}, "A", "D", 100); !strings.Contains(out, "not comparable (knowledge and arc runs)") {
		t.Errorf("runs of two domains:\n%s", out)
	}
}
