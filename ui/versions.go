package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"seal/engine"
	"seal/store"
	"seal/store/termsafe"
)

// The version tree of a run's family (history → v): every committed version, branch
// and held or rejected change, as `seal versions` prints it, with a cursor. r asks to
// roll back to the selected version, y starts that as a new run branching from it
// (engine.Rollback); any other key takes the question back. e and E export the selected
// version (engine.ExportModel, as seal export-model does) as a PEFT adapter or a merged
// Hugging Face folder: they ask for the output folder, enter exports, esc cancels.

type versionsView struct {
	run     int64
	lines   []string
	entries []store.LedgerEntry // entries[i] is the entry on lines[i]
	cursor  int
	confirm bool // "roll back to v…? y/n" is asked
	err     string
	note    string // what the last export wrote

	out       textinput.Model // the export's output folder, while asked
	exporting bool            // the folder is being typed
	merged    bool            // the export asked for is a merged folder

	app    *App
	roll   func(run, version int64) tea.Cmd                          // starts the rollback (App.rollback)
	export func(run, version int64, dir string, merged bool) tea.Cmd // runs the export (App.exportModel)
}

// exportedMsg is the end of an export started from the version tree.
type exportedMsg struct {
	x   engine.Exported
	err error
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

// typing: while the rollback question is asked or the export folder typed, every key
// answers it.
func (v *versionsView) typing() bool { return v.confirm || v.exporting }

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
		v.app, v.roll, v.export = a, a.rollback, a.exportModel
		a.show(screenVersions)
	case exportedMsg:
		if msg.err != nil {
			v.err, v.note = "export: "+msg.err.Error(), ""
		} else {
			v.err, v.note = "", engine.ExportedLine(msg.x)
		}
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
	if v.exporting {
		return v.exportKey(msg)
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
	case key.Matches(msg, km.Export), key.Matches(msg, km.ExportMerged):
		return v.askExport(key.Matches(msg, km.ExportMerged))
	}
	return nil
}

// askExport opens the output folder's input for the selected committed version.
func (v *versionsView) askExport(merged bool) tea.Cmd {
	e, ok := v.selected()
	switch {
	case !ok:
		return nil
	case e.Status != store.LedgerCommitted:
		v.err = fmt.Sprintf("v%d was %s, never applied: only committed versions can be exported", e.ID, e.Status)
		return nil
	}
	v.out = textinput.New()
	v.out.Prompt = fmt.Sprintf("export v%d as %s to folder: ", e.ID, exportForm(merged))
	v.out.Placeholder = "a new or empty folder"
	v.exporting, v.merged, v.err, v.note = true, merged, "", ""
	return v.out.Focus()
}

func exportForm(merged bool) string {
	if merged {
		return "a merged Hugging Face folder"
	}
	return "a PEFT adapter"
}

// exportKey types the folder; enter starts the export, esc cancels.
func (v *versionsView) exportKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		v.exporting, v.err = false, "export cancelled"
		return nil
	case tea.KeyEnter:
		dir := strings.TrimSpace(v.out.Value())
		if dir == "" {
			v.err = "type the folder to export to (esc cancels)"
			return nil
		}
		v.exporting = false
		e, _ := v.selected()
		v.note = fmt.Sprintf("exporting v%d to %s…", e.ID, dir)
		return v.export(v.run, e.ID, dir, v.merged)
	}
	var cmd tea.Cmd
	v.out, cmd = v.out.Update(msg)
	return cmd
}

func (v *versionsView) view(w, rows int) string {
	var b strings.Builder
	b.WriteString(styleTitle.Render(fmt.Sprintf(" versions of run %d", v.run)) + styleDim.Render(fmt.Sprintf("  %d entries · * is the run's head", len(v.entries))) + "\n")
	var foot string
	switch {
	case v.confirm:
		e, _ := v.selected()
		foot = styleAccent.Render(fmt.Sprintf("roll back run %d to v%d as a new run? y starts it, any other key cancels", v.run, e.ID))
	case v.exporting:
		foot = v.out.View()
	case v.err != "":
		foot = styleBad.Render(termsafe.Line(v.err))
	case v.note != "":
		foot = styleAccent.Render(termsafe.Line(v.note))
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

// exportModel writes a version out of seal (engine.ExportModel) in a command; the
// result or the error comes back to the version tree.
func (a *App) exportModel(run, version int64, dir string, merged bool) tea.Cmd {
	e, ctx := a.o.Engine, a.ctx
	if e == nil {
		return func() tea.Msg { return exportedMsg{err: fmt.Errorf("no engine to export with")} }
	}
	if abs, err := filepath.Abs(expandHome(dir)); err == nil {
		dir = abs
	}
	return func() tea.Msg {
		x, err := e.ExportModel(ctx, run, version, dir, merged)
		return exportedMsg{x: x, err: err}
	}
}

// expandHome reads a leading ~/ as the home folder, as a shell would.
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}
