package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"seal/engine"
	"seal/store"
	"seal/store/termsafe"
)

// Options wire the workbench to an engine and a store.
type Options struct {
	DB     *store.DB
	Engine *engine.Engine
	// Spec prefills the launcher; an empty model or data means the embedded default.
	Spec engine.RunSpec
	// Defaults fills in the embedded model and data for empty fields (main's
	// defaultModelAndData) just before a run starts.
	Defaults func(*engine.RunSpec) error
	// PresetDir holds launcher presets; default: the user config folder's seal/presets.
	PresetDir string
	// Grace is how long keys are ignored after a review prompt appears (600 ms);
	// UndoWindow is how long a verdict waits before it is sent (2 s).
	Grace, UndoWindow time.Duration
	// Now and Mem are the clock and the memory gauge (tests fix them).
	Now func() time.Time
	Mem func() uint64
	// Device names where the model computes, for the status line.
	Device string
}

type screen int

const (
	screenLauncher screen = iota
	screenLive
	screenHistory
	screenDetail
	screenCompare
	screenVersions
)

// App is the workbench's root model.
type App struct {
	o      Options
	w, h   int
	screen screen
	help   help.Model

	launcher launcher
	live     liveView
	history  history
	viewer   viewport.Model
	compare  compareView
	versions versionsView
	back     screen // where esc goes from detail and compare

	detailRun  int64 // the run the detail screen shows
	detailTask int   // the passage a what-if from there edits

	ctx            context.Context
	cancel         context.CancelFunc
	run            *engine.Run // the live run, nil when none
	starting       bool        // a start command is on its way
	whatIfStarting bool
	whatIf         *engine.Run
	quitting       bool
	err            string
}

// New makes the workbench; it starts on the launcher.
func New(o Options) *App {
	if o.Grace == 0 {
		o.Grace = 600 * time.Millisecond
	}
	if o.UndoWindow == 0 {
		o.UndoWindow = 2 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Mem == nil {
		o.Mem = func() uint64 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return ms.Sys
		}
	}
	if o.Device == "" {
		o.Device = "cpu"
	}
	if o.PresetDir == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			dir = "."
		}
		o.PresetDir = filepath.Join(dir, "seal", "presets")
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &App{o: o, w: 80, h: 24, help: help.New(), launcher: newLauncher(o.Spec, o.PresetDir), live: newLiveView(),
		history: newHistory(), viewer: viewport.New(80, 20), ctx: ctx, cancel: cancel}
	a.live.now, a.live.grace = o.Now, o.Grace
	a.live.st = newLiveState(o.Spec, o.Now())
	return a
}

func (a *App) Init() tea.Cmd { return nil }

// eventsMsg carries a run's events of about one frame: the UI redraws at most about
// 30 times a second however fast tokens arrive, so drawing never competes with the
// engine for the CPU. Nothing is lost: every event waits in the batch.
type eventsMsg struct {
	run    *engine.Run
	evs    []engine.Event
	closed bool
}

const frame = 33 * time.Millisecond

// pump reads a run's events off the UI goroutine: it blocks for the first, then
// gathers what else arrives within a frame.
func pump(r *engine.Run) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-r.Events()
		if !ok {
			return eventsMsg{run: r, closed: true}
		}
		m := eventsMsg{run: r, evs: []engine.Event{ev}}
		deadline := time.NewTimer(frame)
		defer deadline.Stop()
		for len(m.evs) < 4096 {
			select {
			case ev, ok := <-r.Events():
				if !ok {
					m.closed = true
					return m
				}
				m.evs = append(m.evs, ev)
			case <-deadline.C:
				return m
			}
		}
		return m
	}
}

type startedMsg struct {
	run      *engine.Run
	err      error
	rollback bool // from the version tree: a problem is shown there
}

type whatIfStartedMsg struct {
	run *engine.Run
	err error
}

func (a *App) typing() bool {
	switch a.screen {
	case screenLauncher:
		return a.launcher.typing()
	case screenLive:
		return a.live.purpose != editNone
	case screenHistory:
		return a.history.filtering
	case screenVersions:
		return a.versions.confirm // every key answers the question
	}
	return false
}

