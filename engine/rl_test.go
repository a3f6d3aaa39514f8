package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"seal/engine"
	"seal/engine/knowledge"
	"seal/models/llama/llamatest"
	"seal/store"
)

// rlFixture adds an RL passages' file (four passages none of the evaluation file's) to the
// fixture, and a spec that runs 2 rounds with 2 RL passages each over 2 evaluation passages.
func rlFixture(t *testing.T, dir string) (fixture, engine.RunSpec) {
	f := newFixture(t, dir)
	var rl []knowledge.Passage
	for i := range 4 {
		rl = append(rl, knowledge.Passage{Title: fmt.Sprintf("Mell %d", i), Context: fmt.Sprintf("Mell %d is a village of %d houses.", i, 10+i),
			Questions: []knowledge.Question{{Question: fmt.Sprintf("How many houses has Mell %d?", i), Answer: fmt.Sprint(10 + i)}}})
	}
	spec := smallSpec(f)
	spec.RLData = writeSQuAD(t, filepath.Join(dir, "rl.json"), rl)
	spec.Tasks, spec.K, spec.Rounds, spec.RLPassages = 2, 2, 2, 2
	return f, spec
}

// With --rl-data the policy is trained only on RL passages, fresh ones each round, and the
// evaluation passages measure the base policy and the policy after each round.
func TestRLPassagesApartFromEvaluation(t *testing.T) {
	dir := t.TempDir()
	_, spec := rlFixture(t, dir)
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	ev := collect(t, r)
	if n := ev["run_started"][0].(engine.RunStarted).Tasks; n != 2 {
		t.Errorf("run_started counts %d tasks, want the 2 evaluation passages", n)
	}
	tasks, _ := db.Tasks(r.ID)
	var keys []string
	for _, tk := range tasks {
		keys = append(keys, tk.Key)
	}
	if want := []string{"0", "1", "rl:0", "rl:1", "rl:2", "rl:3"}; !slices.Equal(keys, want) {
		t.Fatalf("stored task keys %v, want %v", keys, want)
	}
	cands, _ := db.Candidates(r.ID, false)
	selfEdits := map[string]int{} // "round/task" -> self-edits
	edits := map[int][]string{}   // round -> the RL passages' edits
	counted := 0
	for _, c := range cands {
		if c.Kind == store.KindSelfEdit {
			selfEdits[fmt.Sprint(c.Round, "/", c.Task)]++
			if c.Task >= 2 {
				edits[c.Round] = append(edits[c.Round], c.Edit)
			}
		}
		if engine.CountsTowardProgress(c.Kind) {
			counted++
		}
		if c.Task >= 2 && strings.HasPrefix(c.Kind, "baseline_") && c.Kind != store.KindBaselineBase {
			t.Errorf("an RL passage has a %s baseline: baselines are for the evaluation passages", c.Kind)
		}
	}
	want := map[string]int{"0/0": 2, "0/1": 2, "1/0": 2, "1/1": 2, "2/0": 2, "2/1": 2, // every policy on the evaluation passages
		"0/2": 2, "0/3": 2, "1/4": 2, "1/5": 2} // round r samples on its own RL passages; the last round only measures
	if fmt.Sprint(selfEdits) != fmt.Sprint(want) {
		t.Errorf("self-edits per round/task %v, want %v", selfEdits, want)
	}
	if total, _ := engine.ProgressTotal(spec, 2, 0); total != counted {
		t.Errorf("ProgressTotal %d, the run committed %d counted candidates", total, counted)
	}
	rounds, _ := db.Rounds(r.ID)
	if len(rounds) != 3 || rounds[0].Kept != 2 || rounds[1].Kept != 2 || rounds[2].Kept != 0 || rounds[2].PolicyHash != "" {
		t.Fatalf("rounds %+v: want 2 updates of 2 kept edits each, then a round that only measures", rounds)
	}
	// Each update trained on its round's RL passages' edits, never an evaluation passage's.
	ledger, _ := db.Ledger(r.ID)
	updates := 0
	for _, e := range ledger {
		if e.Kind != store.LedgerPolicy {
			continue
		}
		updates++
		for _, kept := range strings.Split(e.Edit, "\n---\n") {
			if !slices.Contains(edits[e.Step], kept) {
				t.Errorf("round %d's update trained on %q, not one of its RL passages' edits %q", e.Step, kept, edits[e.Step])
			}
		}
	}
	if updates != 2 {
		t.Errorf("%d policy updates in the ledger, want 2", updates)
	}
	ms, _ := db.Metrics(r.ID)
	names := map[string]bool{}
	for _, m := range ms {
		names[m.Name] = true
	}
	for _, name := range []string{"round0/self_edit", "round1/self_edit", "round2/self_edit", "passage", "round0/rl_reward", "round1/rl_self_edit"} {
		if !names[name] {
			t.Errorf("metric %s missing (have %v)", name, names)
		}
	}
	if names["round2/rl_reward"] {
		t.Error("the last round sampled RL passages")
	}

	// A run cancelled in the middle of round 0's RL passages resumes to the same store.
	spec.Name = "cancelled"
	r2, err := engine.New(db, llamatest.Backend()).Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	rewards := 0
	for e := range r2.Events() {
		if _, ok := e.(engine.Reward); ok {
			if rewards++; rewards == 9 { // 2 × (base, passage, context, 2 edits) = 10 would finish the evaluation passages
				r2.Cancel()
			}
		}
	}
	r2.Wait()
	if run, _ := db.Run(r2.ID); run.Status != store.StatusCancelled {
		t.Fatalf("the run to resume is %s, not cancelled", run.Status)
	}
	r3, err := engine.New(db, llamatest.Backend()).Resume(context.Background(), r2.ID)
	if err != nil {
		t.Fatal(err)
	}
	collect(t, r3)
	again, _ := db.Candidates(r2.ID, false)
	if len(again) != len(cands) {
		t.Fatalf("the resumed run has %d candidates, the uninterrupted one %d", len(again), len(cands))
	}
	for i := range cands {
		a, b := cands[i], again[i]
		if a.Round != b.Round || a.Task != b.Task || a.Index != b.Index || a.Edit != b.Edit || a.AdaptedScore != b.AdaptedScore {
			t.Errorf("candidate %d/%d/%d differs after resume: %q %.3f vs %q %.3f", a.Round, a.Task, a.Index, a.Edit, a.AdaptedScore, b.Edit, b.AdaptedScore)
		}
	}
}

