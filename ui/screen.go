package ui

import (
	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
)

// A screen is one page of the workbench (after soft-serve's components: each has a
// size and a key map). The App keeps one of each, routes the keys and messages of the
// page in front to it and draws it in the room left by the help bar; what a screen
// cannot do alone (start a run, open another page) it asks of the App.
type screen interface {
	// update answers a key or a message meant for this page.
	update(msg tea.Msg) tea.Cmd
	// view draws the page in exactly w x h cells.
	view(w, h int) string
	// keys is every key the page answers; the help bar is made from it.
	keys() help.KeyMap
	// typing says that keys go to a text being typed, so the single-key global
	// bindings (q, h, n, l, ?) are off.
	typing() bool
}

type screenID int

const (
	screenLauncher screenID = iota
	screenLive
	screenHistory
	screenDetail
	screenCompare
	screenVersions
)

// active is the screen in front.
func (a *App) active() screen {
	switch a.screen {
	case screenLive:
		return &a.live
	case screenHistory:
		return &a.history
	case screenDetail:
		return &a.detail
	case screenCompare:
		return &a.compare
	case screenVersions:
		return &a.versions
	}
	return &a.launcher
}

// show brings a screen to the front.
func (a *App) show(id screenID) { a.screen = id }
