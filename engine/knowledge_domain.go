package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"seal/engine/grounding"
	"seal/engine/knowledge"
	"seal/engine/knowledge/world"
	"seal/models/llama"
	"seal/models/train"
	"seal/store"
)

// knowledgeDomain is knowledge incorporation: a passage is the task, the self-edit is
// text derived from it (implications, rewrites, ...), the inner loop trains on that
// text and answers the passage's questions closed-book.
type knowledgeDomain struct{}

// passageTask is a passage with its key in the data file (its index there).
type passageTask struct {
	knowledge.Passage
	key string
}

func (p passageTask) Row() store.Task {
	qs := make([]store.QA, len(p.Questions))
	for j, q := range p.Questions {
		qs[j] = store.QA{Question: q.Question, Answer: q.Answer}
	}
	return store.Task{Key: p.key, Title: p.Title, Context: p.Context, Questions: qs}
}

func (knowledgeDomain) Info() DomainInfo {
	return DomainInfo{Name: "knowledge", Help: "SQuAD-style passages", Noun: "passage", Display: DisplayText, Launcher: true,
		Modes: []string{"restem", "continual", "cpt"}, ProbesFromData: true, PolicyReadsTask: true, DefaultData: worldValFile,
		DefaultSplits: map[string]func(Cache) (string, error){"val": worldValFile, "test": worldSplitFile(world.Test)},
		RLData:        true, DefaultRLData: worldSplitFile(world.Train)}
}

// worldValFile writes the held-out split of the default world (the one the embedded
// model was pretrained on, so it never saw these passages) as SQuAD JSON, once.
func worldValFile(cache Cache) (string, error) { return worldSplitFile(world.Val)(cache) }

// worldSplitFile writes one split of the default world as SQuAD JSON, once: val and
// test are held out of pretraining (val for tuning, test for the table); train is
// where the RL passages of a run on the default data come from.
func worldSplitFile(s world.Split) func(Cache) (string, error) {
	return func(cache Cache) (string, error) {
		return cache(fmt.Sprintf("world-v%d-seed1-%s.json", world.Version, s), func(tmp string) error {
			return world.WriteSQuAD(tmp, world.Generate(world.DefaultConfig()).Passages(s))
		})
	}
}

func (knowledgeDomain) Check(s RunSpec) error {
	_, err := knowledge.ParseStyle(s.Style)
	return err
}

func (knowledgeDomain) Load(m *Model, s RunSpec, from TaskSlice) ([]Task, error) {
	return readPassages(m.lm, s, from)
}

// FromRows: the stored passages are the run's own (the data file may be gone).
func (knowledgeDomain) FromRows(rows []store.Task) []Task {
	out := make([]Task, len(rows))
	for i, r := range rows {
		p := knowledge.Passage{Title: r.Title, Context: r.Context}
		for _, q := range r.Questions {
			p.Questions = append(p.Questions, knowledge.Question{Question: q.Question, Answer: q.Answer})
		}
		out[i] = passageTask{Passage: p, key: r.Key}
	}
	return out
}

func (knowledgeDomain) SelfEditPrompt(s RunSpec, t Task) (string, error) {
	style, err := knowledge.ParseStyle(s.Style)
	if err != nil {
		return "", err
	}
	return knowledge.SelfEditPrompt(style, t.(passageTask).Passage), nil
}

// Grounding reads the edit against the passage as the policy saw it: title and text.
func (knowledgeDomain) Grounding(t Task, edit string) float64 {
	p := t.(passageTask)
	return grounding.Share(p.Title+"\n"+p.Context, edit)
}

// Payload: the fixed baseline trains on the passage alone, one sequence per line.
func (knowledgeDomain) Payload(s RunSpec, t Task, edit string, fixed bool) (any, error) {
	return KnowledgeJob{Passage: t.(passageTask).Passage, Edit: edit, Split: fixed || s.Split}, nil
}

func (knowledgeDomain) CheckJob(j InnerJob) error {
	k, err := knowledgePayload(j)
	if err != nil {
		return err
	}
	switch {
	case k.PassageRepeats < 0 || k.PassageRepeats > maxPassageRepeats:
		return fmt.Errorf("job %s: passage_repeats %d is out of range: want 0 to %d", j.ID, k.PassageRepeats, maxPassageRepeats)
	case k.PassageRepeats > 1 && k.Edit != "":
		return fmt.Errorf("job %s: passage_repeats %d with an edit: the repeated passage is trained alone", j.ID, k.PassageRepeats)
	}
	return k.Passage.Validate()
}