func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.w, a.h = msg.Width, msg.Height
		a.help.Width = msg.Width
		a.viewer.Width, a.viewer.Height = msg.Width, max(1, msg.Height-2)
		if a.screen == screenCompare {
			a.viewer.SetContent(a.compare.render(a.w))
		}
		return a, nil
	case eventsMsg:
		return a, a.onEvents(msg)
	case startedMsg:
		a.launcher.note, a.starting = "", false
		if msg.err != nil && msg.rollback {
			a.versions.err = "rollback: " + msg.err.Error()
			return a, a.quitIfIdle(nil)
		}
		if msg.err != nil {
			a.launcher.err = msg.err.Error()
			a.screen = screenLauncher
			return a, a.quitIfIdle(nil)
		}
		a.run = msg.run
		a.live = a.freshLive(msg.run.Spec)
		a.screen = screenLive
		return a, pump(msg.run)
	case whatIfStartedMsg:
		a.whatIfStarting = false
		if msg.err != nil {
			a.live.flash = "what-if: " + msg.err.Error()
			return a, a.quitIfIdle(nil)
		}
		a.whatIf = msg.run
		a.live.flash = "what-if running…"
		return a, pump(msg.run)
	case startMsg:
		return a, a.start(msg.spec)
	case openRunMsg:
		text, err := runDetail(a.o.DB, msg.id, a.w)
		if err != nil {
			a.history.err = err.Error()
			return a, nil
		}
		a.viewer.SetContent(text)
		a.viewer.GotoTop()
		a.detailRun, a.detailTask = msg.id, 0
		a.back, a.screen = a.screen, screenDetail
		return a, nil
	case versionsMsg:
		v, err := loadVersions(a.o.DB, msg.id)
		if err != nil {
			a.history.err = err.Error()
			return a, nil
		}
		a.versions, a.screen = v, screenVersions
		return a, nil
	case compareMsg:
		cv, err := loadCompare(a.o.DB, msg.ids)
		if err != nil {
			a.history.err = err.Error()
			return a, nil
		}
		a.compare = cv
		a.viewer.SetContent(cv.render(a.w))
		a.viewer.GotoTop()
		a.back, a.screen = a.screen, screenCompare
		return a, nil
	case graceOverMsg:
		return a, nil // a render: the prompt's keys are open now
	case sendVerdictMsg:
		if v, ok := a.live.rv.due(msg.seq); ok {
			return a, a.sendVerdict(v)
		}
		return a, nil
	case verdictSentMsg:
		a.live.rv.sentDone(msg)
		return a, nil
	case tea.KeyMsg:
		return a, a.onKey(msg)
	}
	if a.screen == screenLive && a.live.purpose != editNone {
		var cmd tea.Cmd
		a.live.editor, cmd = a.live.editor.Update(msg)
		return a, cmd
	}
	return a, nil
}

func (a *App) freshLive(spec engine.RunSpec) liveView {
	l := newLiveView()
	l.now, l.grace = a.o.Now, a.o.Grace
	l.st = newLiveState(spec, a.o.Now())
	return l
}

// start fills in the defaults (which may unpack the embedded model and write the
// synthetic world the first time), validates and starts a run, all off the UI
// goroutine; a problem comes back to the launcher.
func (a *App) start(spec engine.RunSpec) tea.Cmd {
	if a.run != nil {
		a.launcher.err = fmt.Sprintf("run %d is still going: cancel it first (x in the live view)", a.run.ID)
		return nil
	}
	if a.starting {
		return nil
	}
	a.starting = true
	a.launcher.err, a.launcher.note = "", "starting…"
	e, ctx, defaults := a.o.Engine, a.ctx, a.o.Defaults
	return func() tea.Msg {
		if defaults != nil {
			if err := defaults(&spec); err != nil {
				return startedMsg{err: err}
			}
		}
		if err := spec.Validate(); err != nil {
			return startedMsg{err: err}
		}
		r, err := e.Start(ctx, spec)
		return startedMsg{run: r, err: err}
	}
}

