package ui

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"seal/engine"
	"seal/store/termsafe"
)

var nan = math.NaN()

// The live run view: four panes in a 2x2 grid (self-edit, loss, rewards or retention,
// eval detail), one focused; + and - move the split towards or away from the focused
// pane, z zooms it. Below them the review prompt and the status line.

type pane int

const (
	paneEdit pane = iota
	paneLoss
	paneRewards
	paneEval
	numPanes
)

// editorPurpose says what the text editor overlay is for.
type editorPurpose int

const (
	editNone editorPurpose = iota
	editApprove
	editWhatIf
	editReason
)

type liveView struct {
	st       *liveState
	focus    pane
	colShare int // percent of the width for the left column
	rowShare int // percent of the height for the top row
	zoom     bool

	rv      reviewer
	purpose editorPurpose
	editor  textarea.Model
	reason  textinput.Model
	whatIf  reviewItem // what the what-if edits
	flash   string

	// The review panel: which sides show, each candidate's source as loaded (or the
	// error), and each candidate's scroll per side, kept while stepping the queue.
	layout    reviewLayout
	sources   map[int64]*reviewSource
	sourceErr map[int64]string
	scroll    map[int64]*[2]int

	app   *App             // the run it shows, the store, the options
	now   func() time.Time // the App's clock, so the prompt and Update agree
	grace time.Duration
}

func newLiveView() liveView {
	ta := textarea.New()
	ta.ShowLineNumbers = false
	ta.CharLimit = 0
	ti := textinput.New()
	ti.Prompt = "reason: "
	ti.Placeholder = "why this edit should not be trained on"
	return liveView{colShare: 50, rowShare: 50, editor: ta, reason: ti,
		sources: map[int64]*reviewSource{}, sourceErr: map[int64]string{}, scroll: map[int64]*[2]int{}}
}

// scrollOf is a candidate's scroll position, one per side.
func (v *liveView) scrollOf(id int64) *[2]int {
	p, ok := v.scroll[id]
	if !ok {
		p = &[2]int{}
		v.scroll[id] = p
	}
	return p
}

// reviewBody is the candidate under review beside its source, in w x h.
func (v *liveView) reviewBody(it reviewItem, w, h int) string {
	title := v.paneTitle(paneEdit)
	if n := len(v.rv.queue); n > 1 {
		title += fmt.Sprintf("%d/%d ", v.rv.cur+1, n)
	}
	src, asked := v.sources[it.ID]
	loadErr := v.sourceErr[it.ID]
	if !asked && loadErr == "" {
		loadErr = "no store to read it from"
	}
	return reviewPanes(src, loadErr, it.Reason, it.Edit, title, v.layout, v.scrollOf(it.ID), w, h)
}

func (v *liveView) paneTitle(p pane) string {
	s := v.st
	switch p {
	case paneEdit:
		if it, ok := v.rv.head(); ok {
			held := ""
			if it.Reason != "" {
				held = " (held by the guard)"
			}
			return fmt.Sprintf(" under review%s: #%d r%d p%d c%d ", held, it.ID, it.Round, it.Task, it.Cand)
		}
		state := "writing"
		if s.editDone[s.at.Cand] {
			state = "written"
		}
		return fmt.Sprintf(" self-edit r%d p%d c%d · %s ", s.at.Round, s.at.Task, s.at.Cand, state)
	case paneLoss:
		if s.lossPhase == "" {
			return " training loss "
		}
		return fmt.Sprintf(" loss · %s %d/%d ", termsafe.Line(s.lossPhase), len(s.loss), s.lossSteps)
	case paneRewards:
		if s.spec.Mode == "continual" {
			return " retention (step × passage) "
		}
		return " rewards "
	}
	return " eval "
}

func (v *liveView) paneBody(p pane, w, h int) string {
	s := v.st
	switch p {
	case paneEdit:
		text := s.edits[s.at.Cand]
		if text == "" {
			return styleDim.Render("waiting for the model to write…")
		}
		return wrap(termsafe.Text(text), w) // the whole stream: a sequence split over tokens goes whole
	case paneLoss:
		if len(s.loss) == 0 {
			return styleDim.Render("no update yet")
		}
		head := fmt.Sprintf("loss %.4f  step %d/%d", s.loss[len(s.loss)-1], len(s.loss), s.lossSteps)
		return head + "\n" + lineChart(w, h-1, []series{{Name: "loss", Points: s.loss, Color: colAccent}})
	case paneRewards:
		if s.spec.Mode == "continual" {
			return v.retentionBody(w, h)
		}
		return v.rewardsBody(w, h)
	}
	if engine.DomainInfoOf(s.spec.Domain).Display == engine.DisplayGrids {
		return v.arcEvalBody(w, h)
	}
	return v.evalBody(w)
}

