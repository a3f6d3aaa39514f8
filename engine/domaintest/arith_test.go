// Package domaintest proves that a SEAL domain is one type and one registration: a
// third domain, arithmetic facts, lives only in this folder and runs through ReST-EM,
// the job path (in-process and on a worker), the store and the live view's replay.
package domaintest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"seal/engine"
	"seal/models/train"
	"seal/store"
)

// The one line that adds the domain.
func init() { engine.RegisterDomain(arith{}) }

// arith is arithmetic facts: a task is a sum ("7 plus 5 is 12"), the self-edit is text
// the policy writes about it, the inner loop trains on that text and asks the sum.
type arith struct{}

// fact is one sum.
type fact struct{ A, B int }

func (f fact) text() string     { return fmt.Sprintf("%d plus %d is %d.", f.A, f.B, f.A+f.B) }
func (f fact) question() string { return fmt.Sprintf("What is %d plus %d?", f.A, f.B) }
func (f fact) answer() string   { return fmt.Sprint(f.A + f.B) }

func (f fact) Row() store.Task {
	return store.Task{Key: fmt.Sprintf("%d+%d", f.A, f.B), Title: fmt.Sprintf("%d plus %d", f.A, f.B), Context: f.text(),
		Questions: []store.QA{{Question: f.question(), Answer: f.answer()}}}
}

// payload is the domain's part of a job.
type payload struct {
	Fact fact   `json:"fact"`
	Edit string `json:"edit"`
}

func (arith) Info() engine.DomainInfo {
	return engine.DomainInfo{Name: "arith", Help: "arithmetic facts", Noun: "fact", Display: engine.DisplayText, Modes: []string{"restem"}}
}

func (arith) Check(s engine.RunSpec) error { return nil }

// Load reads a JSON list of [a, b] pairs.
func (arith) Load(m *engine.Model, s engine.RunSpec, from engine.TaskSlice) ([]engine.Task, error) {
	b, err := os.ReadFile(from.File)
	if err != nil {
		return nil, err
	}
	var pairs [][2]int
	if err := json.Unmarshal(b, &pairs); err != nil {
		return nil, fmt.Errorf("%s: %w", from.Name(), err)
	}
	if err := from.Within(len(pairs), "facts"); err != nil {
		return nil, err
	}
	var out []engine.Task
	for _, p := range pairs[from.Offset:from.End(len(pairs))] {
		out = append(out, fact{p[0], p[1]})
	}
	return out, nil
}

func (arith) FromRows(rows []store.Task) []engine.Task {
	out := make([]engine.Task, len(rows))
	for i, r := range rows {
		var f fact
		fmt.Sscanf(r.Key, "%d+%d", &f.A, &f.B)
		out[i] = f
	}
	return out
}

func (arith) SelfEditPrompt(s engine.RunSpec, t engine.Task) (string, error) {
	return "Fact: " + t.(fact).text() + "\nSay it again:\n", nil
}

func (arith) Payload(s engine.RunSpec, t engine.Task, edit string, fixed bool) (any, error) {
	return payload{Fact: t.(fact), Edit: edit}, nil
}

func decode(j engine.InnerJob) (payload, error) {
	var p payload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return p, fmt.Errorf("job %s: arith payload: %w", j.ID, err)
	}
	return p, nil
}

func (arith) CheckJob(j engine.InnerJob) error {
	_, err := decode(j)
	return err
}

// RunJob trains on the edit (the fact itself when there is none) and asks the sum.
func (arith) RunJob(ctx context.Context, m *engine.Model, j engine.InnerJob, at engine.Sink) (engine.InnerResult, error) {
	res := engine.InnerResult{JobID: j.ID}
	p, err := decode(j)
	if err != nil {
		return res, err
	}
	text := p.Edit
	if text == "" {
		text = p.Fact.text()
	}
	examples := []train.Example{m.Example("", text)}
	for rep := range j.Repeats {
		curve, err := m.Train(ctx, engine.Fit{Recipe: j.Inner, Examples: examples, Seed: j.Seed + uint64(rep), Phase: "inner", Where: at.Where}, at.Send)
		if err != nil {
			m.Detach()
			return res, err
		}
		acc, items, err := ask(ctx, m, p.Fact, question{tokens: j.QATokens, phase: j.Phase, repeat: rep}, at)
		m.Detach()
		if err != nil {
			return res, err
		}
		if rep == 0 {
			res.Curve = curve
		}
		res.Evals, res.Accs = append(res.Evals, items...), append(res.Accs, acc)
	}
	return res, nil
}

// question is how a fact's question is put: after some text (or none), with a token
// budget for the answer, reported under phase and repeat.
type question struct {
	before string
	tokens int
	phase  string
	repeat int
}

// ask puts the question and grades the answer by containment.
func ask(ctx context.Context, m *engine.Model, f fact, q question, at engine.Sink) (float64, []store.EvalItem, error) {
	prompt := q.before + f.question() + "\nAnswer:"
	got, err := m.Answer(ctx, []string{prompt}, q.tokens)
	if err != nil {
		return 0, nil, err
	}
	correct := strings.Contains(got[0], f.answer())
	score := 0.0
	if correct {
		score = 1
	}
	at.Send(engine.EvalItem{Where: at.Where, Phase: q.phase, Repeat: q.repeat, Question: f.question(), Answer: got[0], Gold: f.answer(), Correct: correct})
	return score, []store.EvalItem{{Repeat: q.repeat, Prompt: prompt, Text: got[0], Gold: f.answer(), Correct: correct, Score: score, Grader: "contains"}}, nil
}

func (arith) Reward(adapted, base float64) float64 { return adapted - base }

func (arith) Base(ctx context.Context, m *engine.Model, c engine.Scoring) (float64, []store.EvalItem, error) {
	return ask(ctx, m, c.Task.(fact), question{tokens: c.Spec.QATokens, phase: "base"}, c.At)
}

func (arith) FixedEdit(engine.RunSpec) (string, string) { return "baseline_fact", "" }

// OwnBaseline is the fact in the prompt, no training.
func (d arith) OwnBaseline(ctx context.Context, m *engine.Model, c engine.Scoring) (store.Candidate, error) {
	f := c.Task.(fact)
	acc, items, err := ask(ctx, m, f, question{before: f.text() + "\n", tokens: c.Spec.QATokens, phase: "context"}, c.At)
	return store.Candidate{Kind: "baseline_context", AdaptedScore: acc, Reward: d.Reward(acc, c.Base), Evals: items}, err
}