func knowledgePayload(j InnerJob) (KnowledgeJob, error) {
	var k KnowledgeJob
	if len(j.Payload) == 0 {
		return k, fmt.Errorf("job %s: domain knowledge without a knowledge payload", j.ID)
	}
	if err := json.Unmarshal(j.Payload, &k); err != nil {
		return k, fmt.Errorf("job %s: knowledge payload: %w", j.ID, err)
	}
	return k, nil
}

// RunJob trains on the edit's sequences Repeats times, each with a fresh adapter and
// seed, and answers the passage's questions closed-book after each.
func (knowledgeDomain) RunJob(ctx context.Context, m *Model, job InnerJob, at Sink) (InnerResult, error) {
	res := InnerResult{JobID: job.ID}
	k, err := knowledgePayload(job)
	if err != nil {
		return res, err
	}
	seqs := knowledge.TrainSequences(k.Edit, k.Passage, k.Split)
	if k.PassageRepeats > 1 {
		seqs = knowledge.RepeatedPassage(k.Passage, k.PassageRepeats)
	}
	var examples []train.Example
	for _, s := range seqs {
		examples = append(examples, m.Example("", s))
	}
	for rep := 0; rep < job.Repeats; rep++ {
		curve, err := m.Train(ctx, Fit{Recipe: job.Inner, Examples: examples, Seed: job.Seed + uint64(rep)*0x9e37, Phase: "inner", Where: at.Where}, at.Send)
		if d := (*llama.DivergedError)(nil); errors.As(err, &d) {
			// A diverged update is the edit's (or its recipe's) failure, not the run's:
			// the candidate is invalid with the reason, and nothing is graded.
			m.Detach()
			return InnerResult{JobID: job.ID, Reason: err.Error(), Accs: []float64{0}, Curve: curve}, nil
		}
		if err != nil {
			m.Detach()
			return res, err
		}
		s, items, err := evaluate(ctx, m.lm, m.grader, k.Passage, evalOptions{QATokens: job.QATokens, Phase: job.Phase, Repeat: rep, Where: at.Where}, at.Send)
		m.Detach()
		if err != nil {
			return res, err
		}
		if rep == 0 {
			res.Curve = curve
		}
		res.Evals = append(res.Evals, items...)
		res.Accs = append(res.Accs, s.Accuracy())
	}
	return res, nil
}

// Reward is the gain over no update.
func (knowledgeDomain) Reward(adapted, base float64) float64 { return adapted - base }

// Base is closed-book accuracy with the weights as they are.
func (knowledgeDomain) Base(ctx context.Context, m *Model, c Scoring) (float64, []store.EvalItem, error) {
	sc, items, err := evaluate(ctx, m.lm, m.grader, c.Task.(passageTask).Passage, evalOptions{QATokens: c.Spec.QATokens, Phase: "base", Where: c.At.Where}, c.At.Send)
	return sc.Accuracy(), items, err
}

// FixedEdit: no edit, the passage alone is trained on.
func (knowledgeDomain) FixedEdit(RunSpec) (string, string) { return "baseline_passage", "" }

// OwnBaseline is the passage in the prompt, no training.
func (d knowledgeDomain) OwnBaseline(ctx context.Context, m *Model, c Scoring) (store.Candidate, error) {
	sc, items, err := evaluate(ctx, m.lm, m.grader, c.Task.(passageTask).Passage, evalOptions{InContext: true, QATokens: c.Spec.QATokens, Phase: "context", Where: c.At.Where}, c.At.Send)
	return store.Candidate{Kind: "baseline_context", AdaptedScore: sc.Accuracy(), Reward: d.Reward(sc.Accuracy(), c.Base), Evals: items}, err
}

// Sequences: one per edit line plus the passage (knowledge.TrainSequences).
func (knowledgeDomain) Sequences(s RunSpec, t Task, edit string) int {
	return len(knowledge.TrainSequences(edit, t.(passageTask).Passage, s.Split))
}

// WrittenEdit is the synthetic world's written implications of the passage, as a
// numbered list; "" for a passage the world does not have.
func (knowledgeDomain) WrittenEdit(t Task) string {
	imps, err := worldImplications(t.(passageTask).Passage)
	if err != nil {
		return ""
	}
	return world.NumberedList(imps)
}

// RepeatedPayload trains on the passage alone, n times over.
func (knowledgeDomain) RepeatedPayload(s RunSpec, t Task, n int) (any, error) {
	return KnowledgeJob{Passage: t.(passageTask).Passage, Split: true, PassageRepeats: n}, nil
}