func (v *liveView) rewardsBody(w, h int) string {
	s := v.st
	rs := s.selfEditRewards()
	var last string
	for _, r := range s.rewards {
		if r.Kind == "self_edit" || r.Kind == "human" {
			last = fmt.Sprintf("last #%d %s %s", r.ID, termsafe.Line(r.Kind), signed(r.Reward))
		}
	}
	rounds := "rounds:"
	for i, m := range s.roundMeans {
		rounds += fmt.Sprintf(" r%d %s", i, signed(m))
	}
	if len(s.roundMeans) == 0 {
		rounds += " none done"
	}
	if ms := sortedMetrics(s); len(ms) > 0 { // the run's summary once it has one
		rounds += "\n" + strings.Join(ms, " · ")
	}
	if len(rs) == 0 {
		return styleDim.Render("no reward yet") + "\n" + rounds
	}
	ss := []series{{Name: "candidates", Points: rs, Color: colAccent}}
	if len(s.roundMeans) > 1 {
		ss = append(ss, series{Name: "rounds", Points: s.roundMeans, Color: colFocus})
	}
	return last + "\n" + rounds + "\n" + lineChart(w, h-1-lipgloss.Height(rounds), ss)
}

func (v *liveView) retentionBody(w, h int) string {
	s := v.st
	rows := s.retentionRows()
	if len(rows) == 0 {
		return styleDim.Render("no retention cell yet")
	}
	hm := heatmap(rows, "step", "p")
	left := h - len(rows) - 2
	if left < 5 || s.retSteps < 2 {
		return hm
	}
	var ss []series
	palette := []lipgloss.Color{"81", "212", "42", "220", "203", "141"}
	for t := 0; t < s.tasks; t++ {
		var pts []float64
		for step := t + 1; step < s.retSteps; step++ { // passage t after it was learned
			if a, ok := s.retention[[2]int{step, t}]; ok {
				pts = append(pts, a)
			}
		}
		if len(pts) > 0 {
			ss = append(ss, series{Name: fmt.Sprint("p", t), Points: pts, Color: palette[t%len(palette)]})
		}
	}
	if len(ss) == 0 {
		return hm
	}
	return hm + "\n" + lineChart(w, left, ss)
}

func (v *liveView) evalBody(w int) string {
	s := v.st
	if len(s.evals) == 0 {
		return styleDim.Render("no graded answer yet")
	}
	var b strings.Builder
	for i := len(s.evals) - 1; i >= 0; i-- {
		e := s.evals[i]
		mark := styleGood.Render("✓")
		if !e.Correct {
			mark = styleBad.Render("✗")
		}
		who := termsafe.Line(e.Phase)
		if e.Cand >= 0 {
			who += fmt.Sprintf(" c%d", e.Cand)
		}
		fmt.Fprintf(&b, "%s %s %s\n", mark, styleDim.Render(who), clip(termsafe.Line(e.Question), w-4-len(who)))
		fmt.Fprintf(&b, "  → %s  %s\n", clip(termsafe.Line(e.Answer), w/2), styleDim.Render("gold: "+clip(termsafe.Line(e.Gold), w/3)))
	}
	return b.String()
}

// render draws the live screen in w x h cells above the status line (the help bar is
// the caller's).
func (v *liveView) render(w, h int, status string) string {
	prompt := v.promptView(w)
	ph := lipgloss.Height(prompt)
	if prompt == "" {
		ph = 0
	}
	header := v.header(w)
	info := v.st.infoLines(w)
	area := h - 1 - 1 - ph - len(info) // header, status, guard and workers
	var body string
	switch {
	case v.purpose == editApprove || v.purpose == editWhatIf:
		v.editor.SetWidth(w - 2)
		v.editor.SetHeight(max(1, area-3))
		title := fmt.Sprintf(" edit #%d, then ctrl+s to approve · esc cancels ", v.whatIf.ID)
		if v.purpose == editWhatIf {
			title = fmt.Sprintf(" what if: r%d p%d, your self-edit · ctrl+s evaluates it · esc cancels ", v.whatIf.Round, v.whatIf.Task)
		}
		body = box(title, v.editor.View(), w, area, true, false)
	case v.reviewing():
		it, _ := v.rv.head()
		body = v.reviewBody(it, w, area)
	case v.zoom:
		body = box(v.paneTitle(v.focus), v.paneBody(v.focus, w-2, area-2), w, area, true, v.focus == paneEdit)
	default:
		lw := max(10, w*v.colShare/100)
		rw := w - lw
		th := max(3, area*v.rowShare/100)
		bh := area - th
		sizes := [numPanes][2]int{{lw, th}, {rw, th}, {lw, bh}, {rw, bh}}
		var r [numPanes]string
		for p := pane(0); p < numPanes; p++ {
			pw, phh := sizes[p][0], sizes[p][1]
			r[p] = box(v.paneTitle(p), v.paneBody(p, pw-2, phh-2), pw, phh, p == v.focus, p == paneEdit)
		}
		body = lipgloss.JoinVertical(lipgloss.Left, lipgloss.JoinHorizontal(lipgloss.Top, r[paneEdit], r[paneLoss]),
			lipgloss.JoinHorizontal(lipgloss.Top, r[paneRewards], r[paneEval]))
	}
	parts := append([]string{header, body}, info...)
	if prompt != "" {
		parts = append(parts, prompt)
	}
	parts = append(parts, status)
	return strings.Join(parts, "\n")
}

