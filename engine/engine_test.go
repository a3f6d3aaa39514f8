package engine_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"seal/engine"
	"seal/engine/grounding"
	"seal/models/llama/llamatest"
	"seal/store"
)

// fixture is the golden tiny Llama (transformers weights) with a byte-level tokenizer,
// and a small SQuAD-format file.
type fixture struct{ model, data string }

func newFixture(t testing.TB, dir string) fixture {
	model, err := llamatest.GoldenFolder(filepath.Join(dir, "model"), "llama32_tiny")
	if err != nil {
		t.Fatal(err)
	}
	passages := []map[string]any{
		{"title": "Varn", "context": "Varn is a town on the river Ossa. It was founded in 1203 by Ilda Mare.",
			"questions": []map[string]string{{"question": "Which river is Varn on?", "answer": "Ossa"}, {"question": "Who founded Varn?", "answer": "Ilda Mare"}}},
		{"title": "Tolo Guild", "context": "The Tolo Guild makes glass. Its hall stands in Pemb.",
			"questions": []map[string]string{{"question": "What does the Tolo Guild make?", "answer": "glass"}}},
		{"title": "Rask", "context": "Rask is a painter born in 1877 in Varn.",
			"questions": []map[string]string{{"question": "When was Rask born?", "answer": "1877"}, {"question": "Where was Rask born?", "answer": "Varn"}}},
	}
	b, _ := json.Marshal(passages)
	data := filepath.Join(dir, "data.json")
	if err := os.WriteFile(data, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return fixture{model: model, data: data}
}

// smallSpec is the CI run: 2 ReST-EM rounds on 3 passages with 3 candidates,
// with every size cut so it runs in seconds on the tiny model.
func smallSpec(f fixture) engine.RunSpec {
	s := engine.DefaultSpec()
	s.Model, s.Data, s.Tasks, s.K, s.Rounds, s.Repeats = f.model, f.data, 3, 3, 2, 1
	s.EditTokens, s.QATokens = 24, 6
	s.Inner.Epochs, s.Inner.Rank, s.Inner.Alpha = 2, 4, 8
	s.Policy.Epochs, s.Policy.Rank, s.Policy.Alpha = 1, 4, 8
	return s
}

func collect(t testing.TB, r *engine.Run) map[string][]engine.Event {
	got := map[string][]engine.Event{}
	for ev := range r.Events() {
		got[ev.EventType()] = append(got[ev.EventType()], ev)
	}
	if err := r.Wait(); err != nil {
		t.Fatalf("run %d: %v", r.ID, err)
	}
	return got
}

func TestReSTEMRunEventsAndStore(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), smallSpec(f))
	if err != nil {
		t.Fatal(err)
	}
	ev := collect(t, r)
	// Round 0: 3 base + 3 passage-only + 3 step-matched + 3 in-context + 9 candidates;
	// round 1: 3 base + 9.
	if n := len(ev["reward"]); n != 33 {
		t.Errorf("%d reward events, want 33", n)
	}
	for _, typ := range []string{"run_started", "token", "edit_done", "train_step", "eval_item", "round_done", "metric", "finished"} {
		if len(ev[typ]) == 0 {
			t.Errorf("no %s events", typ)
		}
	}
	if last := ev["finished"][0].(engine.Finished); last.Status != store.StatusDone {
		t.Errorf("finished with %s", last.Status)
	}
	// The device is said as the run starts and stored with its settings.
	if s := ev["run_started"][0].(engine.RunStarted); s.Device != llamatest.Backend().Name() {
		t.Errorf("run_started says device %q, want %q", s.Device, llamatest.Backend().Name())
	}
	if rec, err := db.Run(r.ID); err != nil || !strings.Contains(string(rec.Config), `"device":"`+llamatest.Backend().Name()+`"`) {
		t.Errorf("stored config %s (%v) lacks the device", rec.Config, err)
	}
	cands, err := db.Candidates(r.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(cands) != 33 {
		t.Fatalf("%d candidates stored, want 33", len(cands))
	}
	selfEdits := 0
	if checkGrounding(t, db, r.ID, cands) == 0 {
		t.Error("no self-edit has a grounding share")
	}
	for _, c := range cands {
		if c.Kind == "self_edit" {
			selfEdits++
			if c.Status == "done" && (len(c.Evals) == 0 || len(c.Curve) == 0) {
				t.Errorf("candidate %d stored without eval items or training curve", c.ID)
			}
			if c.Prompt == "" || c.Seed == 0 {
				t.Errorf("candidate %d lacks its prompt or seed", c.ID)
			}
		}
	}
	if selfEdits != 18 {
		t.Errorf("%d self-edit candidates, want 2 rounds x 3 passages x 3", selfEdits)
	}
	rounds, _ := db.Rounds(r.ID)
	if len(rounds) != 2 {
		t.Fatalf("%d rounds stored", len(rounds))
	}
	for _, rd := range rounds {
		if rd.Kept != 3 || rd.PolicyHash == "" {
			t.Errorf("round %d kept %d (want best of 3 for 3 passages) with policy %q", rd.Round, rd.Kept, rd.PolicyHash)
		}
	}
	ms, _ := db.Metrics(r.ID)
	names := map[string]bool{}
	for _, m := range ms {
		names[m.Name] = true
	}
	for _, want := range []string{"round0/base", "round0/self_edit", "passage", "context", "round1/self_edit"} {
		if !names[want] {
			t.Errorf("metric %s missing (have %v)", want, names)
		}
	}
}

