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

// arcOracleRun runs one small ARC run (one task, one candidate) over challenges with the
// model folder, on db, and returns its events in order and its oracle candidate.
func arcOracleRun(t *testing.T, db *store.DB, model, challenges string) ([]engine.Event, store.Candidate) {
	t.Helper()
	s := engine.ARCSpec()
	s.Model, s.Data, s.Tasks, s.K, s.EditTokens, s.ARCVote = model, challenges, 1, 1, 8, false
	s.Inner.Rank, s.Inner.Alpha, s.ARCExamples = 4, 8, 4
	r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	var evs []engine.Event
	for ev := range r.Events() {
		evs = append(evs, ev)
	}
	if err := r.Wait(); err != nil {
		t.Fatalf("run %d: %v", r.ID, err)
	}
	cands, err := db.Candidates(r.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cands {
		if c.Kind == "baseline_oracle" {
			return evs, c
		}
	}
	t.Fatalf("run %d has no oracle candidate", r.ID)
	return nil, store.Candidate{}
}

// oracleEvents are a run's OracleTry events and the number of its "oracle" training steps.
func oracleEvents(evs []engine.Event) (tries []engine.OracleTry, steps int) {
	for _, ev := range evs {
		switch e := ev.(type) {
		case engine.OracleTry:
			tries = append(tries, e)
		case engine.TrainStep:
			if e.Phase == "oracle" {
				steps++
			}
		}
	}
	return tries, steps
}

// TestARCOracleStreamsAndIsCached: the oracle's search reports every config it tries
// (OracleTry, 1..n of the space, with its training steps between them), so a run never
// goes silent inside it; a second run over the same task and model reads the search
// from the cache beside the database (one OracleTry marked cached, no training, the
// same config and score); a changed task or a changed model misses and searches again.
func TestARCOracleStreamsAndIsCached(t *testing.T) {
	dir := t.TempDir()
	model, err := llamatest.Folder(filepath.Join(dir, "model"), 7)
	if err != nil {
		t.Fatal(err)
	}
	other, err := llamatest.Folder(filepath.Join(dir, "other"), 8)
	if err != nil {
		t.Fatal(err)
	}
	_, eval := procedural.Sets(3, 0, 1)
	challenges, _, err := procedural.WriteFiles(dir, "eval", eval)
	if err != nil {
		t.Fatal(err)
	}
	_, changed := procedural.Sets(4, 0, 1)
	changedFile, _, err := procedural.WriteFiles(dir, "changed", changed)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	evs, first := arcOracleRun(t, db, model, challenges)
	tries, steps := oracleEvents(evs)
	if len(tries) == 0 || steps == 0 {
		t.Fatalf("the oracle searched silently: %d tries, %d training steps", len(tries), steps)
	}
	stepsSince := 0 // every config tried trains first: a step event comes before its try
	for i, ev := range evs {
		switch e := ev.(type) {
		case engine.TrainStep:
			if e.Phase == "oracle" {
				stepsSince++
			}
		case engine.OracleTry:
			if e.Of != 12 || e.Cached || e.Edit == "" || e.Tests != 1 {
				t.Errorf("event %d: oracle try %+v", i, e)
			}
			if stepsSince == 0 && e.Reason == "" {
				t.Errorf("event %d: oracle try %d came with no training step before it", i, e.Try)
			}
			stepsSince = 0
		}
	}
	for i, tr := range tries {
		if tr.Try != i+1 {
			t.Fatalf("oracle tries numbered %+v, want 1, 2, ...", tries)
		}
	}
	if last := tries[len(tries)-1]; len(tries) < 12 && last.Reward != 1 {
		t.Errorf("the search stopped after %d of 12 configs without solving the task", len(tries))
	}

	evs, second := arcOracleRun(t, db, model, challenges)
	tries, steps = oracleEvents(evs)
	if len(tries) != 1 || !tries[0].Cached || steps != 0 {
		t.Fatalf("second run: %d tries (%+v), %d oracle training steps; want one cached try and no training", len(tries), tries, steps)
	}
	if second.Edit != first.Edit || second.AdaptedScore != first.AdaptedScore || second.Seed != first.Seed ||
		len(second.Evals) != len(first.Evals) || second.Evals[0].Text != first.Evals[0].Text {
		t.Errorf("cached oracle %q %g (seed %d) answering %q, first run %q %g (seed %d) answering %q", second.Edit, second.AdaptedScore, second.Seed,
			second.Evals[0].Text, first.Edit, first.AdaptedScore, first.Seed, first.Evals[0].Text)
	}

	for name, run := range map[string][2]string{"a changed task": {model, changedFile}, "a changed model": {other, challenges}} {
		evs, _ := arcOracleRun(t, db, run[0], run[1])
		if tries, steps := oracleEvents(evs); len(tries) == 0 || tries[0].Cached || steps == 0 {
			t.Errorf("%s: tries %+v, %d training steps; want a fresh search", name, tries, steps)
		}
	}
}
