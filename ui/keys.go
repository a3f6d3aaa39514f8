package ui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
)

// Each screen has its own key map, and every key a screen answers is a binding in it:
// the help bar is generated from the map (the short help for the keys used most, the
// full help, toggled with ?, for all of them), so a key cannot work without being
// listed. No key is bound twice within a screen; the keys of a text being typed
// (enter, esc, ctrl+s) are bindings too.

type globalKeys struct {
	Quit, Interrupt, Help, History, New, Live key.Binding
}

var global = globalKeys{
	Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
	Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit, even while typing")),
	Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
	History:   key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "history")),
	New:       key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new run")),
	Live:      key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "live run")),
}

type launcherKeys struct {
	Up, Down, Prev, Next, Edit, Cancel, Start, Save, Load key.Binding
}

var launcherKeyMap = launcherKeys{
	Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
	Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
	Prev:   key.NewBinding(key.WithKeys("left"), key.WithHelp("←", "previous choice")),
	Next:   key.NewBinding(key.WithKeys("right", " "), key.WithHelp("→", "change")),
	Edit:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "edit field")), // and, while typing, done
	Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "stop typing")),
	Start:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "start")),
	Save:   key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "save preset")),
	Load:   key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "load preset")),
}

func (k launcherKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Start, k.Edit, k.Next, k.Save, k.Load, global.History, global.Quit}
}
func (k launcherKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Prev, k.Next, k.Edit, k.Cancel}, {k.Start, k.Save, k.Load},
		{global.History, global.Live, global.Help, global.Quit, global.Interrupt}}
}

type liveKeys struct {
	Focus, Back, Grow, Shrink, Zoom, Pause, Cancel key.Binding
	Approve, Reject, EditApprove, Undo, WhatIf     key.Binding
	NextCand, PrevCand, Sides                      key.Binding // the review: step the queue, which sides show
	SourceDown, SourceUp, EditDown, EditUp         key.Binding // the review: scroll each side
	Confirm, Submit, Close                         key.Binding // in the editor and the reason line
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
	NextCand:    key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "next waiting")),
	PrevCand:    key.NewBinding(key.WithKeys("["), key.WithHelp("[", "previous waiting")),
	Sides:       key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "source/edit/both")),
	SourceDown:  key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/↓", "scroll source")),
	SourceUp:    key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("k/↑", "source up")),
	EditDown:    key.NewBinding(key.WithKeys("J", "pgdown"), key.WithHelp("J/pgdn", "scroll edit")),
	EditUp:      key.NewBinding(key.WithKeys("K", "pgup"), key.WithHelp("K/pgup", "edit up")),
	Confirm:     key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "submit the edit")),
	Submit:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "reject with the reason")),
	Close:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close the editor")),
}

func (k liveKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Approve, k.Reject, k.EditApprove, k.Undo, k.WhatIf, k.NextCand, k.Sides, k.Focus, k.Pause, global.History, global.Quit}
}
func (k liveKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Approve, k.Reject, k.EditApprove, k.Undo, k.WhatIf}, {k.NextCand, k.PrevCand, k.Sides, k.SourceDown, k.SourceUp, k.EditDown, k.EditUp},
		{k.Confirm, k.Submit, k.Close},
		{k.Focus, k.Back, k.Grow, k.Shrink, k.Zoom}, {k.Pause, k.Cancel, global.New, global.History, global.Help, global.Quit, global.Interrupt}}
}

type historyKeys struct {
	Up, Down, Open, Versions, Mark, Compare, Filter, Back key.Binding
}

// While the filter is typed, Open (enter) and Back (esc) both apply it.
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
	return [][]key.Binding{{k.Up, k.Down, k.Open, k.Versions}, {k.Mark, k.Compare, k.Filter, k.Back},
		{global.New, global.Live, global.Help, global.Quit, global.Interrupt}}
}

type versionsKeys struct {
	Up, Down, Rollback, Yes, Export, ExportMerged, Back key.Binding
}

var versionsKeyMap = versionsKeys{
	Up:           key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
	Down:         key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
	Rollback:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "roll back")),
	Yes:          key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes, roll back (any other key: no)")),
	Export:       key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "export adapter")),
	ExportMerged: key.NewBinding(key.WithKeys("E"), key.WithHelp("E", "export merged")),
	Back:         key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
}

func (k versionsKeys) ShortHelp() []key.Binding {
	// Up and down are left to the full help (?): the export keys fill 80 columns.
	return []key.Binding{k.Rollback, k.Export, k.ExportMerged, k.Back, global.Quit}
}
func (k versionsKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Rollback, k.Yes, k.Export, k.ExportMerged, k.Back}, {global.New, global.History, global.Live, global.Help, global.Quit, global.Interrupt}}
}

// scrollKeys move a scrolling text (run detail, compare); they are the viewport's key
// map, so the viewport answers no key that is not listed here.
type scrollKeys struct {
	Up, Down, PageUp, PageDown, HalfUp, HalfDown key.Binding
}

func newScrollKeys(pageUp ...string) scrollKeys {
	return scrollKeys{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll")),
		PageUp:   key.NewBinding(key.WithKeys(pageUp...), key.WithHelp(pageUp[len(pageUp)-1], "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", " ", "f"), key.WithHelp("f/pgdn", "page down")),
		HalfUp:   key.NewBinding(key.WithKeys("u", "ctrl+u"), key.WithHelp("u", "½ page up")),
		HalfDown: key.NewBinding(key.WithKeys("d", "ctrl+d"), key.WithHelp("d", "½ page down")),
	}
}

func (k scrollKeys) bindings() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.HalfUp, k.HalfDown}
}

type detailKeys struct {
	Scroll                        scrollKeys
	WhatIf, Passage, Source, Back key.Binding
}

var detailKeyMap = detailKeys{
	Scroll:  newScrollKeys("pgup", "b"),
	WhatIf:  key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "what if")),
	Passage: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "next passage: round 0 vs last")),
	Source:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "next self-edit beside its source")),
	Back:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
}

func (k detailKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Scroll.Up, k.Source, k.WhatIf, k.Passage, k.Back, global.History, global.Quit}
}
func (k detailKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.Scroll.bindings(), {k.Source, k.WhatIf, k.Passage, k.Back}, {global.New, global.History, global.Live, global.Help, global.Quit, global.Interrupt}}
}

type compareKeys struct {
	Scroll               scrollKeys
	Baseline, Task, Back key.Binding
}

// b is the next baseline here, so only pgup pages up.
var compareKeyMap = compareKeys{
	Scroll:   newScrollKeys("pgup"),
	Baseline: key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "next baseline")),
	Task:     key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "next passage diff")),
	Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
}

func (k compareKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Scroll.Up, k.Baseline, k.Task, k.Back, global.Quit}
}
func (k compareKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.Scroll.bindings(), {k.Baseline, k.Task, k.Back}, {global.New, global.History, global.Live, global.Help, global.Quit, global.Interrupt}}
}

// viewport is the viewport's own key map made of these bindings (no sideways
// scrolling: the text is wrapped to the width).
func (k scrollKeys) viewport() viewport.KeyMap {
	return viewport.KeyMap{Up: k.Up, Down: k.Down, PageUp: k.PageUp, PageDown: k.PageDown, HalfPageUp: k.HalfUp, HalfPageDown: k.HalfDown}
}
