package main

import (
	"strings"
	"testing"

	"seal/engine/effect"
)

// TestPairedMarkdown: `seal compare`'s paired section names the runs and the matched
// passages, prints each reading's rows, and says why when there is nothing to pair.
func TestPairedMarkdown(t *testing.T) {
	scored := func(items []string, v ...float64) effect.Scored {
		return effect.Scored{Items: items, Conditions: []effect.Condition{{Label: rowPassage, Scores: v}}}
	}
	a := itemScores{domain: "knowledge", readings: []namedScores{
		{"grader", scored([]string{"p1", "p2", "p3"}, 1, 0, 0.5)}, {"exact", scored([]string{"p1", "p2", "p3"}, 0, 0, 0)}}}
	b := itemScores{domain: "knowledge", readings: []namedScores{
		{"grader", scored([]string{"p3", "p1", "p4"}, 0.25, 0, 1)}, {"exact", scored([]string{"p3", "p1", "p4"}, 0.5, 0.5, 1)}}}
	out := pairedMarkdown(pairRuns(a, b, 2000), "A", "B", 2000)
	for _, want := range []string{
		"paired: B against A, over the 2 evaluation passages both runs scored (A has 3, B 3)",
		"| grader | A | B | difference (paired) | 95% CI |",
		"| " + rowPassage + " | 0.750 | 0.125 | -0.625 |", // p1: 1 -> 0, p3: 0.5 -> 0.25
		"| exact | A | B |",
		"| " + rowPassage + " | 0.000 | 0.500 | +0.500 | [+0.500, +0.500] |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if out := pairedMarkdown(pairRuns(a, itemScores{domain: "knowledge", readings: []namedScores{{"grader", scored([]string{"p9"}, 1)}}}, 100), "A", "C", 100); !strings.Contains(out, "no evaluation passages in common (3 and 1)") {
		t.Errorf("disjoint runs:\n%s", out)
	}
	if out := pairedMarkdown(pairRuns(a, itemScores{domain: "arc"}, 100), "A", "D", 100); !strings.Contains(out, "not comparable (knowledge and arc runs)") {
		t.Errorf("runs of two domains:\n%s", out)
	}
}
