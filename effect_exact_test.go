package main

import (
	"strings"
	"testing"

	"seal/engine/effect"
	"seal/store"
)

// The exact-match reading scores the stored answers again: an answer that recites text
// holding the gold answer is the grader's (containment) but not exact, so the passage
// row, all recitation here, reads 0 there while the self-edit row, answering cleanly,
// keeps its score; the share of inexact grader-correct answers is counted per row.
func TestExactMatchReading(t *testing.T) {
	item := func(text, gold string, correct bool) store.EvalItem {
		return store.EvalItem{Text: text, Gold: gold, Correct: correct}
	}
	cand := func(task int, kind string, round int, acc float64, items ...store.EvalItem) store.Candidate {
		return store.Candidate{Task: task, Kind: kind, Round: round, Status: store.CandidateDone, AdaptedScore: acc, Evals: items}
	}
	var cands []store.Candidate
	for task := 0; task < 2; task++ {
		cands = append(cands,
			cand(task, store.KindBaselineBase, 0, 0, item(" Dake", "Anbelby", false), item(" 1861", "1867", false)),
			cand(task, store.KindBaselinePassage, 0, 1, item(" Veda took place in Anbelby lies", "Anbelby", true), item("1867. Anor Thaga.", "1867", true)),
			cand(task, store.KindSelfEdit, 0, 0.5, item(" Anbelby.", "Anbelby", true), item(" 1861", "1867", false)),
			cand(task, store.KindSelfEdit, 1, 1, item(" anbelby", "Anbelby", true), item(" 1867", "1867", true)),
		)
	}
	cands = append(cands, cand(0, store.KindSelfEdit, 0, 0, item("x", "y", false)))             // no evals: skipped below
	cands[len(cands)-1].Evals = nil                                                             // a candidate stored without answers
	cands = append(cands, cand(5, store.KindSelfEdit, 0, 1, item(" Anbelby", "Anbelby", true))) // an RL passage: in no row
	eval := map[int]int{0: 0, 1: 1}
	out, err := exactMatchReading(cands, eval, effect.Options{Resamples: 200, Seed: 1, Items: "passages"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| condition | exact match |",
		"| no update | 0.000 |",
		"| train on the passage only | 0.000 |",
		"| train on the model's own self-edits, round 0 (mean of k) | 0.500 |",
		"| own self-edits after 1 ReST-EM round (mean of k) | 1.000 |",
		"train on the passage only 4 of 4 (100%)",
		"train on the model's own self-edits, round 0 (mean of k) 0 of 2 (0%)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "no update 0 of") {
		t.Errorf("a row without grader-correct answers has a share:\n%s", out)
	}
	// A run whose candidates carry no answers has no such reading.
	for i := range cands {
		cands[i].Evals = nil
	}
	if out, err := exactMatchReading(cands, eval, effect.Options{Resamples: 200, Seed: 1}); err != nil || out != "" {
		t.Errorf("without stored answers: %q, %v", out, err)
	}
}
