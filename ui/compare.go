package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"seal/engine/effect"
	"seal/store"
	"seal/store/termsafe"
)

// Compare: two or more runs side by side against a chosen baseline run: the config
// keys that differ, metric deltas coloured by direction, each run's effect table paired
// with the baseline's passage by passage (a difference coloured only when its interval
// excludes zero), the reward curves overlaid, and a word diff of each passage's best
// self-edit.

type compareView struct {
	cmp   store.Comparison
	cands [][]store.Candidate
	base  int // index of the baseline run
	task  int // passage whose self-edits are diffed
	tasks int
	// pairs[{i, j}] is run j's effect table paired with run i's (nil without Options.Paired).
	pairs map[[2]int]effect.Compared

	app  *App
	vp   viewport.Model // the rendering, scrolled
	back screenID       // where esc goes
}

func newCompareView() compareView {
	vp := viewport.New(80, 20)
	vp.KeyMap = compareKeyMap.Scroll.viewport()
	return compareView{vp: vp}
}

func (v *compareView) keys() help.KeyMap { return compareKeyMap }

func (v *compareView) typing() bool { return false }

// resize fits the scrolled text to a new window, drawn again for its width.
func (v *compareView) resize(w, h int) {
	v.vp.Width, v.vp.Height = w, h
	if len(v.cmp.Runs) > 0 {
		v.vp.SetContent(v.render(w))
	}
}

func (v *compareView) view(w, h int) string {
	v.vp.Width, v.vp.Height = w, h
	return v.vp.View()
}

func (v *compareView) update(m tea.Msg) tea.Cmd {
	switch msg := m.(type) {
	case compareMsg:
		a := v.app
		if msg.err != nil { // shown on the history, where it was asked
			a.history.err = msg.err.Error()
			return nil
		}
		vp := v.vp
		*v = msg.cv
		v.app, v.vp, v.back = a, vp, a.screen
		v.vp.SetContent(v.render(a.w))
		v.vp.GotoTop()
		a.show(screenCompare)
	case tea.KeyMsg:
		km := compareKeyMap
		switch {
		case key.Matches(msg, km.Back):
			v.app.show(v.back)
		case key.Matches(msg, km.Baseline):
			v.base = (v.base + 1) % len(v.cmp.Runs)
			v.vp.SetContent(v.render(v.app.w))
		case key.Matches(msg, km.Task):
			v.task = (v.task + 1) % max(1, v.tasks)
			v.vp.SetContent(v.render(v.app.w))
		default:
			var cmd tea.Cmd
			v.vp, cmd = v.vp.Update(msg)
			return cmd
		}
	}
	return nil
}

// pairFunc is Options.Paired.
type pairFunc = func(db *store.DB, ids []int64) map[[2]int]effect.Compared

func loadCompare(db *store.DB, ids []int64, paired pairFunc) (compareView, error) {
	cmp, err := db.Compare(ids)
	if err != nil {
		return compareView{}, err
	}
	v := compareView{cmp: cmp}
	if paired != nil { // every ordered pair, so that changing the baseline computes nothing
		v.pairs = paired(db, ids)
	}
	for _, id := range ids {
		cs, err := db.Candidates(id, false)
		if err != nil {
			return compareView{}, err
		}
		v.cands = append(v.cands, cs)
		for _, c := range cs {
			v.tasks = max(v.tasks, c.Task+1)
		}
	}
	return v, nil
}

var runColours = []lipgloss.Color{"81", "212", "42", "220", "203", "141"}

// lowerIsBetter names metrics where a drop is an improvement.
func lowerIsBetter(name string) bool { return strings.Contains(name, "loss") }

