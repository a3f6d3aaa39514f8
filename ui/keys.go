package ui

import "github.com/charmbracelet/bubbles/key"

// Each screen has its own key map; the help bar shows the one of the screen in front.

type globalKeys struct {
	Quit, Help, History, New, Live key.Binding
}

var global = globalKeys{
	Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
	History: key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "history")),
	New:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new run")),
	Live:    key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "live run")),
}

type launcherKeys struct {
	Up, Down, Cycle, Edit, Start, Save, Load key.Binding
}

var launcherKeyMap = launcherKeys{
	Up:    key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
	Down:  key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
	Cycle: key.NewBinding(key.WithKeys("left", "right", " "), key.WithHelp("←/→", "change")),
	Edit:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "edit field")),
	Start: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "start")),
	Save:  key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "save preset")),
	Load:  key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "load preset")),
}

func (k launcherKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Start, k.Edit, k.Cycle, k.Save, k.Load, global.History, global.Quit}
}
func (k launcherKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Cycle, k.Edit}, {k.Start, k.Save, k.Load}, {global.History, global.Live, global.Quit}}
}

type liveKeys struct {
	Focus, Back, Grow, Shrink, Zoom, Pause, Cancel      key.Binding
	Approve, Reject, EditApprove, Undo, WhatIf, Confirm key.Binding
}

var liveKeyMap = liveKeys{
	Focus:       key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
	Back:        key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("S-tab", "prev pane")),
	Grow:        key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+/-", "resize pane")),
	Shrink:      key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "shrink pane")),
	Zoom:        key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "zoom pane")),
	Pause:       key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "pause/resume")),
	Cancel:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "cancel run")),
	Approve:     key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "approve")),
	Reject:      key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reject")),
	EditApprove: key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit+approve")),
	Undo:        key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undo verdict")),
	WhatIf:      key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "what if")),
	Confirm:     key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "submit")),
}

func (k liveKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Approve, k.Reject, k.EditApprove, k.Undo, k.WhatIf, k.Focus, k.Grow, k.Pause, global.History, global.Quit}
}
func (k liveKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Approve, k.Reject, k.EditApprove, k.Undo, k.WhatIf}, {k.Focus, k.Back, k.Grow, k.Shrink, k.Zoom},
		{k.Pause, k.Cancel, global.New, global.History, global.Quit}}
}

type historyKeys struct {
	Up, Down, Open, Versions, Mark, Compare, Filter, Back key.Binding
}

var historyKeyMap = historyKeys{
	Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
	Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
	Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
	Versions: key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "versions")),
	Mark:     key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "mark")),
	Compare:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "compare marked")),
	Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
	Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
}

func (k historyKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Versions, k.Mark, k.Compare, k.Filter, global.New, global.Live, global.Quit}
}
func (k historyKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Open, k.Versions}, {k.Mark, k.Compare, k.Filter}, {global.New, global.Live, global.Quit}}
}

type versionsKeys struct {
	Up, Down, Rollback, Yes, Back key.Binding
}

var versionsKeyMap = versionsKeys{
	Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
	Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
	Rollback: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "roll back to this version")),
	Yes:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
	Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
}

func (k versionsKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Rollback, k.Back, global.Quit}
}
func (k versionsKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

type viewerKeys struct {
	Up, Down, Baseline, Task, Passage, Back key.Binding
}

var viewerKeyMap = viewerKeys{
	Up:       key.NewBinding(key.WithKeys("up", "k", "pgup"), key.WithHelp("↑/k", "scroll")),
	Down:     key.NewBinding(key.WithKeys("down", "j", "pgdown"), key.WithHelp("↓/j", "scroll")),
	Baseline: key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "next baseline")),
	Task:     key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "next passage diff")),
	Passage:  key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "what-if passage")),
	Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
}

type detailKeys struct{ viewerKeys }

func (k detailKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, liveKeyMap.WhatIf, k.Passage, k.Back, global.History, global.Quit}
}
func (k detailKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

type compareKeys struct{ viewerKeys }

func (k compareKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Baseline, k.Task, k.Back, global.Quit}
}
func (k compareKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }
