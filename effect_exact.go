package main

import (
	"fmt"
	"strings"

	"seal/engine"
	"seal/engine/effect"
	"seal/engine/knowledge"
	"seal/store"
)

// The knowledge table's score is the run's grader's: by default containment, which
// counts an answer correct when the gold answer appears anywhere in its 16 tokens. An
// update that leaves the model reciting its training text ("1867. Anor Thaga. tanner
// from Kewyby.") is then credited for every fact the recitation happens to hold, though
// it answers nothing. The exact-match reading scores the same stored answers again,
// correct only when the answer is the gold answer (SQuAD normalisation), so a person can
// see how much of a row is recitation. It is a second reading, not the table's metric.

// storedAccuracy is a candidate's accuracy as the run's grader scored it.
func storedAccuracy(c store.Candidate) (float64, bool) { return c.AdaptedScore, true }

// exactMatchReading is the effect table read by exact match, with the share of each
// row's grader-correct answers that are not exact (recitation and other extra words),
// for a knowledge run whose candidates carry their answers; "" for one that has none.
func exactMatchReading(cands []store.Candidate, eval map[int]int, o effect.Options) (string, error) {
	conds := effectConditions(cands, eval, engine.ExactAccuracy)
	if len(conds) == 0 {
		return "", nil
	}
	o.Metric = "exact match"
	o.Note = ""
	t, err := effect.Compute(conds, o)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("\nThe same answers read by exact match (the answer is the gold answer, SQuAD normalisation), beside the grader's " +
		"reading above: containment credits an answer holding the gold answer anywhere, so an update that leaves the model " +
		"reciting its training text scores there without answering. A second reading, not the table's metric.\n\n")
	b.WriteString(t.Markdown())
	b.WriteString("\nGrader-correct answers that are not exact matches, per row: " + inexactShares(cands, eval) + ".\n")
	return b.String(), nil
}

// inexactShares is, per row of the table (knowledgeRows; the best-of-k row is the round-0
// row's candidates again and is left out), "label x of y (z%)": of the answers the grader
// took as correct in the row's candidates, how many are not exact matches. A row without
// grader-correct answers has no share.
func inexactShares(cands []store.Candidate, eval map[int]int) string {
	byRow, rounds := evalsByRow(cands, eval)
	var parts []string
	for _, row := range knowledgeRows(rounds) {
		correct, inexact := 0, 0
		for _, e := range byRow[row.key] {
			if e.Correct {
				correct++
				if !knowledge.ExactMatch(e.Text, e.Gold) {
					inexact++
				}
			}
		}
		if row.best || correct == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d of %d (%.0f%%)", row.label, inexact, correct, 100*float64(inexact)/float64(correct)))
	}
	return strings.Join(parts, "; ")
}

// evalsByRow gathers the stored answers of each row of the knowledge table (rowKey: a
// candidate kind and round) over the evaluation passages, done candidates only, with the
// number of the run's policy rounds (for knowledgeRows).
func evalsByRow(cands []store.Candidate, eval map[int]int) (map[rowKey][]store.EvalItem, int) {
	byRow, rounds := map[rowKey][]store.EvalItem{}, 0
	for _, c := range cands {
		if _, ok := eval[c.Task]; !ok || c.Status != store.CandidateDone {
			continue
		}
		k := rowKey{c.Kind, c.Round}
		byRow[k] = append(byRow[k], c.Evals...)
		rounds = max(rounds, c.Round+1)
	}
	return byRow, rounds
}