func (a *App) onEvents(m eventsMsg) tea.Cmd {
	var cmds []tea.Cmd
	if m.run == a.whatIf {
		for _, ev := range m.evs {
			switch e := ev.(type) {
			case engine.Reward:
				a.live.flash = fmt.Sprintf("what-if #%d (human): reward %s", e.CandidateID, signed(e.Reward))
				a.live.st.rewards = append(a.live.st.rewards, rewardPoint{Where: e.Where, ID: e.CandidateID, Kind: e.Kind, Status: e.Status, Reward: e.Reward})
			case engine.Error:
				a.live.flash = "what-if failed: " + e.Message
			case engine.EvalItem, engine.TrainStep:
				a.live.st.apply(ev)
			}
		}
		if m.closed {
			a.whatIf = nil
		} else {
			cmds = append(cmds, pump(m.run))
		}
		return a.quitIfIdle(tea.Batch(cmds...))
	}
	if m.run != a.run {
		return nil
	}
	for _, ev := range m.evs {
		a.live.st.apply(ev)
		if nr, ok := ev.(engine.NeedsReview); ok {
			cmds = append(cmds, a.live.rv.add(reviewItem{Where: nr.Where, ID: nr.CandidateID, Edit: nr.Edit, Reward: nr.Reward, Reason: nr.Reason}, a.o.Now(), a.o.Grace))
		}
	}
	if m.closed {
		a.run = nil
		if a.live.rv.staged != nil { // the run is over: what is staged goes to the store now
			v := *a.live.rv.staged
			a.live.rv.staged = nil
			cmds = append(cmds, a.sendVerdict(v))
		}
	} else {
		cmds = append(cmds, pump(m.run))
	}
	return a.quitIfIdle(tea.Batch(cmds...))
}

// quitIfIdle finishes a quit once no run is left to wind down.
func (a *App) quitIfIdle(cmd tea.Cmd) tea.Cmd {
	if a.quitting && a.run == nil && a.whatIf == nil && !a.starting && !a.whatIfStarting {
		if cmd == nil {
			return tea.Quit
		}
		return tea.Sequence(cmd, tea.Quit) // a verdict still being sent lands first
	}
	return cmd
}

// sendVerdict records a verdict: through the run while it is live (so ReST-EM sees
// it), straight into the store once it has ended.
func (a *App) sendVerdict(v verdict) tea.Cmd {
	r, db := a.run, a.o.DB
	return func() tea.Msg {
		var err error
		if r != nil {
			err = r.Review(v.item.ID, v.verdict, v.reason, v.edited)
		}
		if r == nil || err != nil && strings.Contains(err.Error(), "has ended") {
			_, err = db.SaveReview(store.Review{CandidateID: v.item.ID, Verdict: v.verdict, Reason: v.reason, Source: "human", Edited: v.edited, At: time.Now()})
		}
		return verdictSentMsg{v, err}
	}
}

func (a *App) onKey(msg tea.KeyMsg) tea.Cmd {
	if msg.String() == "ctrl+c" || !a.typing() && key.Matches(msg, global.Quit) {
		return a.quit()
	}
	if !a.typing() {
		switch {
		case key.Matches(msg, global.Help):
			a.help.ShowAll = !a.help.ShowAll
			return nil
		case key.Matches(msg, global.History) && a.screen != screenHistory:
			a.history.load(a.o.DB)
			a.screen = screenHistory
			return nil
		case key.Matches(msg, global.New) && a.screen != screenLauncher:
			a.screen = screenLauncher
			return nil
		case key.Matches(msg, global.Live) && a.screen != screenLive && a.live.st.run != 0:
			a.screen = screenLive
			return nil
		}
	}
	switch a.screen {
	case screenLauncher:
		return a.launcher.update(msg)
	case screenLive:
		return a.liveKey(msg)
	case screenHistory:
		if key.Matches(msg, historyKeyMap.Back) && !a.history.filtering {
			a.screen = screenLive
			if a.live.st.run == 0 { // no run shown yet: back to the launcher
				a.screen = screenLauncher
			}
			return nil
		}
		return a.history.update(msg, a.o.DB)
	case screenVersions:
		if !a.versions.confirm && key.Matches(msg, versionsKeyMap.Back) {
			a.screen = screenHistory
			return nil
		}
		return a.versions.update(msg, a.rollback)
	case screenDetail, screenCompare:
		switch {
		case key.Matches(msg, viewerKeyMap.Back):
			a.screen = a.back
			return nil
		case a.screen == screenDetail && key.Matches(msg, viewerKeyMap.Task):
			a.detailTask++
			return a.whatIfFromStore(false)
		case a.screen == screenDetail && key.Matches(msg, liveKeyMap.WhatIf):
			return a.whatIfFromStore(true)
		case a.screen == screenCompare && key.Matches(msg, viewerKeyMap.Baseline):
			a.compare.base = (a.compare.base + 1) % len(a.compare.cmp.Runs)
			a.viewer.SetContent(a.compare.render(a.w))
			return nil
		case a.screen == screenCompare && key.Matches(msg, viewerKeyMap.Task):
			a.compare.task = (a.compare.task + 1) % max(1, a.compare.tasks)
			a.viewer.SetContent(a.compare.render(a.w))
			return nil
		}
		var cmd tea.Cmd
		a.viewer, cmd = a.viewer.Update(msg)
		return cmd
	}
	return nil
}

