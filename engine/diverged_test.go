package engine_test

import (
	"context"
	"path/filepath"
	"seal/models/llama/llamatest"
	"strings"
	"testing"

	"seal/engine"
	"seal/store"
)

// TestDivergedPolicyUpdateFailsTheRound: a policy learning rate that makes the loss
// NaN fails the run, naming the round and the divergence, and nothing is merged.
func TestDivergedPolicyUpdateFailsTheRound(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := smallSpec(f)
	s.Tasks, s.K, s.Rounds, s.Guard.On = 2, 2, 1, false
	s.Policy.LR, s.Policy.Epochs, s.Policy.Batch = 1e30, 4, 1
	r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	for range r.Events() {
	}
	err = r.Wait()
	if err == nil || !strings.Contains(err.Error(), "round 0: policy update: training diverged: loss") || !strings.Contains(err.Error(), "(lr 1e+30)") {
		t.Fatalf("run with a diverging policy update: %v", err)
	}
	rec, _ := db.Run(r.ID)
	if rec.Status != store.StatusFailed || !strings.Contains(rec.Error, "training diverged") {
		t.Errorf("run stored as %s %q", rec.Status, rec.Error)
	}
	if rounds, _ := db.Rounds(r.ID); len(rounds) != 0 {
		t.Errorf("the diverged round was saved: %+v", rounds)
	}
}
