package ui

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"seal/engine"
	"seal/store"
	"seal/store/termsafe"
)

// hostile is issue 14's attack string: a screen clear and a window title (OSC ended
// by BEL), then the 8-bit CSI and a right-to-left override.
const hostile = "x\x1b[2J\x1b]0;pwned\x07 \u009b2J \u202Egnp.exe"

// noTerminalControl fails when a rendered view holds anything a terminal acts on
// (the tests render without colours, so a clean view holds no ESC at all).
func noTerminalControl(t *testing.T, what, out string) {
	t.Helper()
	if i := strings.IndexFunc(out, func(r rune) bool {
		return r < 0x20 && r != '\n' || r >= 0x7f && r < 0xa0 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
	}); i >= 0 {
		t.Errorf("%s holds %q:\n%s", what, out[i:min(len(out), i+12)], out)
	}
	if !strings.Contains(out, "\uFFFD") {
		t.Errorf("%s does not show where the sequences were (U+FFFD):\n%s", what, out)
	}
}

// hostileStore holds two runs whose text fields all carry the attack.
func hostileStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for i := 0; i < 2; i++ {
		spec := engine.DefaultSpec()
		spec.Name, spec.K = hostile, 3+i
		cfg, _ := json.Marshal(spec)
		var m map[string]any
		json.Unmarshal(cfg, &m)
		m[hostile] = hostile // a config key too
		cfg, _ = json.Marshal(m)
		id, err := db.CreateRun(store.Run{Name: hostile, Domain: "knowledge", Model: "/m/" + hostile, Status: store.StatusFailed, Error: hostile, Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SaveTasks(id, []store.Task{{RunID: id, Title: hostile, Context: hostile, Questions: []store.QA{{Question: hostile, Answer: hostile}}}}); err != nil {
			t.Fatal(err)
		}
		c := store.Candidate{RunID: id, Kind: store.KindSelfEdit, Edit: hostile + "\nline two " + hostile, Reason: hostile, Status: store.CandidateDone,
			Reward: 0.1 * float64(i), Sampling: []byte("{}"), Evals: []store.EvalItem{{Text: hostile, Gold: hostile}}}
		cid, err := db.SaveCandidate(&c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SaveReview(store.Review{CandidateID: cid, Verdict: store.VerdictReject, Reason: hostile}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveMetrics([]store.Metric{{RunID: id, Name: hostile, Value: 0.5 + float64(i)}}); err != nil {
			t.Fatal(err)
		}
		base, err := db.SaveLedgerEntry(store.LedgerEntry{RunID: id, Kind: store.LedgerBase, Status: store.LedgerCommitted, BaseHash: "sha256:b"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SaveLedgerEntry(store.LedgerEntry{RunID: id, Parent: base, Kind: store.LedgerContinual, Status: store.LedgerHeld,
			AdapterHash: "sha256:a", Source: "task 0: " + hostile, Reason: hostile, CandidateID: cid}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// History, run detail, compare and the version tree draw stored names, passages,
// questions, answers, edits, reasons, errors and metric names without a sequence.
func TestStoredViewsShowNoTerminalControl(t *testing.T) {
	db := hostileStore(t)
	h := newHistory()
	loadHistory(&h, db)
	h.err = "store: " + hostile
	noTerminalControl(t, "history", h.view(120, 20))
	detail, err := runDetail(db, 1, 120)
	if err != nil {
		t.Fatal(err)
	}
	noTerminalControl(t, "run detail", detail)
	cv, err := loadCompare(db, []int64{1, 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	noTerminalControl(t, "compare", cv.render(120))
	v, err := loadVersions(db, 1)
	if err != nil {
		t.Fatal(err)
	}
	noTerminalControl(t, "versions", v.view(120, 20))
	v.err = "rollback: " + hostile
	noTerminalControl(t, "versions with an error", v.view(120, 20))
	spec := restemSpec()
	spec.Name, spec.GraderURL = hostile, hostile // as a preset file may hold them
	l := newLauncher(spec, t.TempDir())
	l.err = "start: " + hostile
	noTerminalControl(t, "launcher", l.view(120, 40))
	// A what-if from the detail screen fills the editor with the best edit.
	a := testApp(t, restemSpec(), &clock{t0})
	a.o.DB = db
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	a.detail.run = 1
	loaded(t, a, a.detail.whatIf(true))
	noTerminalControl(t, "what-if editor", a.live.render(120, 38, ""))
}

// The live panes: a run name, a self-edit streamed token by token with a sequence
// split across tokens, graded answers, the guard's reasons, a worker's name, the
// review prompt, the edit-then-approve editor and an error.
func TestLiveViewShowsNoTerminalControl(t *testing.T) {
	c := &clock{t0}
	a := liveApp(t, restemSpec(), c, 160, 48)
	w := engine.Where{Run: 1}
	feed(a, engine.RunStarted{Run: 1, Name: hostile, Tasks: 1},
		engine.Token{Where: w, Text: "Kesa x\x1b"}, engine.Token{Where: w, Text: "[2J was \x1b]0;pw"}, engine.Token{Where: w, Text: "ned\x07 born \u202E"},
		engine.EvalItem{Where: w, Phase: "adapted", Question: hostile, Answer: hostile, Gold: hostile},
		engine.TrainStep{Where: w, Phase: hostile, Step: 1, Steps: 2, Loss: 1.5},
		engine.GuardVerdict{Where: w, Entry: 2, Kind: hostile, Verdict: "hold", GuardReport: engine.GuardReport{Reasons: []string{hostile}}},
		engine.VersionCommitted{Run: 1, Version: 2, Kind: hostile},
		engine.Workers{Run: 1, Workers: []engine.WorkerInfo{{Name: hostile, Device: hostile, Busy: true}}},
		engine.Metric{Run: 1, Name: hostile, Value: 0.5})
	for _, zoom := range []bool{false, true} {
		a.live.zoom = zoom
		for p := pane(0); p < numPanes; p++ {
			a.live.focus = p
			noTerminalControl(t, "live view", a.live.render(160, 46, "status"))
		}
	}
	a.live.zoom = false
	feed(a, engine.NeedsReview{Where: w, CandidateID: 7, Edit: hostile, Reason: hostile, Reward: 0.25})
	c.t = t0.Add(time.Second)
	noTerminalControl(t, "review prompt", a.live.render(160, 46, "status"))
	press(a, "e") // edit, then approve: the editor shows the edit
	noTerminalControl(t, "edit-then-approve editor", a.live.render(160, 46, "status"))
	press(a, "esc")
	feed(a, engine.Error{Run: 1, Message: hostile}, engine.Status{Status: hostile})
	noTerminalControl(t, "live header with an error", a.live.render(160, 46, statusLine(a.live.st, 160, t0, "cpu", 0)))
}

// The whole-frame backstop leaves a normal frame, colours and all, as it is.
func TestFrameBackstopKeepsColours(t *testing.T) {
	lipgloss.SetColorProfile(termenv.TrueColor)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	c := &clock{t0}
	a := liveApp(t, restemSpec(), c, 120, 36)
	feed(a, readRecorded(t, "restem-events.jsonl")...)
	feed(a, needsReview(11, 0))
	c.t = t0.Add(time.Second)
	frame := a.live.render(120, 34, statusLine(a.live.st, 120, t0, "cpu", 0))
	if !strings.Contains(frame, "\x1b[") {
		t.Fatal("no colour in a TrueColor frame: the test renders nothing to keep")
	}
	if got := termsafe.Styled(frame); got != frame {
		t.Errorf("the backstop changed a normal frame")
	}
	noTerminalControlButSGR := termsafe.Styled(a.View())
	if noTerminalControlButSGR != a.View() {
		t.Errorf("App.View is not what the backstop leaves")
	}
}