// header names the run; a flash (what-if result, pausing) or an error comes before the
// run's name so a narrow terminal cuts the name, not the news.
func (v *liveView) header(w int) string {
	s := v.st
	h := styleTitle.Render(fmt.Sprintf(" run %d · %s", s.run, s.spec.Mode))
	switch {
	case s.errMsg != "":
		h += "  " + styleBad.Render("error: "+termsafe.Line(s.errMsg))
	case v.flash != "":
		h += "  " + styleAccent.Render(termsafe.Line(v.flash))
	}
	return ansi.Truncate(h+"  "+styleDim.Render(termsafe.Line(s.name)), w, "…")
}

// promptView is the review line: the candidate asked about and the keys, or the
// reason input.
func (v *liveView) promptView(w int) string {
	if v.purpose == editReason {
		return v.reason.View() + styleDim.Render("  enter rejects · esc cancels")
	}
	it, ok := v.rv.head()
	var line string
	switch {
	case ok:
		q := "review"
		if it.FollowUp {
			q = "review again"
		}
		line = fmt.Sprintf("%s #%d (r%d p%d c%d) reward %s ", q, it.ID, it.Round, it.Task, it.Cand, signed(it.Reward))
		if v.rv.open(v.now(), v.grace) {
			line += styleAccent.Render("[a]pprove [r]eject [e]dit [u]ndo")
		} else {
			line += styleDim.Render("(keys open in a moment)")
		}
		if n := len(v.rv.queue); n > 1 {
			line += styleDim.Render(fmt.Sprintf(" %d of %d waiting", v.rv.cur+1, n))
		}
		if it.Reason != "" { // the guard held it: why comes before the edit
			line += " " + styleBad.Render("held: "+clip(termsafe.Line(it.Reason), w))
		}
		line += " " + clip(termsafe.Line(it.Edit), w)
	case v.rv.staged != nil:
		line = fmt.Sprintf("%s #%d: sending shortly, u takes it back", pastTense(v.rv.staged.verdict), v.rv.staged.item.ID)
	case v.rv.note != "":
		line = termsafe.Line(v.rv.note)
	default:
		return ""
	}
	if ok && v.rv.note != "" {
		line += styleDim.Render("  · " + termsafe.Line(v.rv.note))
	}
	return ansi.Truncate(line, w, "…")
}

// statusLine: progress, ETA, device and memory.
func statusLine(s *liveState, w int, now time.Time, device string, mem uint64) string {
	done, total := s.doneCands, s.total()
	barW := 12
	fill := 0
	if total > 0 {
		fill = min(barW, done*barW/total)
	}
	bar := strings.Repeat("█", fill) + strings.Repeat("░", barW-fill)
	noun := engine.DomainInfoOf(s.spec.Domain).Noun
	where := fmt.Sprintf("%s %d/%d", noun, s.at.Task+1, max(1, s.tasks))
	if s.spec.Mode == "restem" {
		where = fmt.Sprintf("round %d/%d %s", s.at.Round+1, s.spec.Rounds, where)
	}
	eta := s.eta(now)
	if eta != "" {
		eta = "ETA " + eta
	}
	line := fmt.Sprintf(" %s  %s  %s %d/%d  %s  %s  %d MiB", statusDot(s.status), where, bar, done, total, eta, device, mem>>20)
	return styleBar.Render(fit(line, w, 1))
}

func statusDot(s string) string {
	switch s {
	case "running":
		return "● running"
	case "paused":
		return "‖ paused"
	case "done":
		return "✓ done"
	}
	return "■ " + termsafe.Line(s)
}

func signed(x float64) string { return fmt.Sprintf("%+.3f", x) }

// sortedMetrics lists metrics by name.
func sortedMetrics(s *liveState) []string {
	var out []string
	for _, m := range s.metrics {
		out = append(out, fmt.Sprintf("%s %.3f", termsafe.Line(m.Name), m.Value))
	}
	sort.Strings(out)
	return out
}
