package ui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"seal/engine"
)

func needsReview(id int64, cand int) engine.NeedsReview {
	return engine.NeedsReview{Where: engine.Where{Run: 1, Task: 0, Cand: cand}, CandidateID: id, Edit: "Kesa was born in 1880.", Reward: 0.25}
}

func TestReviewGraceIgnoresEarlyKeys(t *testing.T) {
	c := &clock{t0}
	a := liveApp(t, restemSpec(), c, 80, 24)
	feed(a, needsReview(11, 0))
	c.t = t0.Add(100 * time.Millisecond)
	press(a, "a")
	if a.live.rv.staged != nil || len(a.live.rv.queue) != 1 {
		t.Fatal("a key inside the grace period approved a candidate")
	}
	if v := a.View(); !strings.Contains(v, "keys open in a moment") {
		t.Fatalf("the prompt does not say its keys are closed:\n%s", v)
	}
	c.t = t0.Add(700 * time.Millisecond)
	if v := a.View(); !strings.Contains(v, "[a]pprove") {
		t.Fatalf("after the grace period the prompt shows no keys:\n%s", v)
	}
	press(a, "a")
	if a.live.rv.staged == nil || a.live.rv.staged.verdict != "approve" || a.live.rv.staged.item.ID != 11 {
		t.Fatalf("approve was not staged: %+v", a.live.rv.staged)
	}
}

func TestReviewUndoAndFollowUp(t *testing.T) {
	c := &clock{t0}
	a := liveApp(t, restemSpec(), c, 80, 24)
	feed(a, needsReview(11, 0), needsReview(12, 1))
	c.t = c.t.Add(time.Second)
	press(a, "a")
	// The next candidate's prompt has its own grace period.
	press(a, "a")
	if a.live.rv.staged.item.ID != 11 || len(a.live.rv.queue) != 1 {
		t.Fatalf("a second key right after a verdict reached the next prompt: staged %+v, queue %d", a.live.rv.staged, len(a.live.rv.queue))
	}
	press(a, "u")
	if a.live.rv.staged != nil || len(a.live.rv.queue) != 2 || a.live.rv.queue[0].ID != 11 {
		t.Fatalf("undo within the window did not take the verdict back: %+v %+v", a.live.rv.staged, a.live.rv.queue)
	}
	c.t = c.t.Add(time.Second)
	// Reject needs a reason.
	press(a, "r", "enter")
	if a.live.rv.staged != nil || !strings.Contains(a.live.rv.note, "needs a reason") {
		t.Fatalf("an empty reason was accepted: %+v note %q", a.live.rv.staged, a.live.rv.note)
	}
	press(a, "o", "f", "f", " ", "t", "o", "p", "i", "c", "enter")
	st := a.live.rv.staged
	if st == nil || st.verdict != "reject" || st.reason != "off topic" || st.item.ID != 11 {
		t.Fatalf("reject not staged with its reason: %+v", st)
	}
	// The undo window passes: the verdict goes out (the command is not run here).
	_, cmd := a.Update(sendVerdictMsg{seq: st.seq})
	if cmd == nil || a.live.rv.staged != nil {
		t.Fatal("the verdict was not sent when its window closed")
	}
	a.Update(verdictSentMsg{v: *st})
	if !strings.Contains(a.live.rv.note, "rejected #11 recorded") {
		t.Fatalf("note %q", a.live.rv.note)
	}
	// Undo after sending asks again: a follow-up verdict.
	press(a, "u")
	if h, ok := a.live.rv.head(); !ok || h.ID != 11 || !h.FollowUp {
		t.Fatalf("undo after sending did not ask again: %+v", h)
	}
	c.t = c.t.Add(time.Second)
	if v := a.View(); !strings.Contains(v, "review again #11") {
		t.Fatalf("the follow-up prompt is not shown:\n%s", v)
	}
	// Edit-then-approve carries the edited text.
	press(a, "e")
	if a.live.purpose != editApprove {
		t.Fatal("e did not open the editor")
	}
	a.live.editor.SetValue("Kesa Orbra was born in 1880 in Veostwick.")
	press(a, "ctrl+s")
	st = a.live.rv.staged
	if st == nil || st.verdict != "approve" || st.edited != "Kesa Orbra was born in 1880 in Veostwick." {
		t.Fatalf("edit-then-approve: %+v", st)
	}
}

