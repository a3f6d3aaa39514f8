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
	tea "github.com/charmbracelet/bubbletea"

	"seal/engine"
	"seal/engine/effect"
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
	// Paired pairs the effect tables of every ordered pair of runs item by item (main's
	// reading, as `seal compare` prints it; pairs[{i, j}] is ids[j]'s against ids[i]'s) for
	// the compare view, reading each run once; nil leaves that section out.
	Paired func(db *store.DB, ids []int64) map[[2]int]effect.Compared
}

// App is the workbench's root model.
type App struct {
	o      Options
	w, h   int
	screen screenID // the one in front; active() is its screen
	help   help.Model

	launcher launcher
	live     liveView
	history  history
	detail   detailView
	compare  compareView
	versions versionsView

	ctx            context.Context
	cancel         context.CancelFunc
	run            *engine.Run // the live run, nil when none
	starting       bool        // a start command is on its way
	whatIfStarting bool
	whatIf         *engine.Run
	quitting       bool
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
	a := &App{o: o, w: 80, h: 24, help: help.New(), launcher: newLauncher(o.Spec, o.PresetDir), history: newHistory(),
		detail: newDetailView(), compare: newCompareView(), ctx: ctx, cancel: cancel}
	a.live = a.freshLive(o.Spec)
	a.history.app = a
	a.detail.app, a.compare.app, a.versions.app = a, a, a
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

// Update answers what concerns the whole workbench (the window, runs starting and
// their events, the global keys) and routes the rest: a store load to the screen it
// is for, a key or anything else to the screen in front.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.w, a.h = msg.Width, msg.Height
		a.help.Width = msg.Width
		a.detail.resize(msg.Width, max(1, msg.Height-2))
		a.compare.resize(msg.Width, max(1, msg.Height-2))
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
			a.show(screenLauncher)
			return a, a.quitIfIdle(nil)
		}
		a.run = msg.run
		a.live = a.freshLive(msg.run.Spec)
		a.show(screenLive)
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
	case graceOverMsg:
		return a, nil // a render: the prompt's keys are open now
	case sendVerdictMsg, verdictSentMsg:
		return a, a.live.update(msg)
	case sourceMsg: // whichever screen is in front: the live review keeps it
		a.live.sourceLoaded(msg)
		return a, nil
	case runsMsg:
		return a, a.history.update(msg)
	case detailMsg, whatIfLoadedMsg, sourceDetailMsg:
		return a, a.detail.update(msg)
	case compareMsg:
		return a, a.compare.update(msg)
	case versionsMsg, exportedMsg:
		return a, a.versions.update(msg)
	case tea.KeyMsg:
		return a, a.onKey(msg)
	}
	return a, a.active().update(msg)
}

func (a *App) freshLive(spec engine.RunSpec) liveView {
	l := newLiveView()
	l.app, l.now, l.grace = a, a.o.Now, a.o.Grace
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
			cmds = append(cmds, a.live.rv.add(reviewItem{Where: nr.Where, ID: nr.CandidateID, Edit: nr.Edit, Reward: nr.Reward, Reason: nr.Reason}, a.o.Now(), a.o.Grace),
				a.live.wantSource(nr.CandidateID))
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

// onKey answers the global keys (single keys only while nothing is being typed) and
// hands every other key to the screen in front.
func (a *App) onKey(msg tea.KeyMsg) tea.Cmd {
	s := a.active()
	typing := s.typing()
	if key.Matches(msg, global.Interrupt) || !typing && key.Matches(msg, global.Quit) {
		return a.quit()
	}
	if !typing {
		switch {
		case key.Matches(msg, global.Help):
			a.help.ShowAll = !a.help.ShowAll
			return nil
		case key.Matches(msg, global.History) && a.screen != screenHistory:
			a.show(screenHistory)
			return a.history.reload()
		case key.Matches(msg, global.New) && a.screen != screenLauncher:
			a.show(screenLauncher)
			return nil
		case key.Matches(msg, global.Live) && a.screen != screenLive && a.live.st.run != 0:
			a.show(screenLive)
			return nil
		}
	}
	return s.update(msg)
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
	s := a.active()
	helpView := a.help.View(s.keys())
	hh := strings.Count(helpView, "\n") + 1
	h := a.h - hh
	body := s.view(a.w, h)
	// Behind the cleaning where each string enters a view: whatever reached the frame
	// unclean can change a colour at most, never clear, move or retitle anything.
	return termsafe.Styled(fit(body, a.w, h) + "\n" + fit(helpView, a.w, hh))
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