// checkGrounding checks each candidate's stored grounding share against its passage
// (title and text, as the policy read it): every non-empty self-edit has one, equal to
// grounding.Share; baselines and empty edits have none; and each round's
// roundN/grounding metric is the mean over passages of their self-edits' mean share.
// It returns how many candidates had a share.
func checkGrounding(t *testing.T, db *store.DB, run int64, cands []store.Candidate) int {
	t.Helper()
	tasks, err := db.Tasks(run)
	if err != nil {
		t.Fatal(err)
	}
	perTask := map[int]map[int][]float64{} // round -> task -> shares
	n := 0
	for _, c := range cands {
		edit := c.Kind == "self_edit" || c.Kind == "continual" || c.Kind == "cpt"
		if !edit || strings.TrimSpace(c.Edit) == "" {
			if c.Grounding != nil {
				t.Errorf("candidate %d (%s, edit %q) has grounding %g, want none", c.ID, c.Kind, c.Edit, *c.Grounding)
			}
			continue
		}
		want := grounding.Share(tasks[c.Task].Title+"\n"+tasks[c.Task].Context, c.Edit)
		if c.Grounding == nil || *c.Grounding != want {
			t.Errorf("candidate %d (%s, edit %q): grounding %v, want %g", c.ID, c.Kind, c.Edit, c.Grounding, want)
			continue
		}
		n++
		if c.Kind == "self_edit" {
			if perTask[c.Round] == nil {
				perTask[c.Round] = map[int][]float64{}
			}
			perTask[c.Round][c.Task] = append(perTask[c.Round][c.Task], *c.Grounding)
		}
	}
	ms, err := db.Metrics(run)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, m := range ms {
		got[m.Name] = m.Value
	}
	for round, byTask := range perTask {
		var sum float64
		for _, shares := range byTask {
			var s float64
			for _, g := range shares {
				s += g
			}
			sum += s / float64(len(shares))
		}
		name := fmt.Sprintf("round%d/grounding", round)
		if v, ok := got[name]; !ok || math.Abs(v-sum/float64(len(byTask))) > 1e-12 {
			t.Errorf("metric %s = %v (present %v), want %g", name, v, ok, sum/float64(len(byTask)))
		}
	}
	return n
}

