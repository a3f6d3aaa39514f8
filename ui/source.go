package ui

import (
	"encoding/json"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"seal/engine"
	"seal/engine/grounding"
	"seal/store"
	"seal/store/termsafe"
)

// A candidate beside its source: the passage it was written from (or an ARC task's
// demonstrations) on one side, the self-edit and what its update did on the other,
// so a reviewer can tell a made-up fact from a restated one without leaving the
// workbench. The same drawing serves the live review and run detail.

// reviewSource is what a reviewer reads beside a candidate.
type reviewSource struct {
	cand    store.Candidate
	task    store.Task
	grids   bool             // an ARC task: the source is demonstrations, the questions tests
	base    *store.Candidate // the round's baseline_base: the questions with no update
	passage *store.Candidate // the passage-only baseline, nil when the run has none
}

// sourceMsg is a candidate's source, loaded for the live review.
type sourceMsg struct {
	id  int64
	src reviewSource
	err error
}

func loadSource(db *store.DB, run, id int64, grids bool) tea.Cmd {
	return func() tea.Msg {
		src, err := readSource(db, run, id, grids)
		return sourceMsg{id: id, src: src, err: err}
	}
}

// readSource reads a stored candidate, its task and the task's baselines.
func readSource(db *store.DB, run, id int64, grids bool) (reviewSource, error) {
	c, err := db.Candidate(id)
	if err != nil {
		return reviewSource{}, err
	}
	if c.RunID != run {
		return reviewSource{}, fmt.Errorf("candidate %d belongs to run %d, not run %d", id, c.RunID, run)
	}
	tasks, err := db.Tasks(run)
	if err != nil {
		return reviewSource{}, err
	}
	if c.Task < 0 || c.Task >= len(tasks) {
		return reviewSource{}, fmt.Errorf("candidate %d: run %d has no task %d stored", id, run, c.Task)
	}
	cands, err := db.Candidates(run, true)
	if err != nil {
		return reviewSource{}, err
	}
	src := reviewSource{cand: c, task: tasks[c.Task], grids: grids}
	src.base, src.passage = baselinesOf(cands, c.Round, c.Task)
	return src, nil
}

// baselinesOf finds a task's no-update baseline of a round and its passage-only
// baseline (scored once, in round 0).
func baselinesOf(cands []store.Candidate, round, task int) (base, passage *store.Candidate) {
	for i := range cands {
		c := &cands[i]
		switch {
		case c.Task != task:
		case c.Kind == store.KindBaselineBase && c.Round == round:
			base = c
		case c.Kind == store.KindBaselinePassage:
			passage = c
		}
	}
	return base, passage
}

// sourceText is the source side: the passage wrapped to w, or the demonstrations.
func (s reviewSource) sourceText(w int) string {
	if s.grids {
		return arcTaskSection(s.task, w)
	}
	title := styleTitle.Render(termsafe.Line(s.task.Title))
	return title + "\n" + wrap(termsafe.Text(s.task.Context), w)
}

// editText is the edit side: the self-edit (each line marked by how much of it the
// passage states, for a knowledge task) and, under it, what the edit did.
func (s reviewSource) editText(edit string, w int) string {
	body := wrap(termsafe.Text(edit), w)
	if !s.grids {
		body = s.groundedEdit(edit, w)
	}
	return body + "\n\n" + s.effectText(w)
}

// groundedEdit marks each line of a knowledge edit grounded ✓, partly grounded ~ or
// new ✗ against the passage (its title included, as the engine's share counts it),
// and highlights the content words the passage does not state: underlined in colour,
// in [brackets] when colours are off. A reading aid, not a verdict.
func (s reviewSource) groundedEdit(edit string, w int) string {
	lines := grounding.Lines(s.task.Title+"\n"+s.task.Context, termsafe.Text(edit))
	var b strings.Builder
	count := map[grounding.Status]int{}
	for _, l := range lines {
		count[l.Status]++
		b.WriteString(wrap(statusMark(l.Status)+" "+highlightNew(l), w) + "\n")
	}
	var share float64
	if s.cand.Grounding != nil { // the share stored when the candidate was committed
		share = *s.cand.Grounding
	} else {
		share = grounding.ShareOf(lines)
	}
	b.WriteString(styleDim.Render(wrap(fmt.Sprintf("grounding %.2f: %d ✓ %d ~ %d ✗ · marked words are not in the passage",
		share, count[grounding.Grounded], count[grounding.Partial], count[grounding.New]), w)))
	return b.String()
}

func statusMark(st grounding.Status) string {
	switch st {
	case grounding.Grounded:
		return styleGood.Render("✓")
	case grounding.Partial:
		return styleAccent.Render("~")
	}
	return styleBad.Render("✗")
}

