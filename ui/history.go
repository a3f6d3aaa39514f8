package ui

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"seal/engine"
	"seal/engine/redact"
	"seal/store"
	"seal/store/termsafe"
)

// History: past runs from the store, newest first, filtered by domain, model or
// status ("status:done model:tiny"); enter opens a run, space marks runs to compare.

type history struct {
	app       *App // its store; esc goes back to its live run, or the launcher
	runs      []store.RunSummary
	cursor    int
	marked    map[int64]bool
	filter    textinput.Model
	filtering bool
	err       string
}

func newHistory() history {
	ti := textinput.New()
	ti.Prompt = "filter: "
	ti.Placeholder = "domain:knowledge model:tiny status:done"
	return history{marked: map[int64]bool{}, filter: ti}
}

// parseFilter reads "key:value" words; a bare word filters on status.
func parseFilter(s string) (store.RunFilter, error) {
	var f store.RunFilter
	for _, w := range strings.Fields(s) {
		k, v, ok := strings.Cut(w, ":")
		if !ok {
			k, v = "status", w
		}
		switch k {
		case "domain":
			f.Domain = v
		case "model":
			f.Model = v
		case "status":
			f.Status = v
		default:
			return f, fmt.Errorf("filter %q: use domain:, model: or status:", w)
		}
	}
	return f, nil
}

func (h *history) keys() help.KeyMap { return historyKeyMap }

func (h *history) typing() bool { return h.filtering }

// reload reads the runs that match the filter again, in a command.
func (h *history) reload() tea.Cmd { return loadRuns(h.app.o.DB, h.filter.Value()) }

func (h *history) update(m tea.Msg) tea.Cmd {
	switch msg := m.(type) {
	case runsMsg:
		if msg.err != nil {
			h.err = msg.err.Error()
			return nil
		}
		h.runs, h.err = msg.runs, ""
		h.cursor = min(h.cursor, max(0, len(h.runs)-1))
	case tea.KeyMsg:
		if h.filtering {
			return h.filterKey(msg)
		}
		return h.key(msg)
	}
	return nil
}

// filterKey types the filter; enter or esc applies it.
func (h *history) filterKey(msg tea.KeyMsg) tea.Cmd {
	km := historyKeyMap
	if key.Matches(msg, km.Open, km.Back) {
		h.filtering = false
		h.filter.Blur()
		return h.reload()
	}
	var cmd tea.Cmd
	h.filter, cmd = h.filter.Update(msg)
	return cmd
}

func (h *history) key(msg tea.KeyMsg) tea.Cmd {
	km := historyKeyMap
	switch {
	case key.Matches(msg, km.Back):
		if h.app.live.st.run == 0 { // no run shown yet: back to the launcher
			h.app.show(screenLauncher)
		} else {
			h.app.show(screenLive)
		}
	case key.Matches(msg, km.Up):
		h.cursor = max(0, h.cursor-1)
	case key.Matches(msg, km.Down):
		h.cursor = min(len(h.runs)-1, h.cursor+1)
	case key.Matches(msg, km.Filter):
		h.filtering = true
		return h.filter.Focus()
	case key.Matches(msg, km.Mark):
		if len(h.runs) > 0 {
			id := h.runs[h.cursor].ID
			h.marked[id] = !h.marked[id]
			h.cursor = min(len(h.runs)-1, h.cursor+1)
		}
	case key.Matches(msg, km.Open):
		if len(h.runs) > 0 {
			return loadDetail(h.app.o.DB, h.runs[h.cursor].ID, h.app.w)
		}
	case key.Matches(msg, km.Versions):
		if len(h.runs) > 0 {
			return loadVersionTree(h.app.o.DB, h.runs[h.cursor].ID)
		}
	case key.Matches(msg, km.Compare):
		var ids []int64
		for i := len(h.runs) - 1; i >= 0; i-- { // oldest first: the first is the baseline
			if h.marked[h.runs[i].ID] {
				ids = append(ids, h.runs[i].ID)
			}
		}
		if len(ids) < 2 {
			h.err = "mark two or more runs with space first"
			return nil
		}
		return loadComparison(h.app.o.DB, ids, h.app.o.Paired)
	}
	return nil
}