// TestResumeAfterKill kills a run with SIGKILL part way (in a child process), resumes
// it, and checks that nothing committed was lost or redone and that the result equals
// an uninterrupted run of the same seed.
func TestResumeAfterKill(t *testing.T) {
	if os.Getenv("SEAL_ENGINE_CHILD") != "" {
		return
	}
	dir := t.TempDir()
	f := newFixture(t, dir)
	spec := smallSpec(f)
	spec.Rounds = 1

	clean := filepath.Join(dir, "clean.db")
	cdb, err := store.Open(clean)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := engine.New(cdb, llamatest.Backend()).Start(context.Background(), spec)
	collect(t, r)
	want, _ := cdb.Candidates(r.ID, false)
	cdb.Close()

	killed := filepath.Join(dir, "killed.db")
	spec.Name = "killed"
	js, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=TestChildRun$")
	cmd.Env = append(os.Environ(), "SEAL_ENGINE_CHILD="+killed, "SEAL_ENGINE_SPEC="+string(js))
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	committed := map[int64]bool{}
	for sc.Scan() {
		if id, err := strconv.ParseInt(strings.TrimPrefix(sc.Text(), "committed "), 10, 64); err == nil {
			committed[id] = true
			if len(committed) == 8 {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
	}
	cmd.Wait()
	if len(committed) != 8 {
		t.Fatalf("the child committed %d candidates before it ended", len(committed))
	}
	db, err := store.Open(killed)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, _ := db.Runs(store.RunFilter{})
	before, _ := db.Candidates(runs[0].ID, false)
	for id := range committed {
		found := false
		for _, c := range before {
			found = found || c.ID == id
		}
		if !found {
			t.Errorf("candidate %d was reported committed but is not in the store after the kill", id)
		}
	}
	r2, err := engine.New(db, llamatest.Backend()).Resume(context.Background(), runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	ev := collect(t, r2)
	if !ev["run_started"][0].(engine.RunStarted).Resumed {
		t.Error("resumed run does not say so")
	}
	after, _ := db.Candidates(runs[0].ID, false)
	if len(after) != len(want) {
		t.Fatalf("%d candidates after resume, an uninterrupted run has %d", len(after), len(want))
	}
	if len(ev["reward"]) != len(want)-len(before) {
		t.Errorf("resume committed %d candidates, want the %d missing ones", len(ev["reward"]), len(want)-len(before))
	}
	key := func(c store.Candidate) string { return fmt.Sprint(c.Round, c.Task, c.Index) }
	byKey := map[string]store.Candidate{}
	for _, c := range want {
		byKey[key(c)] = c
	}
	for _, c := range after {
		w := byKey[key(c)]
		if c.Edit != w.Edit || c.AdaptedScore != w.AdaptedScore || c.Reward != w.Reward {
			t.Errorf("candidate %s differs from the uninterrupted run: %q %.3f vs %q %.3f", key(c), c.Edit, c.Reward, w.Edit, w.Reward)
		}
	}
}

// TestChildRun is the process TestResumeAfterKill kills.
func TestChildRun(t *testing.T) {
	path := os.Getenv("SEAL_ENGINE_CHILD")
	if path == "" {
		t.Skip("only runs as the child of TestResumeAfterKill")
	}
	var spec engine.RunSpec
	json.Unmarshal([]byte(os.Getenv("SEAL_ENGINE_SPEC")), &spec)
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	for ev := range r.Events() {
		if rw, ok := ev.(engine.Reward); ok {
			fmt.Printf("committed %d\n", rw.CandidateID) // after the store's commit returned
		}
	}
	time.Sleep(time.Minute) // wait to be killed
}

func TestReviewGatePauseAndCancel(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	spec := smallSpec(f)
	spec.Tasks, spec.K, spec.Rounds, spec.Baselines, spec.ReviewGate = 1, 2, 1, false, true
	r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	var asked []int64
	for ev := range r.Events() {
		if nr, ok := ev.(engine.NeedsReview); ok {
			asked = append(asked, nr.CandidateID)
			if len(asked) == 2 {
				if err := r.Review(asked[0], "reject", "", ""); err == nil {
					t.Error("a rejection without a reason was accepted")
				}
				if err := r.Review(asked[0], "reject", "names a wrong founder", ""); err != nil {
					t.Error(err)
				}
				if err := r.Review(asked[1], "approve", "", "Varn lies on the Ossa."); err != nil {
					t.Error(err)
				}
			}
		}
	}
	if err := r.Wait(); err != nil {
		t.Fatal(err)
	}
	reviews, _ := db.LatestReviews(r.ID)
	if reviews[asked[0]].Verdict != "reject" || reviews[asked[1]].Verdict != "approve" || reviews[asked[1]].Edited == "" {
		t.Errorf("reviews stored: %+v", reviews)
	}
	rounds, _ := db.Rounds(r.ID)
	if len(rounds) != 1 || rounds[0].Kept != 1 {
		t.Errorf("the round should keep only the approved edit: %+v", rounds)
	}

	// Pause holds the run; cancel ends it as cancelled and it can be resumed to the end.
	spec.ReviewGate = false
	spec.Tasks, spec.K = 3, 2
	r, _ = engine.New(db, llamatest.Backend()).Start(context.Background(), spec)
	r.Pause()
	sawPause := false
	for ev := range r.Events() {
		if s, ok := ev.(engine.Status); ok && s.Status == store.StatusPaused {
			sawPause = true
			r.Cancel()
		}
	}
	if !sawPause {
		t.Error("no paused status event")
	}
	run, _ := db.Run(r.ID)
	if run.Status != store.StatusCancelled {
		t.Errorf("status %s after cancel", run.Status)
	}
	r, err = engine.New(db, llamatest.Backend()).Resume(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	collect(t, r)
	if run, _ = db.Run(r.ID); run.Status != store.StatusDone {
		t.Errorf("status %s after resume", run.Status)
	}
}

func TestContinualAndCPT(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	spec := smallSpec(f)
	spec.Mode = "continual"
	r, _ := engine.New(db, llamatest.Backend()).Start(context.Background(), spec)
	ev := collect(t, r)
	cells, _ := db.Retention(r.ID)
	// Row 0 has every passage; after step k the passages 0..k-1: 3 + 1 + 2 + 3.
	if len(cells) != 9 || len(ev["retention"]) != 9 {
		t.Errorf("%d retention cells stored and %d events, want 9", len(cells), len(ev["retention"]))
	}
	cands, err := db.Candidates(r.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if checkGrounding(t, db, r.ID, cands) == 0 {
		t.Error("no continual self-edit has a grounding share")
	}
	spec.Mode = "cpt"
	spec.K = 2
	r, _ = engine.New(db, llamatest.Backend()).Start(context.Background(), spec)
	collect(t, r)
	if cands, err = db.Candidates(r.ID, false); err != nil {
		t.Fatal(err)
	}
	if checkGrounding(t, db, r.ID, cands) == 0 {
		t.Error("no CPT self-edit has a grounding share")
	}
	ms, _ := db.Metrics(r.ID)
	if len(ms) != 2 {
		t.Errorf("CPT metrics: %+v", ms)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	spec := smallSpec(f)
	spec.K = 0
	if _, err := engine.New(db, llamatest.Backend()).Start(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "--k 0 is out of range") {
		t.Errorf("k = 0: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`[{"title": "x", "context": "y", "questions": [`), 0o644)
	spec = smallSpec(f)
	spec.Data = bad
	r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	for range r.Events() {
	}
	if err := r.Wait(); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("malformed data: %v", err)
	}
	if run, _ := db.Run(r.ID); run.Status != store.StatusFailed || !strings.Contains(run.Error, "bad.json") {
		t.Errorf("failed run stored as %s: %q", run.Status, run.Error)
	}
}

// TestEngineNeedsABackend: the engine never builds a backend; without one it refuses to
// start a run rather than choose a device itself.
func TestEngineNeedsABackend(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := engine.New(db, nil).Start(context.Background(), smallSpec(f)); err == nil || !strings.Contains(err.Error(), "no compute backend") {
		t.Errorf("Start without a backend: %v", err)
	}
}
