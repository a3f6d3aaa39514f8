package ui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"seal/engine"
	"seal/store"
)

// updating reports -update, which rewrites the golden renders in testdata. The flag
// itself is defined by teatest's golden package, which this test binary links.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func TestMain(m *testing.M) {
	// Goldens and pseudo-terminal tests compare plain text: no colour codes.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// clock is a test clock the App reads through Options.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var t0 = time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)

func testApp(t *testing.T, spec engine.RunSpec, c *clock) *App {
	t.Helper()
	return New(Options{Spec: spec, Now: c.now, Mem: func() uint64 { return 96 << 20 }, Device: "cpu",
		PresetDir: t.TempDir(), Grace: 600 * time.Millisecond, UndoWindow: 2 * time.Second})
}

// liveApp is an App on the live screen of a run whose events are fed by hand; the run
// handle is a stand-in that is never called.
func liveApp(t *testing.T, spec engine.RunSpec, c *clock, w, h int) *App {
	a := testApp(t, spec, c)
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	a.run = &engine.Run{}
	a.live = a.freshLive(spec)
	a.screen = screenLive
	return a
}

func feed(a *App, evs ...engine.Event) {
	a.Update(eventsMsg{run: a.run, evs: evs})
}

func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "ctrl+s":
		return tea.KeyMsg{Type: tea.KeyCtrlS}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case " ":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// loaded feeds the message of a store-load command back to the App, as the program
// does once the command has run.
func loaded(t *testing.T, a *App, cmd tea.Cmd) {
	t.Helper()
	if cmd == nil {
		t.Fatal("nothing was loaded: no command")
	}
	a.Update(cmd())
}

// loadHistory runs the history's load and shows its result.
func loadHistory(h *history, db *store.DB) {
	h.update(loadRuns(db, h.filter.Value())())
}

func press(a *App, keys ...string) tea.Cmd {
	var last tea.Cmd
	for _, k := range keys {
		_, last = a.Update(keyMsg(k))
	}
	return last
}

// restemSpec and continualSpec are the settings the recorded runs in testdata used
// (seal run --passages 2 --k 3 --rounds 2 --repeats 1 --edit-tokens 64 --qa-tokens 8
// --epochs 3, and --mode continual --passages 3 --edit-tokens 48 --qa-tokens 8 --epochs 3).
func restemSpec() engine.RunSpec {
	s := engine.DefaultSpec()
	s.Tasks, s.K, s.Rounds, s.Repeats, s.EditTokens, s.QATokens, s.Inner.Epochs = 2, 3, 2, 1, 64, 8, 3
	return s
}

func continualSpec() engine.RunSpec {
	s := engine.DefaultSpec()
	s.Mode, s.Tasks, s.EditTokens, s.QATokens, s.Inner.Epochs = "continual", 3, 48, 8, 3
	return s
}

func readRecorded(t *testing.T, name string) []engine.Event {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	evs, err := ReadEvents(f)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// golden compares a render with testdata/name.golden (go test -update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if updating() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -update to write it)", err)
	}
	if string(want) != got {
		wl, gl := strings.Split(string(want), "\n"), strings.Split(got, "\n")
		for i := 0; i < max(len(wl), len(gl)); i++ {
			var w, g string
			if i < len(wl) {
				w = wl[i]
			}
			if i < len(gl) {
				g = gl[i]
			}
			if w != g {
				t.Fatalf("%s differs first at line %d:\nwant %q\ngot  %q\n(go test ./ui -update rewrites it)", path, i+1, w, g)
			}
		}
	}
}

// checkFits fails when a render is not exactly h lines of at most w cells: a frame
// that changes size is what makes a terminal UI flicker or scroll.
func checkFits(t *testing.T, what, s string, w, h int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Errorf("%s: %d lines, want %d", what, len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("%s: line %d is %d cells wide, more than %d: %q", what, i+1, n, w, l)
		}
	}
}

func TestGoldenLiveView(t *testing.T) {
	cases := []struct {
		name  string
		file  string
		spec  engine.RunSpec
		share float64 // how much of the recording to replay
	}{
		{"live-restem-mid", "restem-events.jsonl", restemSpec(), 0.55},
		{"live-restem-done", "restem-events.jsonl", restemSpec(), 1},
		{"live-continual-done", "continual-events.jsonl", continualSpec(), 1},
	}
	for _, tc := range cases {
		evs := readRecorded(t, tc.file)
		for _, size := range [][2]int{{80, 24}, {160, 48}} {
			c := &clock{t0}
			a := liveApp(t, tc.spec, c, size[0], size[1])
			feed(a, evs[:int(float64(len(evs))*tc.share)]...)
			c.t = t0.Add(95 * time.Second)
			got := a.View()
			checkFits(t, tc.name, got, size[0], size[1])
			golden(t, tc.name+"-"+sizeName(size), got)
		}
	}
}

