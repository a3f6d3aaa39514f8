package ui

import (
	"fmt"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"seal/engine"
	"seal/store/termsafe"
)

// Run detail (history → enter): one stored run in full in a scrolling text (the text
// is runDetail's), and from there a what-if on one of its passages: t picks the
// passage and shows its round-0 self-edits beside its last round's above the
// detail, w opens the editor on its best self-edit in the live view.

type detailView struct {
	app  *App
	vp   viewport.Model
	run  int64    // the run shown
	task int      // the passage a what-if from here edits
	cand int      // the self-edit shown beside its source (s), -1 before the first
	back screenID // where esc goes
}

func newDetailView() detailView {
	vp := viewport.New(80, 20)
	vp.KeyMap = detailKeyMap.Scroll.viewport()
	return detailView{vp: vp}
}

func (d *detailView) keys() help.KeyMap { return detailKeyMap }

func (d *detailView) typing() bool { return false }

func (d *detailView) resize(w, h int) { d.vp.Width, d.vp.Height = w, h }

func (d *detailView) view(w, h int) string {
	d.resize(w, h)
	return d.vp.View()
}

func (d *detailView) update(m tea.Msg) tea.Cmd {
	switch msg := m.(type) {
	case detailMsg:
		return d.opened(msg)
	case whatIfLoadedMsg:
		return d.whatIfLoaded(msg)
	case sourceDetailMsg:
		return d.sourceLoaded(msg)
	case tea.KeyMsg:
		km := detailKeyMap
		switch {
		case key.Matches(msg, km.Back):
			d.app.show(d.back)
			return nil
		case key.Matches(msg, km.Passage):
			d.task++
			return d.whatIf(false)
		case key.Matches(msg, km.WhatIf):
			return d.whatIf(true)
		case key.Matches(msg, km.Source):
			return loadCandidateSource(d.app.o.DB, d.run, d.cand+1, d.app.w)
		}
		var cmd tea.Cmd
		d.vp, cmd = d.vp.Update(msg)
		return cmd
	}
	return nil
}

// opened shows a loaded run; a store error stays on the history, where it was asked.
func (d *detailView) opened(m detailMsg) tea.Cmd {
	a := d.app
	if m.err != nil {
		a.history.err = m.err.Error()
		return nil
	}
	d.vp.SetContent(m.text)
	d.vp.GotoTop()
	d.run, d.task, d.cand, d.back = m.id, 0, -1, a.screen
	a.show(screenDetail)
	return nil
}

// whatIf loads the run for a what-if on passage d.task: with open the live view's
// editor opens on its best self-edit of the last round, else the passage is only
// named above the detail. A live run is tried from the live view instead.
func (d *detailView) whatIf(open bool) tea.Cmd {
	a := d.app
	if a.run != nil {
		a.history.err = fmt.Sprintf("run %d is live: try edits on it from the live view (w)", a.run.ID)
		a.show(screenHistory)
		return nil
	}
	return loadWhatIf(a.o.DB, d.run, d.task, open, a.w, a.o.Now())
}

// sourceLoaded shows a stored self-edit beside its source; an error stays on top.
func (d *detailView) sourceLoaded(m sourceDetailMsg) tea.Cmd {
	if m.run != d.run {
		return nil
	}
	if m.err != nil {
		d.vp.SetContent(styleBad.Render(termsafe.Line(m.err.Error())))
		return nil
	}
	d.cand = m.n
	d.vp.SetContent(m.text)
	d.vp.GotoTop()
	return nil
}

func (d *detailView) whatIfLoaded(m whatIfLoadedMsg) tea.Cmd {
	a := d.app
	if m.err != nil {
		a.history.err = m.err.Error()
		a.show(screenHistory)
		return nil
	}
	d.task = m.task
	if !m.open {
		a.help.ShowAll = false
		d.vp.SetYOffset(0)
		a.history.err = ""
		d.vp.SetContent(styleAccent.Render(fmt.Sprintf("what-if passage %d (t: next, w: write a self-edit for it)", d.task)) + "\n" + m.text)
		return nil
	}
	round := max(0, m.st.spec.Rounds-1)
	if m.st.spec.Mode == "continual" {
		round = d.task
	}
	a.live = a.freshLive(m.st.spec)
	a.live.st = m.st
	a.live.whatIf = reviewItem{Where: engine.Where{Run: m.run, Round: round, Task: d.task}, Edit: m.edit}
	a.live.purpose = editWhatIf
	a.live.editor.SetValue(m.edit)
	a.show(screenLive)
	return a.live.editor.Focus()
}
