package ui

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"seal/engine"
	"seal/engine/knowledge"
	"seal/store"
)

// guardEvents are what a continual run with the guard on sends around two steps: the
// first change passes and becomes v2, the second is held for a contradiction and a
// rule hit.
func guardEvents() []engine.Event {
	w := engine.Where{Run: 1, Task: 1}
	return []engine.Event{
		engine.VersionCommitted{Run: 1, Version: 1, Kind: store.LedgerBase},
		engine.GuardVerdict{Where: engine.Where{Run: 1}, Entry: 2, Kind: "continual", Step: 0, Verdict: "pass",
			GuardReport: engine.GuardReport{Retention: engine.Retention{N: 40, Before: 0.8, After: 0.775, Delta: -0.025, Noise: 0.031, Margin: 0.05}}},
		engine.VersionCommitted{Run: 1, Version: 2, Parent: 1, Kind: "continual", Step: 0},
		engine.GuardVerdict{Where: w, Entry: 3, Kind: "continual", Step: 1, Verdict: "hold",
			GuardReport: engine.GuardReport{Reasons: []string{"1 confident answer flipped", "rule url"},
				Retention: engine.Retention{N: 40, Before: 0.775, After: 0.7, Delta: -0.075, Noise: 0.03, Margin: 0.05, Dropped: true},
				Flips:     []engine.Flip{{Question: "Where was Kesa born?", Before: "Veostwick", After: "Mars", Confidence: 0.9}},
				Hits:      []knowledge.Hit{{Rule: "url", Match: "http://x"}}}},
		engine.NeedsReview{Where: w, CandidateID: 9, Edit: "Kesa was born on Mars. See http://x", Reward: -0.075,
			Reason: "1 confident answer flipped; rule url"},
	}
}

func workersEvent() engine.Workers {
	return engine.Workers{Run: 1, QueueDepth: 3, Workers: []engine.WorkerInfo{
		{Name: "gpu-a", Device: "cuda:0", Jobs: 12, JobsPerSec: 0.8, Busy: true},
		{Name: "cpu-b", Device: "cpu", Jobs: 4, JobsPerSec: 0.2, Retried: 2, Rejected: 1},
	}}
}

func TestGuardAndWorkersFold(t *testing.T) {
	s := newLiveState(continualSpec(), t0)
	if len(s.infoLines(200)) != 0 {
		t.Fatal("no guard or worker line before their events")
	}
	for _, ev := range guardEvents() {
		s.apply(ev)
	}
	s.apply(workersEvent())
	if s.verdicts["pass"] != 1 || s.verdicts["hold"] != 1 || s.version.Version != 2 || s.versions != 2 {
		t.Fatalf("verdicts %v, version %+v (%d)", s.verdicts, s.version, s.versions)
	}
	lines := s.infoLines(400)
	if len(lines) != 2 {
		t.Fatalf("want a guard and a workers line: %q", lines)
	}
	for _, want := range []string{"HOLD v3 continual step 1 (run 1)", "retention 0.775→0.700 Δ-0.075 (noise 0.030, margin 0.050, n 40)",
		"flips 1", "rules 1", "1 confident answer flipped; rule url", "1 pass 1 hold 0 reject, newest last: ✓‖", "model v2 continual step 0 (run 1)"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("guard line lacks %q: %s", want, lines[0])
		}
	}
	for _, want := range []string{"workers 2 (1 busy)", "queue 3", "1.00 jobs/s", "● gpu-a cuda:0 12 jobs 0.80/s", "○ cpu-b cpu 4 jobs 2 retried 1 rejected 0.20/s"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("workers line lacks %q: %s", want, lines[1])
		}
	}
	for range keepVerdicts + 3 {
		s.apply(engine.GuardVerdict{Verdict: "reject"})
	}
	if len(s.guard) != keepVerdicts || s.verdicts["reject"] != keepVerdicts+3 {
		t.Fatalf("kept %d verdicts, counted %v", len(s.guard), s.verdicts)
	}
	s.apply(engine.Workers{Run: 1})
	if l := s.workersLine(); !strings.Contains(l, "workers 0") || !strings.Contains(l, "no worker has reported") {
		t.Fatalf("an empty worker list: %s", l)
	}
}

// TestGoldenGuardHold: a continual run whose second change the guard held, with
// workers reporting; the prompt says why the change is held.
func TestGoldenGuardHold(t *testing.T) {
	evs := readRecorded(t, "continual-events.jsonl")
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		c := &clock{t0}
		a := liveApp(t, continualSpec(), c, size[0], size[1])
		feed(a, evs[:len(evs)/2]...)
		feed(a, guardEvents()...)
		feed(a, workersEvent())
		c.t = t0.Add(95 * time.Second)
		got := a.View()
		checkFits(t, "guard", got, size[0], size[1])
		for _, want := range []string{"guard HOLD v3", "Δ-0.075 noise 0.030 margin 0.050", "workers 2 (1 busy)", "held: 1 confident", "held by the guard"} {
			if !strings.Contains(got, want) {
				t.Errorf("%v lacks %q:\n%s", size, want, got)
			}
		}
		golden(t, "live-guard-"+sizeName(size), got)
	}
}

// TestReplayReadsGuardAndWorkers: the new events come back from `seal run`'s JSON lines.
func TestReplayReadsGuardAndWorkers(t *testing.T) {
	var b strings.Builder
	evs := append(guardEvents(), workersEvent())
	for _, ev := range evs {
		j, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "{\"type\":%q,%s\n", ev.EventType(), j[1:])
	}
	got, err := ReadEvents(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, evs) {
		t.Fatalf("replayed\n%+v\nwant\n%+v", got, evs)
	}
}

// A new run starts from the base; its status line says so, under the version's own
// id and its run, as `seal versions` and the version tree name it.
func TestStatusLineNamesTheBaseVersion(t *testing.T) {
	s := newLiveState(engine.DefaultSpec(), t0)
	s.apply(engine.VersionCommitted{Run: 2, Version: 4, Kind: store.LedgerBase})
	line := strings.Join(s.infoLines(200), "\n")
	if !strings.Contains(line, "model v4 base (run 2)") || strings.Contains(line, "base 0") {
		t.Errorf("status line %q, want model v4 base (run 2)", line)
	}
	tree := engine.VersionTreeLines([]store.LedgerEntry{{ID: 4, RunID: 2, Kind: store.LedgerBase, Status: store.LedgerCommitted, BaseHash: "sha256:b0b0b0b0b0b0b0"}}, 4)
	if len(tree) != 1 || !strings.HasPrefix(tree[0], "v4 base (run 2)") {
		t.Errorf("the version tree names it %q, want it to begin v4 base (run 2)", tree)
	}
}