func (h *history) view(w, rows int) string {
	var b strings.Builder
	b.WriteString(styleTitle.Render(" history") + styleDim.Render(fmt.Sprintf("  %d runs", len(h.runs))) + "\n")
	if h.filtering || h.filter.Value() != "" {
		b.WriteString(h.filter.View() + "\n")
	}
	b.WriteString(styleDim.Render(fmt.Sprintf("   %-5s %-10s %-9s %-12s %-11s %5s %6s %8s  %s", "RUN", "STATUS", "DOMAIN", "MODEL", "CREATED", "CANDS", "ROUNDS", "REWARD", "NAME")) + "\n")
	used := strings.Count(b.String(), "\n") + 1
	n := rows - used
	first := max(0, min(h.cursor-n/2, len(h.runs)-n))
	for i := first; i < len(h.runs) && i < first+n; i++ {
		r := h.runs[i]
		mark := "  "
		if h.marked[r.ID] {
			mark = styleAccent.Render("● ")
		}
		line := fmt.Sprintf("%-5d %-10s %-9s %-12s %-11s %5d %6d %+8.3f  %s", r.ID, termsafe.Line(r.Status), termsafe.Line(r.Domain),
			clip(termsafe.Line(filepath.Base(r.Model)), 12), r.CreatedAt.Local().Format("01-02 15:04"), r.Candidates, r.Rounds, r.MeanReward,
			termsafe.Line(r.Name))
		line = clip(line, w-4)
		if i == h.cursor {
			line = styleBar.Render(line)
		}
		b.WriteString(" " + mark + line + "\n")
	}
	if len(h.runs) == 0 {
		b.WriteString(styleDim.Render("   no runs (n starts one)") + "\n")
	}
	if h.err != "" {
		b.WriteString(styleBad.Render(termsafe.Line(h.err)))
	}
	return fit(b.String(), w, rows)
}

