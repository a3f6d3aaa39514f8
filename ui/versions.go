package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"seal/engine"
	"seal/store"
	"seal/store/termsafe"
)

// The version tree of a run's family (history → v): every committed version, branch
// and held or rejected change, as `seal versions` prints it, with a cursor. r asks to
// roll back to the selected version, y starts that as a new run branching from it
// (engine.Rollback); any other key takes the question back.

type versionsView struct {
	run     int64
	lines   []string
	entries []store.LedgerEntry // entries[i] is the entry on lines[i]
	cursor  int
	confirm bool // "roll back to v…? y/n" is asked
	err     string

	app  *App
	roll func(run, version int64) tea.Cmd // starts the rollback (App.rollback)
}

// loadVersions reads the tree of run's family with the cursor on the run's head.
func loadVersions(db *store.DB, run int64) (versionsView, error) {
	tree, err := db.VersionTree(run)
	if err != nil {
		return versionsView{}, err
	}
	if len(tree) == 0 {
		return versionsView{}, fmt.Errorf("run %d has no version tree (it was made before versions were recorded)", run)
	}
	head, _, err := db.HeadVersion(run)
	if err != nil {
		return versionsView{}, err
	}
	byID := make(map[int64]store.LedgerEntry, len(tree))
	for _, e := range tree {
		byID[e.ID] = e
	}
	v := versionsView{run: run, lines: engine.VersionTreeLines(tree, head.ID)}
	for i, l := range v.lines {
		l = termsafe.Line(l) // a line quotes the edit's source and the guard's reason
		v.lines[i] = l
		id, ok := lineVersion(l)
		e, found := byID[id]
		if !ok || !found {
			return versionsView{}, fmt.Errorf("version tree of run %d: line %d %q names no version of the tree", run, i, l)
		}
		v.entries = append(v.entries, e)
		if e.ID == head.ID {
			v.cursor = i
		}
	}
	return v, nil
}

// lineVersion reads the version id a tree line starts with, after the branch drawing
// ("│  ├─ v12 continual step 1, ..." is 12).
func lineVersion(l string) (int64, bool) {
	l = strings.TrimLeft(l, "│├└─ ")
	rest, ok := strings.CutPrefix(l, "v")
	if !ok {
		return 0, false
	}
	num, _, _ := strings.Cut(rest, " ")
	id, err := strconv.ParseInt(num, 10, 64)
	return id, err == nil
}

// selected is the entry under the cursor.
func (v *versionsView) selected() (store.LedgerEntry, bool) {
	if v.cursor < 0 || v.cursor >= len(v.entries) {
		return store.LedgerEntry{}, false
	}
	return v.entries[v.cursor], true
}

func (v *versionsView) keys() help.KeyMap { return versionsKeyMap }

// typing: while the rollback question is asked, every key answers it.
func (v *versionsView) typing() bool { return v.confirm }

// update shows a loaded tree, moves the cursor and asks about a rollback; roll is
// called with the version once the person says yes.
func (v *versionsView) update(m tea.Msg) tea.Cmd {
	switch msg := m.(type) {
	case versionsMsg:
		a := v.app
		if msg.err != nil {
			a.history.err = msg.err.Error()
			return nil
		}
		*v = msg.v
		v.app, v.roll = a, a.rollback
		a.show(screenVersions)
	case tea.KeyMsg:
		return v.key(msg)
	}
	return nil
}

func (v *versionsView) key(msg tea.KeyMsg) tea.Cmd {
	km := versionsKeyMap
	if v.confirm {
		v.confirm = false
		if key.Matches(msg, km.Yes) {
			e, _ := v.selected()
			return v.roll(v.run, e.ID)
		}
		v.err = "rollback not started"
		return nil
	}
	switch {
	case key.Matches(msg, km.Back):
		v.app.show(screenHistory)
	case key.Matches(msg, km.Up):
		v.cursor = max(0, v.cursor-1)
	case key.Matches(msg, km.Down):
		v.cursor = min(len(v.entries)-1, v.cursor+1)
	case key.Matches(msg, km.Rollback):
		e, ok := v.selected()
		switch {
		case !ok:
		case e.Status != store.LedgerCommitted:
			v.err = fmt.Sprintf("v%d was %s, never applied: only committed versions can be rolled back to", e.ID, e.Status)
		default:
			v.err, v.confirm = "", true
		}
	}
	return nil
}

func (v *versionsView) view(w, rows int) string {
	var b strings.Builder
	b.WriteString(styleTitle.Render(fmt.Sprintf(" versions of run %d", v.run)) + styleDim.Render(fmt.Sprintf("  %d entries · * is the run's head", len(v.entries))) + "\n")
	var foot string
	switch {
	case v.confirm:
		e, _ := v.selected()
		foot = styleAccent.Render(fmt.Sprintf("roll back run %d to v%d as a new run? y starts it, any other key cancels", v.run, e.ID))
	case v.err != "":
		foot = styleBad.Render(termsafe.Line(v.err))
	}
	n := rows - 1
	if foot != "" {
		n--
	}
	first := max(0, min(v.cursor-n/2, len(v.lines)-n))
	for i := first; i < len(v.lines) && i < first+n; i++ {
		l, mark := clip(v.lines[i], w-2), " "
		switch {
		case i == v.cursor: // the mark shows the cursor without colours too
			l, mark = styleBar.Render(l), "›"
		case v.entries[i].Status != store.LedgerCommitted:
			l = styleDim.Render(l)
		}
		b.WriteString(mark + l + "\n")
	}
	out := fit(b.String(), w, n+1)
	if foot != "" {
		out += "\n" + clip(foot, w)
	}
	return out
}
