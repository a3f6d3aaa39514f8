package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"seal/engine"
	"seal/models/llama/llamatest"
	"seal/models/tiny"
	"seal/store"
)

// ttyBuffer is a buffer flagged as a terminal.
type ttyBuffer struct{ bytes.Buffer }

func (*ttyBuffer) Terminal() bool { return true }

// fakeClock moves only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// TestProgressPlainLines: off a terminal, a plain line (no \r, no escape, no bar) at
// most once per interval, with done of total, the rate and the ETA.
func TestProgressPlainLines(t *testing.T) {
	var buf bytes.Buffer
	c := &fakeClock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newProgressLine(&buf, "candidates", c.now, 10*time.Second)
	p.begin(0, 10)
	p.set("round 1/2 · passage 1", 0)
	c.advance(5 * time.Second)
	p.set("round 1/2 · passage 1", 1)
	if buf.Len() != 0 {
		t.Fatalf("a line before the interval: %q", buf.String())
	}
	c.advance(6 * time.Second)
	p.tick(false)
	want := "round 1/2 · passage 1  1/10 candidates  5.5/min  ETA 1m39s  11s elapsed\n"
	if buf.String() != want {
		t.Fatalf("plain line %q, want %q", buf.String(), want)
	}
	c.advance(time.Second)
	p.set("round 1/2 · passage 2", 2)
	if strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("a second line within the interval: %q", buf.String())
	}
	c.advance(10 * time.Second)
	p.tick(false)
	if lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "round 1/2 · passage 2  2/10 candidates  5.5/min  ETA 1m28s") {
		t.Fatalf("second line: %q", buf.String())
	}
	if strings.ContainsAny(buf.String(), "\r\033█░") {
		t.Errorf("terminal drawing in a plain line: %q", buf.String())
	}
}

// TestProgressTerminalRedraw: on a terminal the line is redrawn in place (\r and
// erase-line, a bar), kept inside the width, erased before other output, and a
// resumed count's earlier work does not make the rate.
func TestProgressTerminalRedraw(t *testing.T) {
	var buf ttyBuffer
	c := &fakeClock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newProgressLine(&buf, "steps", c.now, 0)
	p.setWidth(72)
	p.begin(50, 100) // resumed at step 50
	c.advance(10 * time.Second)
	p.set("pretrain · loss 2.3456", 60)
	if full := p.text(false); !strings.Contains(full, "60/100 steps  1.0/s  ETA 40s") {
		t.Errorf("rate from this process's 10 steps in 10 s: %q", full)
	}
	p.setWidth(56)
	if cut := p.text(true); cut != "pretrain · lo…  ██████░░░░ 60/100 steps  1.0/s  ETA 40s" {
		t.Errorf("on 56 columns the phase is cut, not the numbers: %q", cut)
	}
	p.setWidth(72)
	c.advance(10 * time.Millisecond)
	p.set("pretrain · loss 2.3455", 60) // no change, too soon: no redraw
	got := buf.String()
	if strings.Count(got, "\r\033[K") != 1 || !strings.HasPrefix(got, "\r\033[Kpretrain · loss ") || !strings.Contains(got, "█") || !strings.Contains(got, "░") {
		t.Fatalf("terminal line %q", got)
	}
	if n := len([]rune(strings.TrimPrefix(got, "\r\033[K"))); n > 71 {
		t.Errorf("line of %d runes on a 72-column terminal: %q", n, got)
	}
	if got != "\r\033[Kpretrain · loss 2.3456  ██████░░░░ 60/100 steps  1.0/s  ETA 40s" {
		t.Errorf("on 72 columns: %q", got)
	}
	p.clear()
	buf.WriteString("round 0 done\n")
	c.advance(time.Second)
	p.set("pretrain", 61)
	if !strings.Contains(buf.String(), "\r\033[Kround 0 done\n\r\033[Kpretrain") {
		t.Errorf("the line is not erased before other output and redrawn after it: %q", buf.String())
	}
	p.clear()
	if !strings.HasSuffix(buf.String(), "\r\033[K") {
		t.Errorf("clear leaves the line: %q", buf.String())
	}
	n := buf.Len()
	p.clear()
	if buf.Len() != n {
		t.Error("a second clear wrote again")
	}
}

