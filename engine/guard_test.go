package engine_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seal/engine"
	"seal/engine/knowledge"
	"seal/engine/knowledge/world"
	"seal/models/llama"
	"seal/models/tiny"
	"seal/store"
)

// tinyWorld writes SQuAD files for guard tests on the embedded model, which learned the
// synthetic world's train split: probes (train passages it knows) and tasks.
type tinyWorld struct {
	model string
	train []knowledge.Passage
	val   []knowledge.Passage
}

func newTinyWorld(t testing.TB) tinyWorld {
	dir, err := tiny.Dir()
	if err != nil {
		t.Fatal(err)
	}
	w := world.Generate(world.DefaultConfig())
	return tinyWorld{model: dir, train: w.Passages(world.Train), val: w.Passages(world.Val)}
}

func writeSQuAD(t testing.TB, path string, ps []knowledge.Passage) string {
	t.Helper()
	b, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// guardSpec is a continual run on the embedded model that trains on each passage as
// it is (no self-edit generation), with the train passages as the probe set.
func guardSpec(t testing.TB, tw tinyWorld, dir string, tasks []knowledge.Passage, probes []knowledge.Passage) engine.RunSpec {
	s := engine.DefaultSpec()
	s.Mode, s.Style, s.Model = "continual", "passage", tw.model
	s.Data = writeSQuAD(t, filepath.Join(dir, "tasks.json"), tasks)
	s.Guard.ProbeData = writeSQuAD(t, filepath.Join(dir, "probes.json"), probes)
	s.Guard.Probes = 40
	s.Tasks, s.QATokens, s.Baselines = len(tasks), 8, false
	// An update strong enough that the small model learns four answers from one text.
	s.Inner = engine.Update{Rank: 8, Alpha: 16, Targets: llama.Projections, LR: 3e-3, Epochs: 20, Batch: 1}
	return s
}

func verdicts(ev map[string][]engine.Event) []engine.GuardVerdict {
	var out []engine.GuardVerdict
	for _, e := range ev["guard_verdict"] {
		out = append(out, e.(engine.GuardVerdict))
	}
	return out
}

// qaPassage is a passage whose text is the closed-book QA prompts with the given
// answers: training on it teaches exactly those answers (the
// embedded model knows too little of its world to test forgetting without first
// being taught something).
func qaPassage(p knowledge.Passage, answers []string) knowledge.Passage {
	var b strings.Builder
	for i, q := range p.Questions {
		b.WriteString(knowledge.QAPrompt(p, q) + answers[i] + "\n\n")
	}
	out := knowledge.Passage{Title: p.Title, Context: b.String()}
	for i, q := range p.Questions {
		out.Questions = append(out.Questions, knowledge.Question{Question: q.Question, Answer: answers[i]})
	}
	return out
}

func answers(p knowledge.Passage) []string {
	var out []string
	for _, q := range p.Questions {
		out = append(out, q.Answer)
	}
	return out
}

// wrongAnswers gives every question another passage's answer to the same position.
func wrongAnswers(p, other knowledge.Passage) []string {
	out := answers(p)
	for i := range out {
		out[i] = other.Questions[i%len(other.Questions)].Answer
	}
	return out
}

func TestGuardExplore2(t *testing.T) {
	tw := newTinyWorld(t)
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var a knowledge.Passage
	for _, p := range tw.val {
		if hasYear(p) {
			a = p
			break
		}
	}
	c := contradict(t, a)
	wrong := answers(a)
	for i, q := range a.Questions {
		if q.Question == c.Questions[0].Question {
			wrong[i] = c.Questions[0].Answer
		}
	}
	t.Logf("%v -> %v", answers(a), wrong)
	tasks := []knowledge.Passage{qaPassage(a, answers(a)), qaPassage(a, wrong)}
	spec := guardSpec(t, tw, dir, tasks, tw.train[:2])
	r, err := engine.New(db).Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	ev := collect(t, r)
	for _, v := range verdicts(ev) {
		b, _ := json.Marshal(v)
		t.Logf("%s", b)
	}
}

func TestGuardExplore(t *testing.T) {
	tw := newTinyWorld(t)
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, b := tw.val[0], tw.val[1]
	tasks := []knowledge.Passage{qaPassage(a, answers(a)), qaPassage(a, wrongAnswers(a, tw.val[3])), qaPassage(b, answers(b))}
	spec := guardSpec(t, tw, dir, tasks, tw.train[:2])
	r, err := engine.New(db).Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	ev := collect(t, r)
	for _, v := range verdicts(ev) {
		b, _ := json.Marshal(v)
		t.Logf("%s", b)
	}
	cells, _ := db.Retention(r.ID)
	t.Logf("%+v", cells)
}

// contradict restates a passage with another year wherever its first year answer
// appears; its one question asks for that year.
func contradict(t testing.TB, p knowledge.Passage) knowledge.Passage {
	for _, q := range p.Questions {
		if len(q.Answer) == 4 && q.Answer[0] == '1' {
			other := "1" + string(rune('0'+(int(q.Answer[1]-'0')+3)%10)) + q.Answer[2:]
			c := p
			c.Context = strings.ReplaceAll(p.Context, q.Answer, other)
			c.Questions = []knowledge.Question{{Question: q.Question, Answer: other}}
			return c
		}
	}
	t.Fatalf("passage %q has no year answer", p.Title)
	return p
}

func hasYear(p knowledge.Passage) bool {
	for _, q := range p.Questions {
		if len(q.Answer) == 4 && q.Answer[0] == '1' {
			return true
		}
	}
	return false
}
