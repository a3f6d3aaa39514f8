package main

// The run history's integrity under misuse (issue 14, attacks 1, 2, 3, 8's non-finite
// loss, 9 and 10), replayed against the built binary.

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tinyRun is the smallest run that still has two passages and two candidates each.
var tinyRun = []string{"--passages", "2", "--k", "2", "--rounds", "1", "--repeats", "1",
	"--edit-tokens", "24", "--qa-tokens", "6", "--epochs", "1"}

// sealOK runs the binary and fails the test unless it exits 0.
func sealOK(t *testing.T, dir string, args ...string) binResult {
	t.Helper()
	r := runBinary(t, dir, 60*time.Second, nil, args...)
	if r.Code != 0 {
		t.Fatalf("seal %s: exit %d\n%s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return r
}

// TestReliabilityAdaptersPerDatabase: run 1 of a.db and run 1 of b.db, in one folder,
// keep their adapters apart, so a.db's versions still rebuild after b.db ran.
func TestReliabilityAdaptersPerDatabase(t *testing.T) {
	dir := t.TempDir()
	continual := []string{"--mode", "continual", "--passages", "2", "--repeats", "1", "--edit-tokens", "24", "--qa-tokens", "6", "--epochs", "1"}
	sealOK(t, dir, append([]string{"run", "--db", "a.db", "--seed", "1"}, continual...)...)
	sealOK(t, dir, append([]string{"run", "--db", "b.db", "--seed", "2"}, continual...)...)
	r := runBinary(t, dir, 60*time.Second, nil, "rollback", "--db", "a.db", "1", "--to", "2")
	if r.Code != 0 || !strings.Contains(r.Stdout, `"status":"done"`) {
		t.Fatalf("rollback of a.db after b.db ran: exit %d\n%s", r.Code, r.Stderr)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "a.db.adapters", "1", "*")); len(m) == 0 {
		t.Errorf("a.db's run 1 saved no adapters under a.db.adapters/1")
	}
}

// TestReliabilityNonFiniteLoss: --lr 1e30 makes the inner loop's loss NaN; every
// candidate that trained ends invalid with the reason, none stays "done" with reward 0,
// and no bare train_step line (a NaN that JSON cannot write) reaches stdout.
func TestReliabilityNonFiniteLoss(t *testing.T) {
	dir := t.TempDir()
	args := append([]string{"run", "--db", "h.db", "--lr", "1e30"}, tinyRun...)
	r := sealOK(t, dir, append(args, "--epochs", "3")...)
	trained := 0
	for _, ev := range events(t, r.Stdout) {
		switch ev["type"] {
		case "train_step":
			if _, ok := ev["loss"].(float64); !ok {
				t.Errorf("train_step without a loss: %v", ev)
			}
		case "reward":
			if ev["kind"] != "self_edit" && ev["kind"] != "baseline_passage" {
				continue
			}
			trained++
			if reason, _ := ev["reason"].(string); ev["status"] != "invalid" || !strings.HasPrefix(reason, "training diverged: loss NaN at step ") || !strings.HasSuffix(reason, "(lr 1e+30)") {
				t.Errorf("a diverged candidate was recorded as %v %q", ev["status"], reason)
			}
		}
	}
	if trained != 6 {
		t.Errorf("%d trained candidates, want 6 (2 passages × (2 self-edits + the passage baseline))", trained)
	}
}

// events parses seal run's JSON lines.
func events(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("stdout line %q is not JSON: %v", line, err)
		}
		out = append(out, ev)
	}
	return out
}