// TestFollowProgress: a real run followed with stderr flagged as a terminal draws the
// progress line in place and ends on a clean line; with stderr not a terminal and a
// tiny interval it writes plain lines instead. stdout's JSON lines are the same kind
// either way.
func TestFollowProgress(t *testing.T) {
	dir := t.TempDir()
	model, err := llamatest.Folder(filepath.Join(dir, "model"), 3)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data.json")
	os.WriteFile(data, []byte(`[{"title": "Varn", "context": "Varn is a town on the river Ossa.", "questions": [{"question": "Which river is Varn on?", "answer": "Ossa"}]},
		{"title": "Rask", "context": "Rask is a painter born in 1877.", "questions": [{"question": "When was Rask born?", "answer": "1877"}]}]`), 0o644)
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	spec := engine.DefaultSpec()
	spec.Model, spec.Data, spec.Tasks, spec.K, spec.Rounds, spec.Repeats = model, data, 2, 2, 1, 1
	spec.EditTokens, spec.QATokens, spec.Inner.Epochs, spec.Inner.Rank, spec.Inner.Alpha = 8, 4, 1, 4, 8
	spec.Policy.Epochs, spec.Policy.Rank, spec.Policy.Alpha, spec.Guard.On = 1, 4, 8, false
	e := engine.New(db, llamatest.Backend())
	for _, tty := range []bool{true, false} {
		r, err := e.Start(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		var stdout bytes.Buffer
		var stderr interface {
			String() string
			Write([]byte) (int, error)
		} = new(bytes.Buffer)
		if tty {
			stderr = new(ttyBuffer)
		}
		if code := follow(r, db, &stdout, stderr, followOptions{every: time.Nanosecond}); code != 0 {
			t.Fatalf("follow: exit %d\n%s", code, stderr.String())
		}
		for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
			var ev struct{ Type string }
			if json.Unmarshal([]byte(l), &ev) != nil || ev.Type == "" {
				t.Fatalf("stdout line is not an event: %q", l)
			}
		}
		got := stderr.String()
		end := "\r\033[Kround 0 done" // the line is erased, then the round's line is written
		if !tty {
			end = "\nround 0 done"
		}
		if !strings.Contains(got, "4/4 candidates") || !strings.Contains(got, end) || !strings.Contains(got, "done (") || !strings.HasSuffix(got, "\n") {
			t.Errorf("tty %v: stderr\n%q", tty, got)
		}
		if tty != strings.Contains(got, "\r") {
			t.Errorf("tty %v: carriage returns %v\n%q", tty, !tty, got)
		}
		if !tty && (!strings.Contains(got, "round 1/1 · passage 2 · answering (adapted)  3/4 candidates") || !strings.Contains(got, "round 1/1 · policy update (step 1/")) {
			t.Errorf("no plain progress line: %q", got)
		}
		if tty {
			last := got[strings.LastIndex(got, "\r\033[K"):]
			// After the last erase: the end's lines, no bar (the erase may come right
			// before "run 1 done" or before a line the round wrote first).
			if strings.ContainsAny(last, "█░") || !strings.Contains(last, "run 1 done") {
				t.Errorf("a progress line was drawn after the end: %q", last)
			}
		}
	}
}

// TestPretrainProgress: pretraining's report writes stdout's lines as before and the
// progress line on stderr, from the step it resumed at.
func TestPretrainProgress(t *testing.T) {
	var stdout bytes.Buffer
	var stderr ttyBuffer
	c := &fakeClock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	line := newProgressLine(&stderr, "steps", c.now, 0)
	report := pretrainReport(line, &stdout)
	for s := 6; s <= 10; s++ {
		c.advance(time.Second)
		report(tiny.Progress{Step: s, Steps: 20, Loss: 3, LR: 1e-3, TokensPerS: 100})
	}
	if stdout.String() != "step 10/20 loss 3.0000 lr 1.00e-03 100 tokens/s\n" {
		t.Errorf("stdout %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "\r\033[Kpretrain · loss 3.0000  █") || !strings.Contains(stderr.String(), "10/20 steps  1.2/s  ETA 8s") {
		t.Errorf("stderr %q", stderr.String())
	}
}

// TestProgressTotal: the count a run's line goes to, per mode, and for a branch from
// its starting round or step.
func TestProgressTotal(t *testing.T) {
	spec := engine.DefaultSpec()
	spec.K, spec.Rounds = 3, 2
	for _, c := range []struct {
		mode  string
		first int
		want  int
		unit  string
	}{{"restem", 0, 24, "candidates"}, {"restem", 1, 12, "candidates"}, {"continual", 0, 4, "steps"}, {"continual", 3, 1, "steps"}, {"cpt", 0, 12, "edits"}} {
		spec.Mode = c.mode
		if n, unit := engine.ProgressTotal(spec, 4, c.first); n != c.want || unit != c.unit {
			t.Errorf("%s from %d: %d %s, want %d %s", c.mode, c.first, n, unit, c.want, c.unit)
		}
	}
}

// TestOracleProgressLine: the ARC oracle's search shows on the progress line as it
// goes: which config of the space it trains, its step, and each config tried; a
// cached search says so.
func TestOracleProgressLine(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	var stderr bytes.Buffer
	spec := engine.ARCSpec()
	rp := runProgress{p: newProgressLine(&stderr, "", clock.now, time.Nanosecond), spec: spec}
	w := engine.Where{Run: 1, Task: 0, Cand: -2}
	steps := []struct {
		ev   engine.Event
		want string
	}{
		{engine.RunStarted{Run: 1, Tasks: 2}, "run 1:"},
		{engine.TrainStep{Where: w, Phase: "oracle", Step: 3, Steps: 8}, "task 1 · oracle (config 1/12, step 3/8)"},
		{engine.OracleTry{Where: w, Try: 1, Of: 12, Correct: 0, Tests: 1}, "task 1 · oracle (config 1/12 tried, 0/1 right)"},
		{engine.TrainStep{Where: w, Phase: "oracle", Step: 1, Steps: 8}, "task 1 · oracle (config 2/12, step 1/8)"},
		{engine.TrainStep{Where: engine.Where{Run: 1, Task: 1, Cand: -2}, Phase: "oracle", Step: 1, Steps: 8}, "task 2 · oracle (config 1/12, step 1/8)"},
		{engine.OracleTry{Where: w, Try: 5, Of: 12, Correct: 1, Tests: 1, Cached: true}, "task 1 · oracle (cached: 1/1 right)"},
	}
	for _, s := range steps {
		clock.advance(time.Second)
		rp.observe(s.ev, &stderr, 0)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if last := lines[len(lines)-1]; !strings.Contains(last, s.want) {
			t.Errorf("after %s: line %q, want it to contain %q", s.ev.EventType(), last, s.want)
		}
	}
}
