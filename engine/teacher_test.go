package engine_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"seal/engine"
	"seal/engine/knowledge"
	"seal/engine/knowledge/world"
	"seal/models/llama"
	"seal/models/llama/llamatest"
	"seal/store"
)

// runToEnd starts spec on a fresh store in dir and returns the run's id, its error
// and the store (closed by the test's cleanup).
func runToEnd(t *testing.T, dir string, spec engine.RunSpec) (*store.DB, int64, error) {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), spec)
	if err != nil {
		return db, 0, err
	}
	for range r.Events() {
	}
	return db, r.ID, r.Wait()
}

func byKind(cands []store.Candidate, kind string) map[int]store.Candidate {
	out := map[int]store.Candidate{}
	for _, c := range cands {
		if c.Kind == kind {
			out[c.Task] = c
		}
	}
	return out
}

func metricsOf(t *testing.T, db *store.DB, id int64) map[string]float64 {
	t.Helper()
	ms, err := db.Metrics(id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, m := range ms {
		out[m.Name] = m.Value
	}
	return out
}

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
		{[]int{2, 3}, 1, 10, 2, 25},       // a tie: the fewer
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

// worldFixture writes the first n passages of the default world's val split.
func worldFixture(t *testing.T, dir string, n int) (fixture, []knowledge.Passage) {
	t.Helper()
	f := newFixture(t, dir)
	ps := world.Generate(world.DefaultConfig()).Passages(world.Val)[:n]
	f.data = filepath.Join(dir, "world.json")
	if err := world.WriteSQuAD(f.data, ps); err != nil {
		t.Fatal(err)
	}
	return f, ps
}

// TestWorldTeacher: --teacher world scores each passage's written implications as a
// teacher candidate, trained as a self-edit is (one sequence per line plus the
// passage), summarized as "teacher", and never kept for the policy update.
func TestWorldTeacher(t *testing.T) {
	dir := t.TempDir()
	f, ps := worldFixture(t, dir, 2)
	spec := smallSpec(f)
	spec.Tasks, spec.K, spec.Rounds, spec.Teacher = 2, 1, 1, engine.TeacherWorld
	db, id, err := runToEnd(t, dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	cands, _ := db.Candidates(id, true)
	teach := byKind(cands, "teacher")
	w := world.Generate(world.DefaultConfig())
	for i, p := range ps {
		c, ok := teach[i]
		if !ok {
			t.Fatalf("passage %d has no teacher candidate", i)
		}
		want := strings.TrimSpace(world.NumberedList(w.Implications(p)))
		if c.Edit != want || c.Status != "done" || c.Round != 0 || c.Index != -5 || string(c.Sampling) != `{"teacher":"world"}` {
			t.Errorf("passage %d: teacher candidate %q (%s, round %d, index %d, %s), want the written implications %q", i, c.Edit, c.Status, c.Round, c.Index, c.Sampling, want)
		}
		steps := llama.FitSteps(len(knowledge.TrainSequences(c.Edit, p, true)), spec.Inner.Batch, spec.Inner.Epochs)
		if len(c.Curve) != steps || len(c.Evals) != len(p.Questions) || c.Reward != c.AdaptedScore-c.BaseScore || c.Grounding == nil {
			t.Errorf("passage %d: teacher trained %d steps (want %d), %d answers graded, reward %g of %g-%g, grounding %v",
				i, len(c.Curve), steps, len(c.Evals), c.Reward, c.AdaptedScore, c.BaseScore, c.Grounding)
		}
	}
	ms := metricsOf(t, db, id)
	if _, ok := ms["teacher"]; !ok {
		t.Errorf("no teacher metric in %v", ms)
	}
	if _, ok := ms["teacher/grounding"]; !ok {
		t.Errorf("no teacher/grounding metric in %v", ms)
	}
	rounds, _ := db.Rounds(id)
	if done := len(byKind(cands, "self_edit")); len(rounds) != 1 || rounds[0].Kept > done {
		t.Errorf("round 0 kept %d edits of %d self-edits: the teacher's are not the policy's", rounds[0].Kept, done)
	}
	var stored engine.RunSpec
	rec, _ := db.Run(id)
	if json.Unmarshal(rec.Config, &stored) != nil || stored.Teacher != engine.TeacherWorld {
		t.Errorf("stored settings %s lack the teacher", rec.Config)
	}

	// A passage the world does not have is an error naming it, before any work.
	g := newFixture(t, t.TempDir())
	spec = smallSpec(g)
	spec.Teacher = engine.TeacherWorld
	_, _, err = runToEnd(t, t.TempDir(), spec)
	if err == nil || !strings.Contains(err.Error(), `"Varn"`) || !strings.Contains(err.Error(), "--teacher world") {
		t.Errorf("a passage the world lacks: %v", err)
	}
}

// fakeOpenAI answers chat completions with reply when the request carries key, and
// counts the requests.
func fakeOpenAI(t *testing.T, key, reply string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		var body struct {
			Model    string `json:"model"`
			Messages []struct{ Content string } `json:"messages"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		switch {
		case r.URL.Path != "/v1/chat/completions" || body.Model != "teacher-7b" || len(body.Messages) != 1 || !strings.Contains(body.Messages[0].Content, "Implications:"):
			http.Error(w, "unexpected request "+r.URL.Path+" "+body.Model, http.StatusBadRequest)
		case r.Header.Get("Authorization") != "Bearer "+key:
			http.Error(w, `{"error":{"message":"invalid key `+r.Header.Get("Authorization")+`"}}`, http.StatusUnauthorized)
		default:
			json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]any{"content": reply}}}})
		}
	}))
	t.Cleanup(s.Close)
	return s, &n
}

// filesHold reports the first file under dir that holds secret.
func filesHold(t *testing.T, dir, secret string) string {
	found := ""
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && found == "" {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), secret) {
				found = p
			}
		}
		return nil
	})
	return found
}

// TestAPITeacher: a teacher behind an OpenAI-compatible API (a fake server here)
// writes one edit per passage with the key from $SEAL_TEACHER_KEY; the edits are
// stored and scored, the teacher named in the run's settings and the candidates, and
// the key is nowhere in the store; a refused key fails the run without showing it.
func TestAPITeacher(t *testing.T) {
	const key = "sk-teacher-0123456789abcdef"
	t.Setenv("SEAL_TEACHER_KEY", key)
	const reply = "1. Varn lies on the river Ossa.\n2. Ilda Mare founded Varn in 1203.\n3. The Tolo Guild works glass in Pemb."
	srv, n := fakeOpenAI(t, key, reply)
	dir := t.TempDir()
	f := newFixture(t, dir)
	spec := smallSpec(f)
	spec.K, spec.Rounds, spec.TeacherURL, spec.TeacherModel = 1, 1, srv.URL+"/v1", "teacher-7b"
	db, id, err := runToEnd(t, dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	cands, _ := db.Candidates(id, true)
	teach := byKind(cands, "teacher")
	if len(teach) != 3 || n.Load() != 3 {
		t.Fatalf("%d teacher candidates from %d requests, want 3 and 3", len(teach), n.Load())
	}
	for task, c := range teach {
		var s map[string]any
		json.Unmarshal(c.Sampling, &s)
		if c.Edit != reply || c.Status != "done" || len(c.Curve) == 0 || len(c.Evals) == 0 || s["teacher"] != "api" || s["model"] != "teacher-7b" {
			t.Errorf("passage %d: teacher candidate %q %s, %d steps, %d answers, settings %s", task, c.Edit, c.Status, len(c.Curve), len(c.Evals), c.Sampling)
		}
		if !strings.Contains(c.Prompt, "Implications:") {
			t.Errorf("passage %d: the teacher was not asked the self-edit prompt: %q", task, c.Prompt)
		}
	}
	rec, _ := db.Run(id)
	if !strings.Contains(string(rec.Config), `"teacher_model":"teacher-7b"`) || !strings.Contains(string(rec.Config), srv.URL) {
		t.Errorf("stored settings %s lack the teacher", rec.Config)
	}
	db.Close()
	if p := filesHold(t, dir, key); p != "" {
		t.Errorf("the teacher's key is stored in %s", p)
	}

	// A key the server refuses (and echoes) fails the run; the key is in no message and
	// no file.
	t.Setenv("SEAL_TEACHER_KEY", key+"-wrong")
	dir2 := t.TempDir()
	_, _, err = runToEnd(t, dir2, spec)
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), key) {
		t.Errorf("refused key: %v", err)
	}
	if p := filesHold(t, dir2, key); p != "" {
		t.Errorf("the refused key is stored in %s", p)
	}
}

// TestDirTeacher: a teacher loaded from a model folder continues the same self-edit
// prompt (given the policy's own weights and greedy decoding it writes exactly the
// policy's greedy self-edit, token for token), and its edits are trained and scored
// as self-edits are.
func TestDirTeacher(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	other, err := llamatest.GoldenFolder(filepath.Join(dir, "teacher"), "llama32_tiny")
	if err != nil {
		t.Fatal(err)
	}
	spec := smallSpec(f)
	spec.K, spec.Rounds, spec.Temp, spec.TeacherDir = 1, 1, 0, other
	db, id, err := runToEnd(t, dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	cands, _ := db.Candidates(id, true)
	teach, own := byKind(cands, "teacher"), byKind(cands, "self_edit")
	if len(teach) != 3 {
		t.Fatalf("%d teacher candidates, want 3", len(teach))
	}
	for task, c := range teach {
		var s map[string]any
		json.Unmarshal(c.Sampling, &s)
		if c.Edit != own[task].Edit || c.Prompt != own[task].Prompt || c.Tokens != own[task].Tokens || s["teacher"] != "dir" || s["dir"] != other {
			t.Errorf("passage %d: teacher wrote %q (%d tokens, settings %s), the policy greedily %q (%d tokens)", task, c.Edit, c.Tokens, c.Sampling, own[task].Edit, own[task].Tokens)
		}
	}
	// At temperature 1 (the tiny model's greedy edits are blank) the teacher writes
	// edits of its own, trained one sequence per line plus the passage, as a self-edit.
	spec.Temp = 1
	db, id, err = runToEnd(t, t.TempDir(), spec)
	if err != nil {
		t.Fatal(err)
	}
	cands, _ = db.Candidates(id, true)
	tasks, _ := db.Tasks(id)
	written := 0
	for task, c := range byKind(cands, "teacher") {
		if c.Edit == "" {
			continue
		}
		written++
		p := knowledge.Passage{Title: tasks[task].Title, Context: tasks[task].Context}
		steps := llama.FitSteps(len(knowledge.TrainSequences(c.Edit, p, spec.Split)), spec.Inner.Batch, spec.Inner.Epochs)
		if c.Status != "done" || c.Tokens == 0 || len(c.Curve) != steps || len(c.Evals) == 0 || c.Reward != c.AdaptedScore-c.BaseScore {
			t.Errorf("passage %d: teacher %s, %d tokens, %d steps (want %d), %d answers, reward %g", task, c.Status, c.Tokens, len(c.Curve), steps, len(c.Evals), c.Reward)
		}
	}
	if written == 0 {
		t.Error("the folder teacher wrote no edit at temperature 1")
	}
	spec.TeacherDir = filepath.Join(dir, "no-such-model")
	if _, _, err := runToEnd(t, t.TempDir(), spec); err == nil || !strings.Contains(err.Error(), "--teacher-dir") || !strings.Contains(err.Error(), "no-such-model") {
		t.Errorf("a missing teacher folder: %v", err)
	}
}

// TestTeacherSettingsRefused: teacher settings that cannot work are refused naming
// the flag, before anything is stored.
func TestTeacherSettingsRefused(t *testing.T) {
	for _, c := range []struct {
		set  func(*engine.RunSpec)
		want string
	}{
		{func(s *engine.RunSpec) { s.Teacher = "gpt" }, `--teacher "gpt" is not "world"`},
		{func(s *engine.RunSpec) { s.Teacher, s.TeacherDir = "world", "/m" }, "give one teacher"},
		{func(s *engine.RunSpec) { s.TeacherModel = "m" }, "--teacher-model \"m\" needs --teacher-url"},
		{func(s *engine.RunSpec) { s.TeacherURL = "https://api.example/v1" }, "--teacher-url needs --teacher-model"},
		{func(s *engine.RunSpec) { s.TeacherURL, s.TeacherModel = "https://bob:pw123456@api.example/v1", "m" }, "SEAL_TEACHER_KEY"},
		{func(s *engine.RunSpec) { s.Teacher, s.Mode = "world", "cpt" }, "--mode cpt"},
		{func(s *engine.RunSpec) { s.Teacher, s.Style = "world", "passage" }, "--style passage"},
		{func(s *engine.RunSpec) { *s = engine.ARCSpec(); s.Model, s.Data, s.Teacher = "m", "d", "world" }, "--domain arc"},
	} {
		s := engine.DefaultSpec()
		s.Model, s.Data = "m", "d"
		c.set(&s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "pw123456") {
			t.Errorf("%+v: %v, want %q", s, err, c.want)
		}
	}
}
