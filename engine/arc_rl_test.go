package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"seal/engine"
	"seal/engine/arc/procedural"
	"seal/models/llama/llamatest"
	"seal/store"
)

// passingExecutor scores every self-edit job pass@2 = 1 without test-time training, so
// a random model's edits (never a valid config) are kept and train the policy: what is
// under test is which tasks' edits reach the update, not ARC's inner loop (TestARCRun
// runs that). It refuses a job whose payload is not the stored task the job names.
type passingExecutor struct {
	t    *testing.T
	keys map[int]string // the run's task index -> the ARC task id its payload must carry
}

func (e passingExecutor) Run(_ context.Context, jobs []engine.InnerJob, _ func(engine.Event), done func(int, engine.InnerResult) error) ([]engine.InnerResult, error) {
	out := make([]engine.InnerResult, len(jobs))
	for i, j := range jobs {
		var a engine.ARCJob
		if err := json.Unmarshal(j.Payload, &a); err != nil {
			return nil, err
		}
		if want, ok := e.keys[j.Task]; ok && a.Task.ID != want {
			e.t.Errorf("job %s carries task %s, want %s", j.ID, a.Task.ID, want)
		}
		out[i] = engine.InnerResult{JobID: j.ID, Accs: []float64{1}}
		if err := done(i, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// arcRLFixture writes two procedural eval tasks and four RL tasks (each file with its
// solutions beside it) and a spec of 2 rounds × 2 RL tasks over them, on a tiny random model.
func arcRLFixture(t *testing.T, dir string) (engine.RunSpec, map[int]string) {
	model, err := llamatest.Folder(filepath.Join(dir, "model"), 7)
	if err != nil {
		t.Fatal(err)
	}
	_, eval := procedural.Sets(3, 0, 2)
	challenges, _, err := procedural.WriteFiles(dir, "eval", eval)
	if err != nil {
		t.Fatal(err)
	}
	rlDir := filepath.Join(dir, "rl")
	if err := os.Mkdir(rlDir, 0o755); err != nil {
		t.Fatal(err)
	}
	rl := procedural.RLTasks(3, 4, eval)
	rlChallenges, _, err := procedural.WriteFiles(rlDir, "train", rl)
	if err != nil {
		t.Fatal(err)
	}
	s := engine.ARCSpec()
	s.Model, s.Data, s.RLData, s.EditTokens, s.ARCVote, s.Baselines = model, challenges, rlChallenges, 24, false, false
	s.Tasks, s.K, s.Rounds, s.RLPassages = 2, 2, 2, 2
	s.Inner.Rank, s.Inner.Alpha, s.ARCExamples = 4, 8, 4
	ids := map[int]string{}
	for i, task := range append(eval, rl...) {
		ids[i] = task.ID + "-0" // the sub-task of its one test
	}
	return s, ids
}

// An ARC run with --rl-data trains the policy only on its RL tasks, fresh ones each
// round; the evaluation tasks measure the base policy and the policy after each round,
// and are all the effect table counts. Cancelled in round 0's RL tasks, it resumes to
// the same store, its tasks rebuilt from the (hash-checked) files, RL tasks included.
func TestARCRLTasksApartFromEvaluation(t *testing.T) {
	dir := t.TempDir()
	spec, ids := arcRLFixture(t, dir)
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	newEngine := func() *engine.Engine {
		e := engine.New(db, llamatest.Backend())
		e.Executor = passingExecutor{t, ids}
		return e
	}
	r, err := newEngine().Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	ev := collect(t, r)
	if n := ev["run_started"][0].(engine.RunStarted).Tasks; n != 2 {
		t.Errorf("run_started counts %d tasks, want the 2 evaluation tasks", n)
	}
	tasks, _ := db.Tasks(r.ID)
	var keys []string
	for _, tk := range tasks {
		keys = append(keys, tk.Key)
	}
	want := []string{ids[0], ids[1], "rl:" + ids[2], "rl:" + ids[3], "rl:" + ids[4], "rl:" + ids[5]}
	if !slices.Equal(keys, want) || !strings.HasPrefix(ids[2], "train-") {
		t.Fatalf("stored task keys %v, want %v", keys, want)
	}
	cands, _ := db.Candidates(r.ID, false)
	selfEdits := map[string]int{} // "round/task" -> self-edits
	rlEdits := map[int][]string{} // round -> the RL tasks' edits
	var evalEdits []string
	for _, c := range cands {
		if c.Kind != store.KindSelfEdit {
			continue
		}
		selfEdits[fmt.Sprint(c.Round, "/", c.Task)]++
		if c.Task >= 2 {
			rlEdits[c.Round] = append(rlEdits[c.Round], c.Edit)
		} else {
			evalEdits = append(evalEdits, c.Edit)
		}
	}
	wantEdits := map[string]int{"0/0": 2, "0/1": 2, "1/0": 2, "1/1": 2, "2/0": 2, "2/1": 2, // every policy on the evaluation tasks
		"0/2": 2, "0/3": 2, "1/4": 2, "1/5": 2} // round r samples its own RL tasks; the last round only measures
	if fmt.Sprint(selfEdits) != fmt.Sprint(wantEdits) {
		t.Errorf("self-edits per round/task %v, want %v", selfEdits, wantEdits)
	}
	rounds, _ := db.Rounds(r.ID)
	if len(rounds) != 3 || rounds[0].Kept != 4 || rounds[1].Kept != 4 || rounds[2].Kept != 0 || rounds[2].PolicyHash != "" {
		t.Fatalf("rounds %+v: want 2 updates of 4 kept edits each, then a round that only measures", rounds)
	}
	// Each update trained on its own round's RL tasks' edits, all of them and nothing else.
	ledger, _ := db.Ledger(r.ID)
	updates := 0
	for _, e := range ledger {
		if e.Kind != store.LedgerPolicy {
			continue
		}
		updates++
		trained := strings.Split(e.Edit, "\n---\n")
		slices.Sort(trained)
		round := slices.Clone(rlEdits[e.Step])
		slices.Sort(round)
		if !slices.Equal(trained, round) {
			t.Errorf("round %d's update trained on %q, want its RL tasks' edits %q", e.Step, trained, round)
		}
		for _, kept := range trained {
			if slices.Contains(evalEdits, kept) {
				t.Errorf("round %d's update trained on an evaluation task's edit %q", e.Step, kept)
			}
		}
	}
	if updates != 2 {
		t.Errorf("%d policy updates in the ledger, want 2", updates)
	}
	// The table counts the evaluation tasks alone, each measured by all three policies.
	a, err := engine.ARCEffectOf(db, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantConds := []string{engine.ARCInContext, engine.RoundCondition(0), engine.RoundCondition(1), engine.RoundCondition(2)}
	if !slices.Equal(a.Tasks, want[:2]) || !slices.Equal(a.Conditions, wantConds) || !slices.Equal(a.Edits, []int{4, 4, 4}) {
		t.Errorf("ARC effect: tasks %v conditions %v edits %v; want tasks %v, conditions %v, 4 edits a round", a.Tasks, a.Conditions, a.Edits, want[:2], wantConds)
	}

	spec.Name = "cancelled"
	r2, err := newEngine().Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	rewards := 0
	for e := range r2.Events() {
		if _, ok := e.(engine.Reward); ok {
			if rewards++; rewards == 8 { // 2 × (base, 2 edits) = 6 finish the evaluation tasks of round 0
				r2.Cancel()
			}
		}
	}
	r2.Wait()
	if run, _ := db.Run(r2.ID); run.Status != store.StatusCancelled {
		t.Fatalf("the run to resume is %s, not cancelled", run.Status)
	}
	r3, err := newEngine().Resume(context.Background(), r2.ID)
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

// An RL file too short for every round's fresh tasks is refused before any work, naming
// the file and the arithmetic; so is one whose solutions are not beside it.
func TestARCRLFileRefused(t *testing.T) {
	dir := t.TempDir()
	spec, _ := arcRLFixture(t, dir)
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := func(s engine.RunSpec) error {
		r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), s)
		if err != nil {
			return err
		}
		cands := 0
		for ev := range r.Events() {
			if _, ok := ev.(engine.Reward); ok {
				cands++
			}
		}
		if cands > 0 {
			t.Errorf("%d candidates scored before the RL file was refused", cands)
		}
		return r.Wait()
	}
	short := spec
	short.RLPassages = 3
	want := "--rl-data " + spec.RLData + " has 4 ARC sub-tasks; --rounds 2 × --rl-passages 3 asks for 6 (disjoint between rounds)"
	if err := start(short); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a short RL file: %v, want %q", err, want)
	}
	if err := os.Remove(filepath.Join(filepath.Dir(spec.RLData), "train_solutions.json")); err != nil {
		t.Fatal(err)
	}
	if err := start(spec); err == nil || !strings.Contains(err.Error(), "--rl-data "+spec.RLData+": task") || !strings.Contains(err.Error(), "has no solution (put its solutions file beside it)") {
		t.Errorf("RL tasks without solutions: %v", err)
	}
}
