package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"seal/engine"
	"seal/engine/knowledge"
	"seal/engine/knowledge/world"
	"seal/models/llama"
	"seal/models/llama/llamatest"
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
	s.Inner = engine.Update{Rank: 8, Alpha: 16, Targets: llama.Projections, LR: 3e-3, Epochs: 30, Batch: 1}
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

func openDB(t testing.TB, dir string) *store.DB {
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func statuses(t testing.TB, db *store.DB, run int64) []string {
	t.Helper()
	es, err := db.Ledger(run)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Kind+":"+e.Status)
	}
	return out
}

// TestGuardStopsHarmfulEdit: step 0 teaches a passage's answers, step 1 is an edit
// that trains the same questions onto wrong answers (it would destroy what step 0
// taught), step 2 teaches another passage. The guard's retention count rejects step 1
// (review gate off) and lets the normal steps through; the rejected adapter is never
// merged.
func TestGuardStopsHarmfulEdit(t *testing.T) {
	tw := newTinyWorld(t)
	dir := t.TempDir()
	db := openDB(t, dir)
	a, b := tw.val[0], tw.val[1]
	tasks := []knowledge.Passage{qaPassage(a, answers(a)), qaPassage(a, wrongAnswers(a, tw.val[3])), qaPassage(b, answers(b))}
	spec := guardSpec(t, tw, dir, tasks, tw.train[:2])
	// Retention alone judges here (TestGuardHoldsContradiction tests the contradiction
	// count): the probes are the taught questions, since the embedded model answers
	// none of the general set's, which would only add noise; and flips are not counted,
	// since on the embedded model teaching b also moves two of a's five answers (the
	// leader "Anor Thaga", answered at p 0.84, became "Anor Tonor", b's guild being the
	// Tonor Guild), which the contradiction count rightly stops and retention, over five
	// questions, does not count as a drop beyond its noise.
	spec.Guard.Probes, spec.Guard.MaxFlips = 0, 1000
	r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	ev := collect(t, r)
	vs := verdicts(ev)
	if len(vs) != 3 {
		t.Fatalf("%d guard verdicts, want 3", len(vs))
	}
	for i, want := range []string{"pass", "reject", "pass"} {
		r := vs[i].Retention
		t.Logf("step %d: %s, probe accuracy %.3f -> %.3f (noise %.3f, n %d)", i, vs[i].Verdict, r.Before, r.After, r.Noise, r.N)
		if vs[i].Verdict != want {
			t.Errorf("step %d: verdict %s (%v), want %s", i, vs[i].Verdict, vs[i].Reasons, want)
		}
	}
	ret := vs[1].Retention
	if !ret.Dropped || ret.Delta+ret.Noise >= -ret.Margin || ret.N < 2 {
		t.Errorf("harmful step: retention %+v, want a drop beyond margin and noise", ret)
	}
	if got, want := strings.Join(statuses(t, db, r.ID), " "), "base:committed continual:committed continual:rejected continual:committed"; got != want {
		t.Errorf("ledger %s, want %s", got, want)
	}
	es, _ := db.Ledger(r.ID)
	if es[3].Parent != es[1].ID {
		t.Errorf("step 2 builds on version %d, want %d (step 1 was rejected)", es[3].Parent, es[1].ID)
	}
	var g engine.GuardReport
	if err := json.Unmarshal(es[2].Guard, &g); err != nil || !g.Retention.Dropped || es[2].Reason == "" || es[2].Review != "auto" {
		t.Errorf("rejected entry stored as %+v (guard %s, %v)", es[2], es[2].Guard, err)
	}
	// The retention matrix after the rejected step describes the weights without it.
	cells, _ := db.Retention(r.ID)
	acc := map[[2]int]float64{}
	for _, c := range cells {
		acc[[2]int{c.Step, c.Task}] = c.Accuracy
	}
	if acc[[2]int{2, 0}] != acc[[2]int{1, 0}] || acc[[2]int{1, 0}] == 0 {
		t.Errorf("task 0 accuracy after step 0 %.2f, after the rejected step %.2f: want learned and unchanged", acc[[2]int{1, 0}], acc[[2]int{2, 0}])
	}

	// The audit trail reads back exactly as it was written.
	recs, err := engine.Audit(db, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if err := engine.WriteAudit(&buf, recs); err != nil {
		t.Fatal(err)
	}
	back, err := engine.ReadAudit(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(recs, back) || len(back) != 4 {
		t.Errorf("audit round trip: %d records written, %d read, equal %v", len(recs), len(back), reflect.DeepEqual(recs, back))
	}
	if back[2].Status != "rejected" || back[2].Source == "" || len(back[2].Guard) == 0 {
		t.Errorf("audit of the rejected step lacks its input or verdict: %+v", back[2])
	}
}

// TestGuardHoldsContradiction: the model is taught a passage's facts, then given a
// passage that restates them with another trade. The answer it gave
// confidently changes under the trial update, so the change is held for review (the
// review gate is on) with the reason; the person rejects it and it is never applied.
func TestGuardHoldsContradiction(t *testing.T) {
	tw := newTinyWorld(t)
	dir := t.TempDir()
	db := openDB(t, dir)
	var a knowledge.Passage
	for _, p := range tw.val {
		if hasTrade(p) {
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
	tasks := []knowledge.Passage{qaPassage(a, answers(a)), qaPassage(a, wrong)}
	spec := guardSpec(t, tw, dir, tasks, tw.train[:2])
	spec.ReviewGate = true
	// A one-text update leaves the embedded model's answers at 0.5-0.8 mean token
	// probability (the default threshold, 0.8, is for larger models); the probes are the
	// taught passage's questions alone, since at 0.5 the first step already moves
	// general answers the model holds at that confidence.
	spec.Guard.Confident, spec.Guard.Probes = 0.5, 0
	r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	var held []engine.NeedsReview
	var vs []engine.GuardVerdict
	for e := range r.Events() {
		switch e := e.(type) {
		case engine.NeedsReview:
			held = append(held, e)
			go r.Review(e.CandidateID, "reject", "contradicts the trade taught before", "")
		case engine.GuardVerdict:
			vs = append(vs, e)
		}
	}
	if err := r.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].Verdict != "pass" || vs[1].Verdict != "hold" {
		t.Fatalf("verdicts %+v, want pass then hold", vs)
	}
	// The trade question must be among the flips (the update may move another answer of
	// the passage too, as the embedded model's does: the leader's name at p 0.51).
	if !slices.ContainsFunc(vs[1].Flips, func(f engine.Flip) bool {
		return strings.Contains(f.Question, c.Questions[0].Question) && f.Confidence >= spec.Guard.Confident
	}) {
		t.Errorf("flips %+v, want the trade question among them, answered confidently before", vs[1].Flips)
	}
	if len(held) != 1 || !strings.Contains(held[0].Reason, "contradicts") {
		t.Fatalf("needs-review events %+v, want one with the reason", held)
	}
	es, _ := db.Ledger(r.ID)
	if len(es) != 3 || es[2].Status != store.LedgerRejected || es[2].Review != "reject" || es[2].CandidateID != held[0].CandidateID {
		t.Errorf("ledger %+v, want the held step rejected by the review", es)
	}
	if want := fmt.Sprintf("contradicts %d confident answer", len(vs[1].Flips)); !strings.Contains(es[2].Reason, want) || !strings.Contains(es[2].Reason, "review: contradicts the trade") {
		t.Errorf("stored reason %q lacks the reviewer's reason", es[2].Reason)
	}
}

// trades are some of the world's trades: one-word answers a small model learns
// reliably from a single text (a year's digits it often gets one off).
var trades = []string{"tanner", "weaver", "potter", "miller", "dyer", "printer", "brewer", "mason"}

// contradict restates a passage with another trade wherever its first trade answer
// appears; its one question asks for that trade.
func contradict(t testing.TB, p knowledge.Passage) knowledge.Passage {
	for _, q := range p.Questions {
		if i := slices.Index(trades, q.Answer); i >= 0 {
			other := trades[(i+1)%len(trades)]
			c := p
			c.Context = strings.ReplaceAll(p.Context, q.Answer, other)
			c.Questions = []knowledge.Question{{Question: q.Question, Answer: other}}
			return c
		}
	}
	t.Fatalf("passage %q has no trade answer", p.Title)
	return p
}

func hasTrade(p knowledge.Passage) bool {
	for _, q := range p.Questions {
		if slices.Contains(trades, q.Answer) {
			return true
		}
	}
	return false
}
