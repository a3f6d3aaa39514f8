package main

import (
	"fmt"
	"strings"
	"unicode"

	"seal/store"
)

// The table's accuracy mixes facts that an update teaches very differently: on the
// embedded world at inner lr 5e-3 a LoRA update on a passage learns its years (36 of 46
// year questions on 48 val passages) and hardly its names, places and trades (8 of 141),
// and a model
// reading the passage in its prompt does the opposite. answerKinds splits each row by the
// kind of the gold answer, so a person sees which facts a condition teaches.

// numberAnswer: a gold answer written in digits (a year, an age, a count).
func numberAnswer(gold string) bool {
	g := strings.TrimSpace(gold)
	return g != "" && strings.IndexFunc(g, func(r rune) bool { return !unicode.IsDigit(r) }) < 0
}

// answerKinds is, per row of the knowledge table (knowledgeRows; the best-of-k row is the
// round-0 row's candidates again and is left out), "label: numbers x of y, words x of y":
// the questions the run's grader took as correct among those whose gold answer is a
// number and among the rest, over the evaluation passages; "" when no candidate carries
// its answers.
func answerKinds(cands []store.Candidate, eval map[int]int) string {
	byRow, rounds := evalsByRow(cands, eval)
	share := func(right, all int) string {
		if all == 0 {
			return "none asked"
		}
		return fmt.Sprintf("%d of %d (%.0f%%)", right, all, 100*float64(right)/float64(all))
	}
	var parts []string
	for _, row := range knowledgeRows(rounds) {
		items := byRow[row.key]
		if row.best || len(items) == 0 {
			continue
		}
		var numbers, numbersRight, words, wordsRight int
		for _, e := range items {
			if numberAnswer(e.Gold) {
				numbers++
				if e.Correct {
					numbersRight++
				}
			} else {
				words++
				if e.Correct {
					wordsRight++
				}
			}
		}
		parts = append(parts, fmt.Sprintf("%s: numbers %s, words %s", row.label, share(numbersRight, numbers), share(wordsRight, words)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "\nQuestions answered by the kind of answer, per row (the run's grader; numbers: answers in digits, such as years; " +
		"words: names, places, trades and counts in words; over every repeat and candidate of the row): " + strings.Join(parts, "; ") + ".\n"
}
