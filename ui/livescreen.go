package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"seal/engine"
	"seal/store/termsafe"
)

// The live view as a screen: its keys (panes, the review prompt, the editors) and the
// verdicts it sends. The run it controls is the App's.

func (v *liveView) keys() help.KeyMap { return liveKeyMap }

func (v *liveView) typing() bool { return v.purpose != editNone }

func (v *liveView) view(w, h int) string {
	o := v.app.o
	return v.render(w, h, statusLine(v.st, w, o.Now(), o.Device, o.Mem()))
}

func (v *liveView) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch v.purpose {
		case editReason:
			return v.reasonKey(msg)
		case editApprove, editWhatIf:
			return v.editorKey(msg)
		}
		return v.key(msg)
	case sendVerdictMsg:
		if vd, ok := v.rv.due(msg.seq); ok {
			return v.app.sendVerdict(vd)
		}
		return nil
	case verdictSentMsg:
		v.rv.sentDone(msg)
		return nil
	}
	if v.purpose != editNone { // the editor's own messages (its cursor)
		var cmd tea.Cmd
		v.editor, cmd = v.editor.Update(msg)
		return cmd
	}
	return nil
}

// reasonKey types the reason of a rejection; enter rejects with it.
func (v *liveView) reasonKey(msg tea.KeyMsg) tea.Cmd {
	km, o := liveKeyMap, v.app.o
	switch {
	case key.Matches(msg, km.Close):
		v.purpose = editNone
		v.reason.Blur()
	case key.Matches(msg, km.Submit):
		reason := strings.TrimSpace(v.reason.Value())
		if reason == "" {
			v.rv.note = "a rejection needs a reason"
			return nil
		}
		v.purpose = editNone
		v.reason.Blur()
		return v.rv.decide("reject", reason, "", o.Now(), o.Grace, o.UndoWindow, v.app.sendVerdict)
	default:
		var cmd tea.Cmd
		v.reason, cmd = v.reason.Update(msg)
		return cmd
	}
	return nil
}

// editorKey types an edit to approve or to try (what if); ctrl+s submits it.
func (v *liveView) editorKey(msg tea.KeyMsg) tea.Cmd {
	km, o := liveKeyMap, v.app.o
	switch {
	case key.Matches(msg, km.Close):
		v.purpose = editNone
		v.editor.Blur()
	case key.Matches(msg, km.Confirm):
		text := strings.TrimSpace(v.editor.Value())
		p := v.purpose
		v.purpose = editNone
		v.editor.Blur()
		if p == editApprove {
			return v.rv.decide("approve", "", text, o.Now(), o.Grace, o.UndoWindow, v.app.sendVerdict)
		}
		return v.app.startWhatIf(v.whatIf, text)
	default:
		var cmd tea.Cmd
		v.editor, cmd = v.editor.Update(msg)
		return cmd
	}
	return nil
}

