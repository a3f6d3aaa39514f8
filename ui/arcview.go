package ui

import (
	"fmt"
	"strings"

	"seal/store"
	"seal/store/termsafe"
)

// ARC runs shown as grids: the live eval pane (newest graded test first: input,
// prediction, expected, ✓/✗) and the ARC part of a run's detail (each task's
// demonstrations, then each candidate's predictions beside the expected outputs).

// arcEvalBody fills w x h with the newest graded ARC answers, each a title line and
// its grids side by side, as many as fit.
func (v *liveView) arcEvalBody(w, h int) string {
	s := v.st
	if len(s.evals) == 0 {
		return styleDim.Render("no graded test yet")
	}
	var parts []string
	used := 0
	for i := len(s.evals) - 1; i >= 0 && used < h; i-- {
		e := s.evals[i]
		title, input := arcQuestion(e.Question)
		title, who := termsafe.Line(title), termsafe.Line(e.Phase)
		if e.Cand >= 0 {
			who += fmt.Sprintf(" c%d", e.Cand)
		}
		head := fmt.Sprintf("%s %s %s", mark(e.Correct), styleDim.Render(who), title)
		room := h - used - 1
		if room < 4 && len(parts) > 0 { // a caption and a row or two say nothing: stop
			break
		}
		grids := sideBySide(arcAnswerBlocks(input, e.Answer, e.Gold), " → ", w, max(2, room))
		parts = append(parts, head, grids)
		used += 1 + strings.Count(grids, "\n") + 1
	}
	return strings.Join(parts, "\n")
}

func mark(ok bool) string {
	if ok {
		return styleGood.Render("✓")
	}
	return styleBad.Render("✗")
}

// arcGridRows is the most grid rows a detail view draws per grid (ARC's largest).
const arcGridRows = 30

// arcTaskSection is one stored ARC task's demonstrations, input → output per pair.
func arcTaskSection(t store.Task, w int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", styleTitle.Render(fmt.Sprintf("task %d: %s", t.Index, termsafe.Line(t.Key))))
	demos, err := parseDemos(t.Context)
	if err != nil {
		return b.String() + styleBad.Render(termsafe.Line(err.Error())) + "\n"
	}
	for i, d := range demos {
		bs := []gridBlock{
			{caption: fmt.Sprintf("demo %d input %d×%d", i, d.in.Rows(), d.in.Cols()), grid: d.in},
			{caption: fmt.Sprintf("output %d×%d", d.out.Rows(), d.out.Cols()), grid: d.out},
		}
		b.WriteString(sideBySide(bs, " → ", w, arcGridRows+1) + "\n")
	}
	return b.String()
}

// arcEvalSection is one candidate's graded test answers as grids.
func arcEvalSection(c store.Candidate, task *store.Task, w int) string {
	var b strings.Builder
	for _, e := range c.Evals {
		_, input := arcQuestion(e.Prompt)
		if input == "" && task != nil && e.Question < len(task.Questions) {
			input = task.Questions[e.Question].Question
		}
		fmt.Fprintf(&b, "  %s test %d (repeat %d)\n", mark(e.Correct), e.Question, e.Repeat)
		b.WriteString(indent(sideBySide(arcAnswerBlocks(input, e.Text, e.Gold), " → ", w-2, arcGridRows+1), "  ") + "\n")
	}
	return b.String()
}