// highlightNew is a line with its content words that the passage lacks highlighted.
func highlightNew(l grounding.Line) string {
	colour := lipgloss.ColorProfile() != termenv.Ascii
	var b strings.Builder
	rest := l.Text
	for _, wd := range l.Words {
		i := strings.Index(rest, wd.Text)
		if i < 0 {
			continue
		}
		// Every word moves past itself, highlighted or not, so a later word is never
		// found inside an earlier one ("car" inside "carpet").
		b.WriteString(rest[:i])
		switch {
		case !wd.Content || wd.Found:
			b.WriteString(wd.Text)
		case colour:
			b.WriteString(styleNewWord.Render(wd.Text))
		default:
			b.WriteString("[" + wd.Text + "]")
		}
		rest = rest[i+len(wd.Text):]
	}
	return b.String() + rest
}

var styleNewWord = lipgloss.NewStyle().Foreground(colBad).Underline(true)

// effectText is what the edit did, under the edit: each question answered before
// (no update) and after this candidate's update, ✓/✗ per repeat; the reward with its
// spread over the repeats; and the passage-only baseline to beat.
func (s reviewSource) effectText(w int) string {
	c := s.cand
	var b strings.Builder
	b.WriteString(styleTitle.Render("what this edit did") + "\n")
	line := func(format string, a ...any) { b.WriteString(wrap(fmt.Sprintf(format, a...), w) + "\n") } // wrapped: a narrow side cuts nothing
	line("reward %s ± %.3f over %d repeat%s · score %.3f → %.3f", signed(c.Reward), c.RewardStd, c.Repeats, plural(c.Repeats), c.BaseScore, c.AdaptedScore)
	if p := s.passage; p != nil {
		verdict := styleBad.Render("falls below it")
		switch {
		case c.Reward > p.Reward:
			verdict = styleGood.Render("beats it")
		case c.Reward == p.Reward:
			verdict = "ties it"
		}
		line("passage-only baseline %s (score %.3f): this edit %s", signed(p.Reward), p.AdaptedScore, verdict)
	} else {
		b.WriteString(styleDim.Render("no passage-only baseline in this run") + "\n")
	}
	before := byQuestion(s.base)
	after := byQuestion(&c)
	n := max(len(s.task.Questions), maxKey(before)+1, maxKey(after)+1)
	if n > 0 {
		b.WriteString(styleDim.Render("before → after, a mark per repeat") + "\n")
	}
	for q := range n {
		line("%s → %s  %s", marks(before[q]), marks(after[q]), s.question(q))
	}
	return b.String()
}

// question names question q: its text (an ARC test is a grid: its number only).
func (s reviewSource) question(q int) string {
	if s.grids || q >= len(s.task.Questions) {
		return fmt.Sprintf("test %d", q)
	}
	return fmt.Sprintf("Q%d %s", q+1, termsafe.Line(s.task.Questions[q].Question))
}

// byQuestion is a candidate's graded answers by question, in repeat order.
func byQuestion(c *store.Candidate) map[int][]bool {
	out := map[int][]bool{}
	if c == nil {
		return out
	}
	for _, e := range c.Evals {
		out[e.Question] = append(out[e.Question], e.Correct)
	}
	return out
}

func maxKey(m map[int][]bool) int {
	k := -1
	for q := range m {
		k = max(k, q)
	}
	return k
}

