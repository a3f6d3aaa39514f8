package engine_test

import (
	"encoding/json"
	"strings"
	"testing"

	"seal/engine"
	"seal/engine/knowledge"
	"seal/models/llama"
)

// TestStepMatchedBaselineTakesTheSelfEditSteps: with one self-edit per passage, the
// step-matched baseline's update takes exactly as many optimizer steps as the
// self-edit's (the passage-only baseline takes one epoch's worth per epoch), it trains
// on the passage alone, and it is summarized beside the other baselines.
func TestStepMatchedBaselineTakesTheSelfEditSteps(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	spec := smallSpec(f)
	spec.K, spec.Rounds, spec.EditTokens = 1, 1, 40
	db, id, err := runToEnd(t, dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	cands, err := db.Candidates(id, true)
	if err != nil {
		t.Fatal(err)
	}
	tasks, _ := db.Tasks(id)
	edits, steps, passage := byKind(cands, "self_edit"), byKind(cands, "baseline_steps"), byKind(cands, "baseline_passage")
	if len(steps) != 3 || len(passage) != 3 {
		t.Fatalf("%d step-matched and %d passage-only baselines, want 3 each", len(steps), len(passage))
	}
	compared := 0
	for task, s := range steps {
		var m engine.StepMatch
		if err := json.Unmarshal(s.Sampling, &m); err != nil {
			t.Fatalf("passage %d: step match %s: %v", task, s.Sampling, err)
		}
		if s.Status != "done" || len(s.Evals) == 0 || s.Edit != "" {
			t.Errorf("passage %d: step-matched baseline %s, %d graded answers, edit %q", task, s.Status, len(s.Evals), s.Edit)
		}
		if len(s.Curve) != m.Steps || m.Steps != m.Repeats*spec.Inner.Epochs {
			t.Errorf("passage %d: %d steps trained, matched %+v", task, len(s.Curve), m)
		}
		if got := len(passage[task].Curve); got != spec.Inner.Epochs {
			t.Errorf("passage %d: the passage-only baseline took %d steps, want %d (one sequence)", task, got, spec.Inner.Epochs)
		}
		e := edits[task]
		if e.Status != "done" || e.Edit == "" {
			if m.To != "passage" || m.Repeats != 1 { // the fixture's passages are not the world's
				t.Errorf("passage %d has no trained self-edit, yet matched %+v", task, m)
			}
			continue
		}
		compared++
		p := knowledge.Passage{Title: tasks[task].Title, Context: tasks[task].Context}
		want := llama.FitSteps(len(knowledge.TrainSequences(e.Edit, p, spec.Split)), spec.Inner.Batch, spec.Inner.Epochs)
		if len(e.Curve) != want || len(s.Curve) != len(e.Curve) || m.To != "self_edits" || m.Edits != 1 {
			t.Errorf("passage %d: self-edit %d steps (want %d), step-matched baseline %d, matched %+v", task, len(e.Curve), want, len(s.Curve), m)
		}
	}
	if compared == 0 {
		t.Fatal("no passage had a trained self-edit to match")
	}
	if _, ok := metricsOf(t, db, id)["steps"]; !ok {
		t.Error(`no "steps" metric beside "passage" and "context"`)
	}
}

// TestMatchRepeats: the repeats whose steps come nearest the self-edits' mean steps.
func TestMatchRepeats(t *testing.T) {
	for _, c := range []struct {
		seqs          []int
		batch, epochs int
		want          int
		target        float64
	}{
		{[]int{9}, 1, 10, 9, 90},
		{[]int{3, 4, 8}, 1, 10, 5, 50},
		{[]int{2, 3}, 1, 10, 2, 25},          // a tie: the fewer
		{[]int{3, 4, 8}, 2, 10, 5, 80.0 / 3}, // steps 20, 20, 40: 30 is nearest
		{nil, 1, 10, 1, 10},
		{[]int{1}, 1, 3, 1, 3},
	} {
		got, target := engine.MatchRepeats(c.seqs, engine.Update{Batch: c.batch, Epochs: c.epochs})
		if got != c.want || target < c.target-1e-9 || target > c.target+1e-9 {
			t.Errorf("MatchRepeats(%v, batch %d, epochs %d) = %d, %g; want %d, %g", c.seqs, c.batch, c.epochs, got, target, c.want, c.target)
		}
	}
}

// TestStepMatchedJobChecked: a worker refuses a step-matched job whose repeat count is
// out of range or that comes with an edit.
func TestStepMatchedJobChecked(t *testing.T) {
	d, _ := engine.DomainNamed("knowledge")
	p := knowledge.Passage{Title: "T", Context: "C", Questions: []knowledge.Question{{Question: "q?", Answer: "a"}}}
	for _, c := range []struct {
		job  engine.KnowledgeJob
		want string
	}{
		{engine.KnowledgeJob{Passage: p, Split: true, PassageRepeats: 9}, ""},
		{engine.KnowledgeJob{Passage: p, Split: true, PassageRepeats: -1}, "passage_repeats -1 is out of range"},
		{engine.KnowledgeJob{Passage: p, Split: true, PassageRepeats: 10001}, "passage_repeats 10001 is out of range"},
		{engine.KnowledgeJob{Passage: p, Edit: "1. x", Split: true, PassageRepeats: 3}, "with an edit"},
	} {
		b, _ := json.Marshal(c.job)
		err := d.CheckJob(engine.InnerJob{ID: "j", Domain: "knowledge", Payload: b})
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.job, err, c.want)
		}
	}
}
