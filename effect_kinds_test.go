package main

import (
	"strings"
	"testing"

	"seal/store"
)

// answerKinds counts each row's answers by the kind of the gold answer: digits or words.
func TestAnswerKinds(t *testing.T) {
	item := func(gold string, correct bool) store.EvalItem {
		return store.EvalItem{Text: "x", Gold: gold, Correct: correct}
	}
	cand := func(task int, kind string, round int, items ...store.EvalItem) store.Candidate {
		return store.Candidate{Task: task, Kind: kind, Round: round, Status: store.CandidateDone, Evals: items}
	}
	cands := []store.Candidate{
		cand(0, store.KindBaselinePassage, 0, item("1867", true), item(" 42 ", true), item("Anbelby", false), item("eight", false)),
		cand(1, store.KindBaselinePassage, 0, item("1901", false), item("tanner", true)),
		cand(0, store.KindBaselineContext, 0, item("Anbelby", true)),
		cand(0, store.KindSelfEdit, 1, item("1867", true)),
		cand(7, store.KindBaselinePassage, 0, item("1867", true)), // an RL passage: in no row
	}
	out := answerKinds(cands, map[int]int{0: 0, 1: 1})
	for _, want := range []string{
		"train on the passage only: numbers 2 of 3 (67%), words 1 of 3 (33%)",
		"passage in context, no update: numbers none asked, words 1 of 1 (100%)",
		"own self-edits after 1 ReST-EM round (mean of k): numbers 1 of 1 (100%), words none asked",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "row): no update") || strings.Contains(out, "best of the k") {
		t.Errorf("a row without candidates, or the best-of-k row, is listed:\n%s", out)
	}
	for i := range cands {
		cands[i].Evals = nil
	}
	if out := answerKinds(cands, map[int]int{0: 0, 1: 1}); out != "" {
		t.Errorf("without stored answers: %q", out)
	}
}