func (v compareView) render(w int) string {
	c := v.cmp
	n := len(c.Runs)
	colW := max(10, min(18, (w-26)/max(1, n)))
	var b strings.Builder
	cell := func(s string) string { return fmt.Sprintf(" %*s", colW, clip(s, colW)) }
	header := fmt.Sprintf("%-24s", "")
	for i, r := range c.Runs {
		name := fmt.Sprintf("run %d", r.ID)
		if i == v.base {
			name += "*"
		}
		header += lipgloss.NewStyle().Foreground(runColours[i%len(runColours)]).Render(cell(name))
	}
	fmt.Fprintf(&b, "%s  %s\n", styleTitle.Render("compare"), styleDim.Render(fmt.Sprintf("baseline * = run %d (b changes it)", c.Runs[v.base].ID)))
	for i, r := range c.Runs {
		fmt.Fprintf(&b, "  %s %s\n", lipgloss.NewStyle().Foreground(runColours[i%len(runColours)]).Render(fmt.Sprintf("run %d", r.ID)), clip(termsafe.Line(r.Name+" · "+r.Status), w-12))
	}
	b.WriteString("\n" + styleTitle.Render("config differences") + "\n" + header + "\n")
	diff := c.ConfigDiff()
	if len(diff) == 0 {
		b.WriteString(styleDim.Render("  (none besides the name)") + "\n")
	}
	for _, k := range diff {
		line := fmt.Sprintf("%-24s", clip(termsafe.Line(k), 24))
		for _, cfg := range c.Configs {
			line += cell(termsafe.Line(fmt.Sprint(cfg[k])))
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("\n" + styleTitle.Render("metrics (delta against the baseline)") + "\n" + header + "\n")
	for _, k := range c.MetricNames() {
		line := fmt.Sprintf("%-24s", clip(termsafe.Line(k), 24))
		base, hasBase := c.Metrics[v.base][k]
		for i, m := range c.Metrics {
			x, ok := m[k]
			switch {
			case !ok:
				line += cell("-")
			case i == v.base || !hasBase:
				line += cell(fmt.Sprintf("%.3f", x))
			default:
				d := x - base
				s := cell(fmt.Sprintf("%.3f %+.3f", x, d))
				better := d > 1e-12
				if lowerIsBetter(k) {
					better = d < -1e-12
				}
				switch {
				case better:
					s = styleGood.Render(s)
				case d > 1e-12 || d < -1e-12:
					s = styleBad.Render(s)
				}
				line += s
			}
		}
		b.WriteString(line + "\n")
	}
	if v.pairs != nil {
		v.renderPaired(&b, w)
	}
	b.WriteString("\n" + styleTitle.Render("reward per self-edit, in order") + "\n")
	var ss []series
	for i, cs := range v.cands {
		var pts []float64
		for _, x := range cs {
			if x.Kind == store.KindSelfEdit {
				pts = append(pts, x.Reward)
			}
		}
		if len(pts) > 0 {
			ss = append(ss, series{Name: fmt.Sprint(c.Runs[i].ID), Points: pts, Color: runColours[i%len(runColours)]})
		}
	}
	b.WriteString(lineChart(min(w-2, 100), 10, ss) + "\n")
	if v.tasks > 0 {
		fmt.Fprintf(&b, "\n%s  %s\n", styleTitle.Render(fmt.Sprintf("passage %d: best self-edit against the baseline's", v.task)), styleDim.Render("(t: next passage)"))
		baseEdit := bestEdit(v.cands[v.base], v.task)
		for i, cs := range v.cands {
			if i == v.base {
				continue
			}
			fmt.Fprintf(&b, "%s\n", lipgloss.NewStyle().Foreground(runColours[i%len(runColours)]).Render(fmt.Sprintf("run %d vs run %d", c.Runs[i].ID, c.Runs[v.base].ID)))
			b.WriteString(wrap(wordDiff(baseEdit, bestEdit(cs, v.task)), w-2) + "\n")
		}
	}
	return b.String()
}

// bestEdit is the self-edit with the highest reward for a passage in a run's last round.
func bestEdit(cs []store.Candidate, task int) string {
	best, round, edit := 0.0, -1, ""
	for _, c := range cs {
		if c.Task != task || (c.Kind != store.KindSelfEdit && c.Kind != store.KindContinual) {
			continue
		}
		if c.Round > round || c.Round == round && c.Reward > best {
			best, round, edit = c.Reward, c.Round, c.Edit
		}
	}
	return termsafe.Text(edit) // shown as a word diff
}

// wordDiff marks the words of b that a lacks (green) and the words of a that b lacks
// (red, struck through), in order: a longest-common-subsequence diff over words.
func wordDiff(a, b string) string {
	x, y := strings.Fields(a), strings.Fields(b)
	if len(x) == 0 && len(y) == 0 {
		return styleDim.Render("(no self-edit in either run)")
	}
	// lcs[i][j] is the LCS length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	del := styleBad.Strikethrough(true)
	var out []string
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			out = append(out, x[i])
			i, j = i+1, j+1
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			out = append(out, styleGood.Render("+"+y[j]))
			j++
		default:
			out = append(out, del.Render("-"+x[i]))
			i++
		}
	}
	return strings.Join(out, " ")
}

// renderPaired writes each run's effect table paired with the baseline's: per reading, the
// baseline's mean, the run's, and the paired difference with its 95% interval, green or red
// only when the interval lies above or below zero.
func (v compareView) renderPaired(b *strings.Builder, w int) {
	c := v.cmp
	fmt.Fprintf(b, "\n%s  %s\n", styleTitle.Render("effect tables paired with the baseline"),
		styleDim.Render("(over the items both runs scored; 95% bootstrap)"))
	labelW := max(16, min(48, w-44))
	for i := range c.Runs {
		if i == v.base {
			continue
		}
		p := v.pairs[[2]int{v.base, i}]
		head := lipgloss.NewStyle().Foreground(runColours[i%len(runColours)]).Render(fmt.Sprintf("run %d vs run %d", c.Runs[i].ID, c.Runs[v.base].ID))
		switch {
		case p.Reason != "":
			fmt.Fprintf(b, "%s  %s\n", head, styleDim.Render(clip(termsafe.Line(p.Reason), max(10, w-20))))
			continue
		}
		items, _, _ := p.Matched()
		if items == 0 {
			fmt.Fprintf(b, "%s  %s\n", head, styleDim.Render("no evaluation "+p.Items+" in common"))
			continue
		}
		fmt.Fprintf(b, "%s  %s\n", head, styleDim.Render(fmt.Sprintf("%d %s", items, p.Items)))
		for _, r := range p.Readings {
			if len(r.Rows) == 0 {
				continue
			}
			b.WriteString(styleDim.Render("  "+clip(termsafe.Line(r.Metric), w-4)) + "\n")
			for _, row := range r.Rows {
				d := fmt.Sprintf("%7s %s", effect.Signed(row.Diff.Est), effect.IntervalText(row.Diff, true))
				switch {
				case row.Diff.Lo > 0:
					d = styleGood.Render(d)
				case row.Diff.Hi < 0:
					d = styleBad.Render(d)
				}
				fmt.Fprintf(b, "  %-*s %6s %6s %s\n", labelW, clip(termsafe.Line(row.Label), labelW), effect.Num(row.A), effect.Num(row.B), d)
			}
		}
	}
}