func TestRLSettingsRefused(t *testing.T) {
	dir := t.TempDir()
	_, spec := rlFixture(t, dir)
	for _, c := range []struct {
		edit func(*engine.RunSpec)
		want string
	}{
		{func(s *engine.RunSpec) { s.RLData = "" }, "--rl-passages 2 needs --rl-data"},
		{func(s *engine.RunSpec) { s.RLPassages = 0 }, "needs --rl-passages"},
		{func(s *engine.RunSpec) { s.RLPassages = -1 }, "--rl-passages -1 is out of range"},
		{func(s *engine.RunSpec) { s.Mode = "cpt" }, "--mode cpt has no ReST-EM rounds"},
	} {
		s := spec
		c.edit(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error with %q, got %v", c.want, err)
		}
	}
	// A file too short for every round's fresh passages is named, with the arithmetic.
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	spec.RLPassages = 3
	r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), spec)
	if err == nil {
		for range r.Events() {
		}
		err = r.Wait()
	}
	if err == nil || !strings.Contains(err.Error(), "rl.json has 4 passages; --rounds 2 × --rl-passages 3 asks for 6") {
		t.Errorf("a short RL file: %v", err)
	}
}

// Under the review gate only the RL passages' self-edits wait for a verdict: the
// evaluation passages' never train the policy.
func TestRLReviewGateAsksOnlyForRLPassages(t *testing.T) {
	dir := t.TempDir()
	_, spec := rlFixture(t, dir)
	spec.Tasks, spec.K, spec.Rounds, spec.RLPassages, spec.ReviewGate, spec.Baselines = 1, 1, 1, 1, true, false
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	var asked []int
	for ev := range r.Events() {
		if nr, ok := ev.(engine.NeedsReview); ok {
			asked = append(asked, nr.Where.Task)
			if err := r.Review(nr.CandidateID, "approve", "", ""); err != nil {
				t.Error(err)
			}
		}
	}
	if err := r.Wait(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked, []int{1}) {
		t.Errorf("review asked for tasks %v, want only the RL passage 1", asked)
	}
}
