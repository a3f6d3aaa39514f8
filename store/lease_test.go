package store

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestRunLease: a live owner keeps its run; an expired lease or a dead owner on this
// host reads as interrupted and can be claimed; the owner that lost the run can no
// longer write its results, renew the lease or set its status.
func TestRunLease(t *testing.T) {
	a := openTemp(t)
	b, err := Open(a.Path()) // a second process on the same file
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	run := mustRun(t, a, Run{Name: "x"})
	if r, _ := a.Run(run); r.Status != StatusInterrupted {
		t.Fatalf("a running run without an owner reads as %s, want interrupted", r.Status)
	}
	first := NewOwner()
	if err := a.ClaimRun(run, first, time.Hour); err != nil {
		t.Fatal(err)
	}
	if r, _ := b.Run(run); r.Status != StatusRunning || r.Owner.Token != first.Token || r.Owner.PID != first.PID {
		t.Fatalf("claimed run reads as %s owned by %+v", r.Status, r.Owner)
	}
	second := NewOwner()
	err = b.ClaimRun(run, second, time.Hour)
	if !errors.Is(err, ErrLeased) || !strings.Contains(err.Error(), first.String()) {
		t.Fatalf("claiming a run a live owner holds: %v", err)
	}

	// The owner stops heartbeating (SIGSTOP, a hang): its lease expires.
	if err := a.Heartbeat(run, first, -time.Second); err != nil {
		t.Fatal(err)
	}
	if r, _ := b.Run(run); r.Status != StatusInterrupted {
		t.Fatalf("an expired lease reads as %s", r.Status)
	}
	if rs, _ := b.Runs(RunFilter{Status: StatusInterrupted}); len(rs) != 1 || rs[0].ID != run {
		t.Fatalf("runs filtered by interrupted: %+v", rs)
	}
	if rs, _ := b.Runs(RunFilter{Status: StatusRunning}); len(rs) != 0 {
		t.Fatalf("an interrupted run is listed as running: %+v", rs)
	}
	if err := b.ClaimRun(run, second, time.Hour); err != nil {
		t.Fatalf("claiming an expired run: %v", err)
	}
	c := cand(run, CandidateKey{0, 0, 0}, 1, 1)
	if _, err := a.SaveCandidate(&c); !errors.Is(err, ErrLeaseLost) || !strings.Contains(err.Error(), second.String()) {
		t.Fatalf("the old owner's commit: %v", err)
	}
	for name, f := range map[string]func() error{
		"heartbeat": func() error { return a.Heartbeat(run, first, time.Hour) },
		"status":    func() error { return a.SetRunStatus(run, StatusFailed, "collision") },
		"round":     func() error { return a.SaveRound(Round{RunID: run}) },
		"metrics":   func() error { return a.SaveMetrics([]Metric{{run, "m", 1}}) },
		"tasks":     func() error { return a.SaveTasks(run, nil) },
	} {
		if err := f(); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("old owner's %s: %v", name, err)
		}
	}
	if _, err := b.SaveCandidate(&c); err != nil {
		t.Fatalf("the new owner's commit: %v", err)
	}
	if r, _ := b.Run(run); r.Status != StatusRunning || r.Error != "" || r.Owner.Token != second.Token {
		t.Fatalf("after the takeover: %s %q %+v", r.Status, r.Error, r.Owner)
	}

	// An owner on this host whose process is gone is interrupted at once.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	gone := NewOwner()
	gone.PID = dead.Process.Pid
	run2 := mustRun(t, a, Run{Name: "y"})
	if err := a.ClaimRun(run2, gone, time.Hour); err != nil {
		t.Fatal(err)
	}
	if r, _ := b.Run(run2); r.Status != StatusInterrupted {
		t.Fatalf("a dead owner's run reads as %s", r.Status)
	}
	if err := b.ClaimRun(run2, second, time.Hour); err != nil {
		t.Fatalf("claiming a dead owner's run: %v", err)
	}
}
