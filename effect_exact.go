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
	b.WriteString("\nGrader-correct answers that are not exact matches, per row: ")
	var parts []string
	for _, c := range conds {
		if s, ok := inexactShare(cands, eval, c.Label); ok {
			parts = append(parts, s)
		}
	}
	b.WriteString(strings.Join(parts, "; ") + ".\n")
	return b.String(), nil
}

// inexactShare is "label x of y (z%)": of the answers the grader took as correct in the
// candidates behind a row, how many are not exact matches. The rows are found again by
// their label, as effectConditions names them.
func inexactShare(cands []store.Candidate, eval map[int]int, label string) (string, bool) {
	correct, inexact := 0, 0
	for _, c := range cands {
		if _, ok := eval[c.Task]; !ok || c.Status != store.CandidateDone || rowOf(c) != label {
			continue
		}
		for _, e := range c.Evals {
			if e.Correct {
				correct++
				if !knowledge.ExactMatch(e.Text, e.Gold) {
					inexact++
				}
			}
		}
	}
	if correct == 0 {
		return "", false
	}
	return fmt.Sprintf("%s %d of %d (%.0f%%)", label, inexact, correct, 100*float64(inexact)/float64(correct)), true
}

// rowOf is the row a candidate's mean counts in, as effectConditions keys them: every kind
// but the policy's self-edits in round 0 only (the best-of-k row is the round-0 row's
// candidates again, and is left out here).
func rowOf(c store.Candidate) string {
	switch {
	case c.Kind != store.KindSelfEdit && c.Round != 0:
		return ""
	case c.Kind == store.KindBaselineBase:
		return rowNoUpdate
	case c.Kind == store.KindBaselineContext:
		return rowContext
	case c.Kind == store.KindBaselinePassage:
		return rowPassage
	case c.Kind == "baseline_steps":
		return rowSteps
	case c.Kind == "teacher":
		return rowTeacher
	case c.Kind == store.KindSelfEdit && c.Round == 0:
		return rowOwn
	case c.Kind == store.KindSelfEdit:
		return rowAfter(c.Round)
	}
	return ""
}