// marks is one ✓ or ✗ per repeat, "–" when the question was not asked.
func marks(ok []bool) string {
	if len(ok) == 0 {
		return styleDim.Render("–")
	}
	ms := make([]string, len(ok))
	for i, c := range ok {
		ms[i] = mark(c)
	}
	return strings.Join(ms, " ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// reviewLayout is which sides of a review are shown.
type reviewLayout int

const (
	layoutBoth reviewLayout = iota
	layoutSource
	layoutEdit
	numLayouts
)

// sideWide is the narrowest width that puts the two sides in columns; narrower,
// the source is stacked above the edit.
const sideWide = 100

// reviewPanes draws the source and the edit (with what it did) in w x h: in two
// columns when wide enough, stacked when not, or one side alone. scroll holds each
// side's first line; it is clamped to the text here, so stepping back finds the
// place a reviewer left.
func reviewPanes(src *reviewSource, loadErr, held, edit, editTitle string, layout reviewLayout, scroll *[2]int, w, h int) string {
	sourceBody := func(iw int) string {
		switch {
		case loadErr != "":
			return styleBad.Render(wrap("source not loaded: "+termsafe.Line(loadErr), iw))
		case src == nil:
			return styleDim.Render("loading the source…")
		}
		return src.sourceText(iw)
	}
	editBody := func(iw int) string {
		body := wrap(termsafe.Text(edit), iw)
		if src != nil {
			body = src.editText(edit, iw)
		}
		if held != "" {
			body = styleBad.Render(wrap("held: "+termsafe.Line(held), iw)) + "\n" + body
		}
		return body
	}
	srcTitle := " source "
	if src != nil {
		srcTitle = fmt.Sprintf(" source · %s %d ", map[bool]string{true: "task", false: "passage"}[src.grids], src.task.Index)
	}
	side := func(i int, title string, body func(int) string, pw, ph int) string {
		text := body(pw - 2)
		lines := strings.Count(text, "\n") + 1
		scroll[i] = max(0, min(scroll[i], lines-(ph-2)))
		if scroll[i] > 0 {
			title += fmt.Sprintf("↑%d ", scroll[i])
		}
		return box(title, dropLines(text, scroll[i]), pw, ph, false, false)
	}
	switch {
	case layout == layoutSource:
		return side(0, srcTitle, sourceBody, w, h)
	case layout == layoutEdit:
		return side(1, editTitle, editBody, w, h)
	case w >= sideWide:
		lw := w / 2
		return lipgloss.JoinHorizontal(lipgloss.Top, side(0, srcTitle, sourceBody, lw, h), side(1, editTitle, editBody, w-lw, h))
	}
	th := max(3, h*2/5)
	return side(0, srcTitle, sourceBody, w, th) + "\n" + side(1, editTitle, editBody, w, h-th)
}

// dropLines drops the first n lines of s.
func dropLines(s string, n int) string {
	for ; n > 0; n-- {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			return ""
		}
		s = s[i+1:]
	}
	return s
}

// sourceDetailMsg is a stored candidate beside its source, as text for run detail.
type sourceDetailMsg struct {
	run  int64
	n    int // which of the run's self-edits, wrapped to their number
	text string
	err  error
}

// loadCandidateSource reads the n-th self-edit of a stored run (round by round,
// passage by passage; human what-ifs and teacher edits count too) with its source,
// drawn w cells wide.
func loadCandidateSource(db *store.DB, run int64, n, w int) tea.Cmd {
	return func() tea.Msg {
		m := sourceDetailMsg{run: run, n: n}
		m.text, m.n, m.err = candidateSource(db, run, n, w)
		return m
	}
}

func candidateSource(db *store.DB, run int64, n, w int) (string, int, error) {
	rec, err := db.Run(run)
	if err != nil {
		return "", n, err
	}
	var spec engine.RunSpec
	if err := json.Unmarshal(rec.Config, &spec); err != nil {
		return "", n, fmt.Errorf("run %d: stored config: %w", run, err)
	}
	cands, err := db.Candidates(run, false)
	if err != nil {
		return "", n, err
	}
	var edits []store.Candidate
	for _, c := range cands {
		if c.Kind == store.KindSelfEdit || c.Kind == store.KindHuman || c.Kind == store.KindTeacher {
			edits = append(edits, c)
		}
	}
	if len(edits) == 0 {
		return "", n, fmt.Errorf("run %d has no self-edit to show beside its source", run)
	}
	n = (n%len(edits) + len(edits)) % len(edits)
	c := edits[n]
	src, err := readSource(db, run, c.ID, engine.DomainInfoOf(spec.Domain).Display == engine.DisplayGrids)
	if err != nil {
		return "", n, err
	}
	reviews, err := db.LatestReviews(run)
	if err != nil {
		return "", n, err
	}
	head := styleAccent.Render(fmt.Sprintf("self-edit %d of %d beside its source (s: next, esc: back)", n+1, len(edits)))
	title := fmt.Sprintf(" #%d r%d p%d c%d · %s%s ", c.ID, c.Round, c.Task, c.Index, termsafe.Line(c.Kind), verdictNote(reviews, c.ID))
	return head + "\n" + src.beside(title, w), n, nil
}

// verdictNote is a candidate's latest verdict as a title suffix ("" when unreviewed).
func verdictNote(reviews map[int64]store.Review, id int64) string {
	rv, ok := reviews[id]
	if !ok {
		return ""
	}
	note := " · " + pastTense(rv.Verdict)
	if rv.Reason != "" {
		note += ": " + termsafe.Line(rv.Reason)
	}
	return note
}

// beside draws a stored candidate and its source at full length, for a scrolling
// text: in two columns when wide enough, else the source above the edit.
func (s reviewSource) beside(editTitle string, w int) string {
	srcTitle := fmt.Sprintf(" source · %s ", termsafe.Line(s.task.Title))
	edit := func(iw int) string { return s.editText(s.cand.Edit, iw) }
	tall := func(body string) int { return strings.Count(body, "\n") + 3 }
	if w >= sideWide {
		lw := w / 2
		left, right := s.sourceText(lw-2), edit(w-lw-2)
		h := max(tall(left), tall(right))
		return lipgloss.JoinHorizontal(lipgloss.Top, box(srcTitle, left, lw, h, false, false), box(editTitle, right, w-lw, h, false, false))
	}
	top, bottom := s.sourceText(w-2), edit(w-2)
	return box(srcTitle, top, w, tall(top), false, false) + "\n" + box(editTitle, bottom, w, tall(bottom), false, false)
}