// runDetail is one run in full, as text for a scrolling viewport.
func runDetail(db *store.DB, id int64, w int) (string, error) {
	run, err := db.Run(id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nstatus %s · model %s · created %s\n", styleTitle.Render(fmt.Sprintf("run %d: %s", run.ID, termsafe.Line(run.Name))),
		termsafe.Line(run.Status), termsafe.Line(run.Model), run.CreatedAt.Local().Format("2006-01-02 15:04:05"))
	if run.Error != "" { // scrubbed again: a run stored by an older seal may hold a secret
		b.WriteString(styleBad.Render("error: "+termsafe.Line(redact.Secrets(run.Error))) + "\n")
	}
	fmt.Fprintf(&b, "\n%s\n%s\n", styleTitle.Render("config"), configText(run.Config))
	ms, err := db.Metrics(id)
	if err != nil {
		return "", err
	}
	if len(ms) > 0 {
		b.WriteString("\n" + styleTitle.Render("metrics (macro over passages)") + "\n")
		for _, m := range ms {
			fmt.Fprintf(&b, "  %-28s %.3f\n", termsafe.Line(m.Name), m.Value)
		}
	}
	rounds, err := db.Rounds(id)
	if err != nil {
		return "", err
	}
	for _, r := range rounds {
		fmt.Fprintf(&b, "round %d: mean reward %+.3f ± %.3f, kept %d, policy loss %.4f\n", r.Round, r.MeanReward, r.StdReward, r.Kept, r.TrainLoss)
	}
	cells, err := db.Retention(id)
	if err != nil {
		return "", err
	}
	if len(cells) > 0 {
		steps, tasks := 0, 0
		for _, c := range cells {
			steps, tasks = max(steps, c.Step+1), max(tasks, c.Task+1)
		}
		rows := make([][]float64, steps)
		for i := range rows {
			rows[i] = make([]float64, tasks)
			for j := range rows[i] {
				rows[i][j] = nan
			}
		}
		for _, c := range cells {
			rows[c.Step][c.Task] = c.Accuracy
		}
		b.WriteString("\n" + styleTitle.Render("retention") + "\n" + heatmap(rows, "step", "p") + "\n")
	}
	cands, err := db.Candidates(id, true)
	if err != nil {
		return "", err
	}
	tasks, err := db.Tasks(id)
	if err != nil {
		return "", err
	}
	question := func(task, q int) string {
		if task < len(tasks) && q < len(tasks[task].Questions) {
			return termsafe.Line(tasks[task].Questions[q].Question)
		}
		return fmt.Sprintf("question %d", q)
	}
	reviews, err := db.LatestReviews(id)
	if err != nil {
		return "", err
	}
	arcRun := engine.DomainInfoOf(run.Domain).Display == engine.DisplayGrids
	if arcRun {
		b.WriteString("\n" + styleTitle.Render("tasks (demonstrations)") + "\n")
		for _, t := range tasks {
			b.WriteString(arcTaskSection(t, w))
		}
	}
	b.WriteString(verdictSection(store.VerdictStatsOf(cands, reviews), w))
	b.WriteString("\n" + styleTitle.Render("candidates") + "\n")
	for _, c := range cands {
		verdict := ""
		if rv, ok := reviews[c.ID]; ok {
			verdict = "  " + termsafe.Line(rv.Verdict)
			if rv.Reason != "" {
				verdict += " (" + termsafe.Line(rv.Reason) + ")"
			}
		}
		ground := "" // the share of the edit's content words its passage states; none for ARC and baselines
		if c.Grounding != nil {
			ground = fmt.Sprintf("  grounding %.3f", *c.Grounding)
		}
		exact := "" // a knowledge candidate's answers read by exact match: recitation scores by containment only
		if x, ok := engine.ExactAccuracy(c); ok && !arcRun {
			exact = fmt.Sprintf(" (exact %.3f)", x)
		}
		fmt.Fprintf(&b, "#%d r%d p%d c%d %s %s  base %.3f adapted %.3f%s reward %+.3f ± %.3f%s%s\n", c.ID, c.Round, c.Task, c.Index,
			termsafe.Line(c.Kind), termsafe.Line(c.Status), c.BaseScore, c.AdaptedScore, exact, c.Reward, c.RewardStd, ground, verdict)
		if c.Reason != "" {
			b.WriteString("  " + styleBad.Render(termsafe.Line(c.Reason)) + "\n")
		}
		if c.Edit != "" {
			b.WriteString(indent(wrap(termsafe.Text(c.Edit), w-4), "  │ ") + "\n")
		}
		if arcRun {
			var t *store.Task
			if c.Task < len(tasks) {
				t = &tasks[c.Task]
			}
			b.WriteString(arcEvalSection(c, t, w))
			continue
		}
		for _, e := range c.Evals {
			mark := styleGood.Render("✓")
			if !e.Correct {
				mark = styleBad.Render("✗")
			}
			fmt.Fprintf(&b, "  %s %s → %s  %s\n", mark, clip(question(c.Task, e.Question), w/2), clip(termsafe.Line(e.Text), w/4),
				styleDim.Render("gold: "+termsafe.Line(e.Gold)))
		}
	}
	return b.String(), nil
}

// configText is a run's stored settings, indented; settings that do not parse are
// said to be unreadable, with the parser's error, rather than shown as "null".
func configText(raw []byte) string {
	var pretty map[string]any
	if err := json.Unmarshal(raw, &pretty); err != nil {
		return styleBad.Render(termsafe.Line("the stored settings cannot be read: "+err.Error())) + "\n" + termsafe.Text(string(raw))
	}
	cfg, err := json.MarshalIndent(pretty, "", "  ")
	if err != nil { // a map read from JSON writes back; kept so a surprise is seen
		return styleBad.Render(termsafe.Line(err.Error()))
	}
	return termsafe.Text(string(cfg))
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
