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

// worldTeacherRun runs --teacher world in a style on the default world's first two val
// passages, one self-edit each and one round, and gives the run and its candidates.
func worldTeacherRun(t *testing.T, style string) (*store.DB, int64, engine.RunSpec, []knowledge.Passage, []store.Candidate) {
	t.Helper()
	dir := t.TempDir()
	f, ps := worldFixture(t, dir, 2)
	spec := smallSpec(f)
	spec.Tasks, spec.K, spec.Rounds, spec.Teacher, spec.Style = 2, 1, 1, engine.TeacherWorld, style
	db, id, err := runToEnd(t, dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	cands, err := db.Candidates(id, true)
	if err != nil {
		t.Fatal(err)
	}
	return db, id, spec, ps, cands
}

// TestWorldTeacher: --teacher world scores each passage's written implications as a
// teacher candidate, trained as a self-edit is (one sequence per line plus the
// passage), summarized as "teacher", and never kept for the policy update.
func TestWorldTeacher(t *testing.T) {
	db, id, spec, ps, cands := worldTeacherRun(t, "implications")
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
	_, _, err := runToEnd(t, t.TempDir(), spec)
	if err == nil || !strings.Contains(err.Error(), `"Varn"`) || !strings.Contains(err.Error(), "--teacher world") {
		t.Errorf("a passage the world lacks: %v", err)
	}
}

// TestWorldTeacherSelfQA: with --style self-qa the world teacher writes every fact its
// passage states as question and answer pairs, which train as one sequence per pair,
// and its stored settings name the style.
func TestWorldTeacherSelfQA(t *testing.T) {
	_, _, _, ps, cands := worldTeacherRun(t, "self-qa")
	teach := byKind(cands, "teacher")
	w := world.Generate(world.DefaultConfig())
	for i, p := range ps {
		c := teach[i]
		pairs := w.SelfQA(p)
		if len(pairs) < len(p.Questions) {
			t.Fatalf("passage %d: %d self-qa pairs for %d questions: the pairs ask every fact the passage states", i, len(pairs), len(p.Questions))
		}
		for _, q := range pairs {
			if !strings.Contains(p.Context, q.Answer) {
				t.Errorf("passage %d: the pair %q -> %q answers with what the passage does not say", i, q.Question, q.Answer)
			}
		}
		want := strings.TrimSpace(world.SelfQAList(pairs))
		if c.Edit != want || c.Status != "done" || string(c.Sampling) != `{"teacher":"world","style":"self-qa"}` {
			t.Errorf("passage %d: teacher candidate %q (%s, %s), want the self-qa pairs %q", i, c.Edit, c.Status, c.Sampling, want)
		}
		// The primed prompt wrote "Question 1: "; each pair is its own sequence, then the passage.
		if seqs := knowledge.TrainSequences(c.Edit, p, true); len(seqs) != len(pairs)+1 || !strings.HasPrefix(seqs[0], p.Title+"\nQuestion 1: ") {
			t.Errorf("passage %d: the teacher's pairs train as %q", i, seqs)
		}
	}
}

// fakeOpenAI answers chat completions with reply when the request carries key, and
// counts the requests.
func fakeOpenAI(t *testing.T, key, reply string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		var body struct {
			Model    string                     `json:"model"`
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
		{func(s *engine.RunSpec) { s.Teacher, s.Style = "world", "rewrite" }, "--style rewrite is neither"},
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
