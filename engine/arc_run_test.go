package engine_test

import (
	"context"
	"path/filepath"
	"testing"

	"seal/engine"
	"seal/engine/arc/procedural"
	"seal/models/llama/llamatest"
	"seal/store"
)

// TestARCRun runs ReST-EM over procedural ARC tasks on a tiny random model: every
// candidate and baseline is committed with its reward; a self-edit that is no JSON
// config scores 0 with the reason; the fixed-config baseline test-time trains (a loss
// curve) through the same job path as the candidates; the oracle records the config it
// found; the solutions file is found beside the challenges file.
func TestARCRun(t *testing.T) {
	dir := t.TempDir()
	model, err := llamatest.Folder(filepath.Join(dir, "model"), 7)
	if err != nil {
		t.Fatal(err)
	}
	_, eval := procedural.Sets(3, 0, 2)
	challenges, _, err := procedural.WriteFiles(dir, "eval", eval)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := engine.ARCSpec()
	s.Model, s.Data, s.Tasks, s.K, s.EditTokens, s.ARCVote = model, challenges, 1, 2, 24, false
	s.Inner.Rank, s.Inner.Alpha, s.ARCExamples = 4, 8, 4
	r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	ev := collect(t, r)
	if len(ev["round_done"]) != 1 {
		t.Fatalf("%d round_done events, want 1", len(ev["round_done"]))
	}
	cands, err := db.Candidates(r.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, c := range cands {
		kinds[c.Kind]++
		if c.Grounding != nil { // an ARC edit is a JSON config: there is no passage to ground it in
			t.Errorf("ARC candidate %d (%s) has grounding %g, want none", c.ID, c.Kind, *c.Grounding)
		}
		switch c.Kind {
		case "self_edit":
			if c.Status != "invalid" || c.Reason == "" || c.Reward != 0 {
				t.Errorf("random-model self-edit %q: status %s reason %q reward %g, want invalid with a reason and 0", c.Edit, c.Status, c.Reason, c.Reward)
			}
		case "baseline_fixed":
			if c.Status != "done" || len(c.Curve) == 0 || len(c.Evals) != 1 || c.Evals[0].Gold == "" {
				t.Errorf("fixed-config baseline: status %s, %d training steps, evals %+v", c.Status, len(c.Curve), c.Evals)
			}
		case "baseline_oracle":
			if c.Status != "done" || c.Edit == "" {
				t.Errorf("oracle baseline: status %s, config %q", c.Status, c.Edit)
			}
		}
	}
	want := map[string]int{"baseline_base": 1, "baseline_fixed": 1, "baseline_oracle": 1, "self_edit": 2}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d candidates of kind %s, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
	tasks, err := db.Tasks(r.ID)
	if err != nil || len(tasks) != 1 || tasks[0].Key != eval[0].ID+"-0" {
		t.Errorf("stored tasks %+v (%v), want the first sub-task", tasks, err)
	}
}