// quit cancels the engine and waits (without blocking) for the run to wind down; a
// second quit leaves at once.
func (a *App) quit() tea.Cmd {
	if a.quitting || a.run == nil && a.whatIf == nil && !a.starting && !a.whatIfStarting {
		a.cancel()
		return tea.Quit
	}
	a.quitting = true
	a.live.flash = "stopping…"
	a.cancel()
	return nil
}

func (a *App) liveKey(msg tea.KeyMsg) tea.Cmd {
	v := &a.live
	km := liveKeyMap
	now := a.o.Now()
	switch v.purpose {
	case editReason:
		switch msg.String() {
		case "esc":
			v.purpose = editNone
			v.reason.Blur()
		case "enter":
			reason := strings.TrimSpace(v.reason.Value())
			if reason == "" {
				v.rv.note = "a rejection needs a reason"
				return nil
			}
			v.purpose = editNone
			v.reason.Blur()
			return v.rv.decide("reject", reason, "", now, a.o.Grace, a.o.UndoWindow, a.sendVerdict)
		default:
			var cmd tea.Cmd
			v.reason, cmd = v.reason.Update(msg)
			return cmd
		}
		return nil
	case editApprove, editWhatIf:
		switch {
		case msg.String() == "esc":
			v.purpose = editNone
			v.editor.Blur()
		case key.Matches(msg, km.Confirm):
			text := strings.TrimSpace(v.editor.Value())
			p := v.purpose
			v.purpose = editNone
			v.editor.Blur()
			if p == editApprove {
				return v.rv.decide("approve", "", text, now, a.o.Grace, a.o.UndoWindow, a.sendVerdict)
			}
			return a.startWhatIf(v.whatIf, text)
		default:
			var cmd tea.Cmd
			v.editor, cmd = v.editor.Update(msg)
			return cmd
		}
		return nil
	}
	reviewing := v.rv.open(now, a.o.Grace)
	_, pending := v.rv.head()
	switch {
	case key.Matches(msg, km.Approve, km.Reject, km.EditApprove) && pending && !reviewing:
		return nil // inside the grace period: the key was meant for something else
	case key.Matches(msg, km.Approve) && reviewing:
		return v.rv.decide("approve", "", "", now, a.o.Grace, a.o.UndoWindow, a.sendVerdict)
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
		return v.rv.undo(now, a.o.Grace)
	case key.Matches(msg, km.WhatIf):
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
	case key.Matches(msg, km.Focus):
		v.focus = (v.focus + 1) % numPanes
	case key.Matches(msg, km.Back):
		v.focus = (v.focus + numPanes - 1) % numPanes
	case key.Matches(msg, km.Grow, km.Shrink):
		d := 10
		if key.Matches(msg, km.Shrink) {
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
	case key.Matches(msg, km.Zoom):
		v.zoom = !v.zoom
	case key.Matches(msg, km.Pause):
		if a.run != nil {
			if v.st.status == "paused" {
				a.run.Resume()
			} else {
				a.run.Pause()
				v.flash = "pausing at the next candidate…"
			}
		}
	case key.Matches(msg, km.Cancel):
		if a.run != nil {
			a.run.Cancel()
			v.flash = "cancelling…"
		}
	}
	return nil
}

// whatIfFromStore opens a stored run in the live view (rebuilt from the store) with
// the what-if editor on one passage's best self-edit of the last round; with open
// false it only moves to the next passage and says which.
func (a *App) whatIfFromStore(open bool) tea.Cmd {
	if a.run != nil {
		a.history.err = fmt.Sprintf("run %d is live: try edits on it from the live view (w)", a.run.ID)
		a.screen = screenHistory
		return nil
	}
	st, err := storedState(a.o.DB, a.detailRun, a.o.Now())
	if err != nil {
		a.history.err = err.Error()
		a.screen = screenHistory
		return nil
	}
	a.detailTask %= max(1, st.tasks)
	cands, _ := a.o.DB.Candidates(a.detailRun, false)
	round := max(0, st.spec.Rounds-1)
	if st.spec.Mode == "continual" {
		round = a.detailTask
	}
	edit := bestEdit(cands, a.detailTask)
	if !open {
		a.help.ShowAll = false
		a.viewer.SetYOffset(0)
		a.history.err = ""
		text, _ := runDetail(a.o.DB, a.detailRun, a.w)
		a.viewer.SetContent(styleAccent.Render(fmt.Sprintf("what-if passage %d (t: next, w: write a self-edit for it)", a.detailTask)) + "\n" + text)
		return nil
	}
	a.live = a.freshLive(st.spec)
	a.live.st = st
	a.live.whatIf = reviewItem{Where: engine.Where{Run: a.detailRun, Round: round, Task: a.detailTask}, Edit: edit}
	a.live.purpose = editWhatIf
	a.live.editor.SetValue(edit)
	a.screen = screenLive
	return a.live.editor.Focus()
}

// rollback starts a new run from a version of run's tree (engine.Rollback, as
// `seal rollback RUN --to VERSION` does) and shows it live; a problem stays on the
// version tree.
func (a *App) rollback(run, version int64) tea.Cmd {
	if a.run != nil {
		a.versions.err = fmt.Sprintf("run %d is still going: cancel it first (x in the live view)", a.run.ID)
		return nil
	}
	if a.starting {
		return nil
	}
	a.starting = true
	a.versions.err = fmt.Sprintf("starting a run from v%d…", version)
	e, ctx := a.o.Engine, a.ctx
	return func() tea.Msg {
		r, err := e.Rollback(ctx, run, version)
		return startedMsg{run: r, err: err, rollback: true}
	}
}

func clampShare(s int) int { return max(20, min(80, s)) }

func (a *App) startWhatIf(it reviewItem, text string) tea.Cmd {
	if a.whatIf != nil || a.whatIfStarting {
		a.live.flash = "a what-if is already running"
		return nil
	}
	a.whatIfStarting = true
	e, ctx := a.o.Engine, a.ctx
	return func() tea.Msg {
		r, err := e.WhatIf(ctx, it.Run, it.Round, it.Task, text)
		return whatIfStartedMsg{r, err}
	}
}

func (a *App) View() string {
	helpView := a.help.View(a.keyMap())
	hh := strings.Count(helpView, "\n") + 1
	h := a.h - hh
	var body string
	switch a.screen {
	case screenLauncher:
		body = a.launcher.view(a.w, h)
	case screenLive:
		body = a.live.view(a.w, h, statusLine(a.live.st, a.w, a.o.Now(), a.o.Device, a.o.Mem()))
	case screenHistory:
		body = a.history.view(a.w, h)
	case screenVersions:
		body = a.versions.view(a.w, h)
	case screenDetail, screenCompare:
		a.viewer.Width, a.viewer.Height = a.w, h
		body = a.viewer.View()
	}
	// Behind the cleaning where each string enters a view: whatever reached the frame
	// unclean can change a colour at most, never clear, move or retitle anything.
	return termsafe.Styled(fit(body, a.w, h) + "\n" + fit(helpView, a.w, hh))
}

func (a *App) keyMap() help.KeyMap {
	switch a.screen {
	case screenLauncher:
		return launcherKeyMap
	case screenLive:
		return liveKeyMap
	case screenHistory:
		return historyKeyMap
	case screenCompare:
		return compareKeys{viewerKeyMap}
	case screenVersions:
		return versionsKeyMap
	}
	return detailKeys{viewerKeyMap}
}

// Close cancels whatever still runs; call it after the program returns.
func (a *App) Close() { a.cancel() }

// Run shows the workbench full-screen until the person quits; the live run (if any) is
// cancelled and wound down before it returns, so the store can be closed after.
func Run(o Options) error {
	a := New(o)
	defer a.Close()
	_, err := tea.NewProgram(a, tea.WithAltScreen()).Run()
	return err
}