// TestGoldenReviewPrompt renders a recorded run halfway with its newest self-edit
// waiting for a verdict (the recording ran without the gate, so the NeedsReview is
// made from that candidate's own EditDone and Reward). There is no store behind it, so
// the source side says so; TestGoldenReviewBeside draws a loaded source.
func TestGoldenReviewPrompt(t *testing.T) {
	evs := readRecorded(t, "restem-events.jsonl")
	evs = evs[:int(float64(len(evs))*0.55)]
	var nr engine.NeedsReview
	edits := map[engine.Where]string{}
	for _, ev := range evs {
		switch e := ev.(type) {
		case engine.EditDone:
			edits[e.Where] = e.Edit
		case engine.Reward:
			if e.Kind == "self_edit" {
				nr = engine.NeedsReview{Where: e.Where, CandidateID: e.CandidateID, Edit: edits[e.Where], Reward: e.Reward}
			}
		}
	}
	for _, size := range [][2]int{{80, 24}, {120, 36}} {
		c := &clock{t0}
		a := liveApp(t, restemSpec(), c, size[0], size[1])
		feed(a, evs...)
		feed(a, nr)
		c.t = t0.Add(95 * time.Second)
		got := a.View()
		checkFits(t, "review", got, size[0], size[1])
		golden(t, "live-review-"+sizeName(size), got)
	}
}

func sizeName(s [2]int) string { return fmt.Sprintf("%dx%d", s[0], s[1]) }

func TestEveryScreenFits(t *testing.T) {
	evs := readRecorded(t, "restem-events.jsonl")
	for _, size := range [][2]int{{80, 24}, {160, 48}, {60, 16}} {
		c := &clock{t0}
		a := liveApp(t, restemSpec(), c, size[0], size[1])
		feed(a, evs...)
		checkFits(t, "live", a.View(), size[0], size[1])
		press(a, "z")
		checkFits(t, "zoomed", a.View(), size[0], size[1])
		press(a, "z", "tab", "+", "+", "+", "+", "+", "+")
		checkFits(t, "resized", a.View(), size[0], size[1])
		press(a, "n")
		checkFits(t, "launcher", a.View(), size[0], size[1])
		a.screen = screenHistory
		checkFits(t, "history", a.View(), size[0], size[1])
	}
}

// TestTinyTerminalsDoNotPanic: a terminal too small for the layout gets a cut-off
// screen, never a crash.
func TestTinyTerminalsDoNotPanic(t *testing.T) {
	evs := readRecorded(t, "restem-events.jsonl")
	for _, size := range [][2]int{{0, 0}, {1, 1}, {10, 3}, {30, 8}} {
		c := &clock{t0}
		a := liveApp(t, restemSpec(), c, size[0], size[1])
		feed(a, evs...)
		feed(a, needsReview(4, 0))
		for _, k := range []string{"", "z", "w", "esc", "tab", "n"} {
			if k != "" {
				press(a, k)
			}
			_ = a.View()
		}
	}
}

func TestFocusAndResize(t *testing.T) {
	c := &clock{t0}
	a := liveApp(t, restemSpec(), c, 80, 24)
	if a.live.focus != paneEdit {
		t.Fatalf("focus starts on %d", a.live.focus)
	}
	press(a, "tab")
	if a.live.focus != paneLoss {
		t.Fatalf("tab: focus %d, want the loss pane", a.live.focus)
	}
	press(a, "+")
	if a.live.colShare != 40 || a.live.rowShare != 60 {
		t.Fatalf("+ on the top-right pane: shares %d/%d, want 40/60", a.live.colShare, a.live.rowShare)
	}
	for range 10 {
		press(a, "+")
	}
	if a.live.colShare != 20 || a.live.rowShare != 80 {
		t.Fatalf("shares are not clamped: %d/%d", a.live.colShare, a.live.rowShare)
	}
}

func TestLiveStateFoldsEvents(t *testing.T) {
	s := newLiveState(restemSpec(), t0)
	w := engine.Where{Run: 1, Round: 0, Task: 1, Cand: 2}
	s.apply(engine.RunStarted{Run: 1, Name: "x", Tasks: 2})
	s.apply(engine.Token{Where: w, Text: "Kesa "})
	s.apply(engine.Token{Where: w, Text: "was born"})
	if got := s.edits[2]; got != "Kesa was born" {
		t.Fatalf("tokens: %q", got)
	}
	s.apply(engine.TrainStep{Where: w, Phase: "inner", Step: 1, Steps: 2, Loss: 3})
	s.apply(engine.TrainStep{Where: w, Phase: "inner", Step: 2, Steps: 2, Loss: 1})
	s.apply(engine.TrainStep{Where: w, Phase: "inner", Step: 1, Steps: 2, Loss: 2.5}) // a new repeat
	if len(s.loss) != 1 || s.loss[0] != 2.5 {
		t.Fatalf("the loss curve is the current update's only: %v", s.loss)
	}
	s.apply(engine.Reward{Where: w, CandidateID: 7, Kind: "self_edit", Reward: 0.25})
	s.apply(engine.Reward{Where: w, CandidateID: 8, Kind: "baseline_base"})
	if s.doneCands != 1 || len(s.selfEditRewards()) != 1 {
		t.Fatalf("baselines are not progress: done %d rewards %v", s.doneCands, s.selfEditRewards())
	}
	if got := s.eta(t0.Add(10 * time.Second)); got != "1:50" { // 11 of 12 left at 10 s each
		t.Fatalf("eta %q", got)
	}
	s.apply(engine.Token{Where: engine.Where{Run: 1, Round: 1, Task: 0}, Text: "new"})
	if len(s.edits) != 1 || s.edits[0] != "new" {
		t.Fatalf("a new passage starts fresh edits: %v", s.edits)
	}
}
