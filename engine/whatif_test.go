package engine_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"seal/engine"
	"seal/models/llama/llamatest"
	"seal/store"
)

func TestWhatIfCommitsAHumanCandidate(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e := engine.New(db, llamatest.Backend())
	spec := smallSpec(f)
	spec.Tasks, spec.K, spec.Baselines = 2, 2, false
	r, err := e.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	collect(t, r)
	ctx := context.Background()
	for _, bad := range []struct {
		round, task int
		edit, want  string
	}{{0, 5, "x", "passage 5 does not exist"}, {7, 0, "x", "round 7 does not exist"}, {0, 0, "  ", "the edit is empty"}} {
		if _, err := e.WhatIf(ctx, r.ID, bad.round, bad.task, bad.edit); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("what-if %+v: %v, want %q", bad, err, bad.want)
		}
	}
	// Round 1 sees the policy after round 0's update: rebuilt from the saved adapter.
	for i, edit := range []string{"Varn lies on the river Ossa.", "Ilda Mare founded Varn in 1203."} {
		w, err := e.WhatIf(ctx, r.ID, 1, 0, edit)
		if err != nil {
			t.Fatal(err)
		}
		got := collect(t, w)
		if len(got["reward"]) != 1 || len(got["train_step"]) == 0 || len(got["eval_item"]) == 0 {
			t.Fatalf("what-if events: %v", got)
		}
		rw := got["reward"][0].(engine.Reward)
		if rw.Kind != store.KindHuman || rw.Cand != spec.K+i || rw.Round != 1 {
			t.Fatalf("reward %+v: want kind human at index %d of round 1", rw, spec.K+i)
		}
		c, err := db.Candidate(rw.CandidateID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Edit != edit || c.Kind != store.KindHuman || c.Status != store.CandidateDone || len(c.Evals) == 0 {
			t.Fatalf("stored what-if: %+v", c)
		}
		// "lies" is the one content word the passage does not state; the second edit
		// is all in it.
		if want := []float64{0.75, 1}[i]; c.Grounding == nil || *c.Grounding != want {
			t.Errorf("what-if %q: grounding %v, want %g", edit, c.Grounding, want)
		}
	}
	// The run's own record is untouched: still done, the metrics over self-edits only.
	if rec, _ := db.Run(r.ID); rec.Status != store.StatusDone {
		t.Fatalf("run status %q after a what-if", rec.Status)
	}
}
