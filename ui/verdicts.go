package ui

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"seal/store"
	"seal/store/termsafe"
)

// Run detail's reading of the person's verdicts: how they line up with the rewards
// (store.VerdictStatsOf), and one passage's self-edits in round 0 beside those of
// the last round (store.RoundOverRoundOf). Drawing only; the counting is the store's.

// verdictSection is the approval rate per reward band and the verdicts that go
// against the reward, with their reasons; "" when the run has no verdicts.
func verdictSection(st store.VerdictStats, w int) string {
	total := 0
	for _, b := range st.Bands {
		total += b.Reviewed()
	}
	if total == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n" + styleTitle.Render("verdicts against rewards") + "\n")
	b.WriteString(styleDim.Render(fmt.Sprintf("  %-10s %8s %8s %9s", "REWARD", "APPROVED", "REJECTED", "APPROVAL")) + "\n")
	for _, band := range st.Bands {
		fmt.Fprintf(&b, "  %-10s %8d %8d %9s\n", band.Name, band.Approved, band.Rejected, rate(band.ApprovalRate()))
	}
	list := func(title string, ds []store.Disagreement) {
		if len(ds) == 0 {
			return
		}
		b.WriteString(styleAccent.Render(title) + "\n")
		for _, d := range ds {
			c := d.Candidate
			line := fmt.Sprintf("  #%d r%d p%d c%d reward %+.3f", c.ID, c.Round, c.Task, c.Index, c.Reward)
			if d.Review.Reason != "" {
				line += "  (" + termsafe.Line(d.Review.Reason) + ")"
			}
			b.WriteString(clip(line, w) + "\n")
			if c.Edit != "" {
				b.WriteString(styleDim.Render(clip("    "+termsafe.Line(c.Edit), w)) + "\n")
			}
		}
	}
	list("approved with a negative reward", st.ApprovedNegative)
	list("rejected with a positive reward", st.RejectedPositive)
	return b.String()
}

func rate(r float64) string {
	if math.IsNaN(r) {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*r)
}

// roundOverRoundSection shows a passage's self-edits of round 0 on the left and of
// the last round on the right, each with its reward and verdict.
func roundOverRoundSection(rr store.RoundOverRound, reviews map[int64]store.Review, w int) string {
	var b strings.Builder
	b.WriteString(styleTitle.Render(fmt.Sprintf("passage %d: round 0 beside round %d", rr.Task, rr.LastRound)) + "\n")
	if len(rr.First) == 0 && len(rr.Last) == 0 { // continual and cpt runs write no ReST-EM rounds
		return b.String() + styleDim.Render("  no ReST-EM self-edits of this passage to compare") + "\n"
	}
	if rr.LastRound == 0 {
		b.WriteString(styleDim.Render("  the run has one round of self-edits: nothing to compare yet") + "\n")
		return b.String() + indent(editColumn(rr.First, reviews, max(10, w-2)), "  ") + "\n"
	}
	cw := max(10, (w-3)/2)
	head := func(s string) string {
		return styleAccent.Render(s) + strings.Repeat(" ", max(0, cw-ansi.StringWidth(s)))
	}
	b.WriteString(head("round 0") + " │ " + styleAccent.Render(fmt.Sprintf("round %d", rr.LastRound)) + "\n")
	// Row i pairs the i-th edit of each round, so candidates line up across the rule.
	for i := range max(len(rr.First), len(rr.Last)) {
		if i > 0 {
			b.WriteString(strings.Repeat(" ", cw) + " │\n")
		}
		left, right := editBlock(rr.First, i, reviews, cw), editBlock(rr.Last, i, reviews, cw)
		for j := range max(len(left), len(right)) {
			var l, r string
			if j < len(left) {
				l = left[j]
			}
			if j < len(right) {
				r = right[j]
			}
			b.WriteString(l + strings.Repeat(" ", max(0, cw-ansi.StringWidth(l))) + " │ " + r + "\n")
		}
	}
	return b.String()
}

// editBlock is the lines of cs[i] in a column w cells wide; none past the end.
func editBlock(cs []store.Candidate, i int, reviews map[int64]store.Review, w int) []string {
	if i >= len(cs) {
		return nil
	}
	return strings.Split(editColumn(cs[i:i+1], reviews, w), "\n")
}

// editColumn is candidates' edits wrapped to w cells, each under a line with its
// index, reward and verdict.
func editColumn(cs []store.Candidate, reviews map[int64]store.Review, w int) string {
	if len(cs) == 0 {
		return styleDim.Render("(no self-edits)")
	}
	var parts []string
	for _, c := range cs {
		head := fmt.Sprintf("c%d reward %+.3f", c.Index, c.Reward)
		if rv, ok := reviews[c.ID]; ok {
			head += " " + termsafe.Line(rv.Verdict)
		}
		parts = append(parts, clip(head, w)+"\n"+wrap(termsafe.Text(c.Edit), w))
	}
	return strings.Join(parts, "\n\n")
}