func TestLauncherPresetRoundTrip(t *testing.T) {
	c := &clock{t0}
	a := testApp(t, engine.DefaultSpec(), c)
	// k is the seventh field; set it to 2 by typing.
	press(a, "down", "down", "down", "down", "down", "down")
	if launcherFields[a.launcher.cursor].label != "k (candidates)" {
		t.Fatalf("cursor on %q", launcherFields[a.launcher.cursor].label)
	}
	press(a, "enter")
	a.launcher.input.SetValue("2")
	press(a, "enter")
	if a.launcher.spec.K != 2 {
		t.Fatalf("k = %d", a.launcher.spec.K)
	}
	press(a, "enter")
	a.launcher.input.SetValue("two")
	press(a, "enter")
	if !strings.Contains(a.launcher.err, `k (candidates): "two" is not a whole number`) || a.launcher.spec.K != 2 {
		t.Fatalf("bad value: err %q k %d", a.launcher.err, a.launcher.spec.K)
	}
	press(a, "up", "right") // the style, one choice on
	if a.launcher.spec.Style != "implications-long" {
		t.Fatalf("right did not change the style: %q", a.launcher.spec.Style)
	}
	press(a, "p", "s", "m", "a", "l", "l", "enter")
	path := filepath.Join(a.o.PresetDir, "small.toml")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("preset not saved: %v (%s)", err, a.launcher.err)
	}
	want := a.launcher.spec
	a.launcher.spec = engine.DefaultSpec()
	press(a, "o")
	got := a.launcher.spec
	if got.K != want.K || got.Style != want.Style || got.Inner.LR != want.Inner.LR {
		t.Fatalf("preset did not round-trip: got %+v want %+v", got, want)
	}
	// The same file works as `seal run --config`: same keys, read over the defaults.
	os.WriteFile(path, []byte("k = 4\nnot_a_setting = 1\n"), 0o644)
	if _, err := readPreset(path); err == nil || !strings.Contains(err.Error(), "not_a_setting") || !strings.Contains(err.Error(), path) {
		t.Fatalf("an unknown key was not named: %v", err)
	}
}

func TestLauncherStartValidates(t *testing.T) {
	c := &clock{t0}
	a := testApp(t, engine.DefaultSpec(), c)
	a.o.Defaults = func(s *engine.RunSpec) error { s.Model, s.Data = "m", "d"; return nil }
	a.launcher.spec.Rounds = 0
	cmd := press(a, "s")
	if cmd == nil {
		t.Fatal("s did nothing")
	}
	_, startCmd := a.Update(cmd()) // the start message: defaults and validation run as a command
	if startCmd == nil {
		t.Fatal("no start command")
	}
	a.Update(startCmd())
	if !strings.Contains(a.launcher.err, "--rounds 0 is out of range") || a.screen != screenLauncher {
		t.Fatalf("err %q", a.launcher.err)
	}
}

func TestParseFilter(t *testing.T) {
	f, err := parseFilter("status:done model:tiny domain:knowledge")
	if err != nil || f.Status != "done" || f.Model != "tiny" || f.Domain != "knowledge" {
		t.Fatalf("%+v %v", f, err)
	}
	if f, _ := parseFilter("failed"); f.Status != "failed" {
		t.Fatalf("a bare word: %+v", f)
	}
	if _, err := parseFilter("colour:red"); err == nil || !strings.Contains(err.Error(), "colour:red") {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestWordDiff(t *testing.T) {
	got := wordDiff("Kesa was born in 1880 .", "Kesa was born in Veostwick in 1880 .")
	if got != "Kesa was born in +Veostwick +in 1880 ." {
		t.Fatalf("insert: %q", got)
	}
	got = wordDiff("a b c", "a c d")
	if got != "a -b c +d" {
		t.Fatalf("delete and insert: %q", got)
	}
}

func TestReadEventsNamesTheLine(t *testing.T) {
	_, err := ReadEvents(strings.NewReader("{\"type\":\"finished\",\"run\":1,\"status\":\"done\"}\n\n{\"type\":\"bogus\"}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("%v", err)
	}
	_, err = ReadEvents(strings.NewReader(`{"type":"reward","reward":"high"}`))
	if err == nil || !strings.Contains(err.Error(), "reward event") {
		t.Fatalf("%v", err)
	}
	evs, err := ReadEvents(strings.NewReader(`{"type":"token","run":3,"cand":1,"text":"hi"}`))
	if err != nil || evs[0].(engine.Token).Text != "hi" || evs[0].(engine.Token).Cand != 1 {
		t.Fatalf("%v %v", evs, err)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{`{"type":"token","run":1,"text":"x"}`, `{"type":"reward","reward":0.5}`, `{"type":"retention","step":1}`,
		`{"type":"guard_verdict","verdict":"hold","retention":{"n":4,"before":0.5},"flips":[{"question":"q"}],"hits":[{"rule":"url"}]}`,
		`{"type":"workers","queue_depth":2,"workers":[{"name":"w","busy":true}]}`, `{"type":"version_committed","version":3}`, `{}`, `[`, `{"type":7}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := decodeEvent(b)
		if err == nil && ev == nil {
			t.Fatal("no error and no event")
		}
	})
}

// TestQuitWaitsForAStartInFlight: q while a run is being started does not leave the
// engine writing to a store that main is about to close.
func TestQuitWaitsForAStartInFlight(t *testing.T) {
	c := &clock{t0}
	a := testApp(t, engine.DefaultSpec(), c)
	a.o.Defaults = func(*engine.RunSpec) error { return nil }
	cmd := press(a, "s")
	a.Update(cmd()) // the start command is now in flight (not run here)
	if !a.starting {
		t.Fatal("no start in flight")
	}
	if cmd := press(a, "q"); cmd != nil {
		t.Fatal("quit did not wait for the start in flight")
	}
	_, cmd = a.Update(startedMsg{err: errors.New("no model")})
	if cmd == nil {
		t.Fatal("no quit after the start came back")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("the command after the start came back is not a quit")
	}
}