// key answers the single keys: a verdict on the candidate under review (once its
// grace period is over), what if, the panes, pause and cancel.
func (v *liveView) key(msg tea.KeyMsg) tea.Cmd {
	km, o, run := liveKeyMap, v.app.o, v.app.run
	now := o.Now()
	reviewing := v.rv.open(now, o.Grace)
	_, pending := v.rv.head()
	switch {
	case key.Matches(msg, km.Approve, km.Reject, km.EditApprove) && pending && !reviewing:
		return nil // inside the grace period: the key was meant for something else
	case key.Matches(msg, km.Approve) && reviewing:
		return v.rv.decide("approve", "", "", now, o.Grace, o.UndoWindow, v.app.sendVerdict)
	case key.Matches(msg, km.Reject) && reviewing:
		v.purpose = editReason
		v.reason.SetValue("")
		return v.reason.Focus()
	case key.Matches(msg, km.EditApprove) && reviewing:
		it, _ := v.rv.head()
		v.whatIf, v.purpose = it, editApprove
		v.editor.SetValue(termsafe.Text(it.Edit)) // the editor draws its text as it is: the person approves what they see
		return v.editor.Focus()
	case key.Matches(msg, km.Undo):
		return v.rv.undo(now, o.Grace)
	case key.Matches(msg, km.NextCand, km.PrevCand):
		d := 1
		if key.Matches(msg, km.PrevCand) {
			d = -1
		}
		v.rv.step(d)
	case key.Matches(msg, km.Sides) && pending:
		v.layout = (v.layout + 1) % numLayouts
	case key.Matches(msg, km.SourceDown, km.SourceUp, km.EditDown, km.EditUp) && pending:
		v.scrollReview(msg)
	case key.Matches(msg, km.WhatIf):
		return v.openWhatIf()
	case key.Matches(msg, km.Focus):
		v.focus = (v.focus + 1) % numPanes
	case key.Matches(msg, km.Back):
		v.focus = (v.focus + numPanes - 1) % numPanes
	case key.Matches(msg, km.Grow, km.Shrink):
		v.resize(key.Matches(msg, km.Grow))
	case key.Matches(msg, km.Zoom):
		v.zoom = !v.zoom
	case key.Matches(msg, km.Pause):
		if run != nil {
			if v.st.status == "paused" {
				run.Resume()
			} else {
				run.Pause()
				v.flash = "pausing at the next candidate…"
			}
		}
	case key.Matches(msg, km.Cancel):
		if run != nil {
			run.Cancel()
			v.flash = "cancelling…"
		}
	}
	return nil
}

// reviewing says a candidate waits for a verdict: the review panel is shown.
func (v *liveView) reviewing() bool {
	_, ok := v.rv.head()
	return ok
}

// scrollReview moves one side of the candidate shown by a line; the drawing clamps
// it to the text.
func (v *liveView) scrollReview(msg tea.KeyMsg) {
	km := liveKeyMap
	it, _ := v.rv.head()
	sc := v.scrollOf(it.ID)
	switch {
	case key.Matches(msg, km.SourceDown):
		sc[0]++
	case key.Matches(msg, km.SourceUp):
		sc[0] = max(0, sc[0]-1)
	case key.Matches(msg, km.EditDown):
		sc[1]++
	case key.Matches(msg, km.EditUp):
		sc[1] = max(0, sc[1]-1)
	}
}

// wantSource loads the source of a candidate that waits for review, once.
func (v *liveView) wantSource(id int64) tea.Cmd {
	db := v.app.o.DB
	if _, ok := v.sources[id]; ok || db == nil || v.st.run == 0 {
		return nil
	}
	v.sources[id] = nil // asked: the panel says it is loading
	grids := engine.DomainInfoOf(v.st.spec.Domain).Display == engine.DisplayGrids
	return loadSource(db, v.st.run, id, grids)
}

// sourceLoaded keeps a loaded source, or the error to show in its place.
func (v *liveView) sourceLoaded(m sourceMsg) {
	if m.err != nil {
		v.sourceErr[m.id] = m.err.Error()
		return
	}
	src := m.src
	v.sources[m.id] = &src
}

// openWhatIf opens the editor on the self-edit shown, to try one's own instead.
func (v *liveView) openWhatIf() tea.Cmd {
	st := v.st
	if st.run == 0 {
		v.flash = "no run to try an edit on"
		return nil
	}
	v.whatIf = reviewItem{Where: st.at, Edit: termsafe.Text(st.edits[st.at.Cand])}
	v.whatIf.Run = st.run
	v.purpose = editWhatIf
	v.editor.SetValue(v.whatIf.Edit)
	return v.editor.Focus()
}

// resize moves the split towards the focused pane (grow) or away from it.
func (v *liveView) resize(grow bool) {
	d := 10
	if !grow {
		d = -10
	}
	if v.focus == paneLoss || v.focus == paneEval { // right column: growing it shrinks the left
		v.colShare = clampShare(v.colShare - d)
	} else {
		v.colShare = clampShare(v.colShare + d)
	}
	if v.focus == paneRewards || v.focus == paneEval {
		v.rowShare = clampShare(v.rowShare - d)
	} else {
		v.rowShare = clampShare(v.rowShare + d)
	}
}

func clampShare(s int) int { return max(20, min(80, s)) }
