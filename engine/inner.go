package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"seal/engine/knowledge"
	"seal/models/llama"
	"seal/models/lora"
	"seal/models/train"
	"seal/store"
)

// example turns a text into a training example: prompt tokens (not in the loss, may be
// empty) followed by the completion and EOS (in the loss).
func (x *runner) example(prompt, completion string) train.Example {
	return x.lm.example(prompt, completion)
}

func (l *lm) example(prompt, completion string) train.Example {
	p := l.encode(prompt)
	var c []int32
	if prompt == "" { // the whole text is the completion (BOS included, as tokenizer(text) gives)
		c = l.encode(completion)
		p = nil
	} else {
		full := l.encode(prompt + completion)
		c = full[min(len(p), len(full)):]
	}
	toks := append(append(append([]int32(nil), p...), c...), l.eos[0])
	mask := make([]bool, len(toks))
	for i := len(p); i < len(toks); i++ {
		mask[i] = true
	}
	return train.Example{Tokens: toks, LossMask: mask}
}

// Fit is one LoRA training: the recipe, its examples and seed, and where its steps
// are reported (phase names the loss curve: "inner", "policy", "continual", "cpt").
type Fit struct {
	Recipe   Update
	Examples []train.Example
	Seed     uint64
	Phase    string
	Where    Where
}

// trainLoRA trains a fresh adapter on the current weights and leaves it attached.
// Padding never counts in the loss (the reference trains on ~2,000 EOS pads per
// sequence; this is a deliberate fix). The schedule is linear with no warmup, AdamW
// with weight decay 0 and clipping at 1.0, reshuffled each epoch: the HF Trainer's
// defaults that the reference relies on.
func (x *runner) trainLoRA(f Fit) (*lora.Adapter, []store.TrainPoint, error) {
	return trainLoRA(x.ctx, x.lm, f, x.r.send)
}

func trainLoRA(ctx context.Context, l *lm, f Fit, send func(Event)) (*lora.Adapter, []store.TrainPoint, error) {
	u := f.Recipe
	var curve []store.TrainPoint
	a, _, err := l.model.TrainFreshLoRA(ctx, llama.FreshLoRA{
		Config: &lora.Config{Rank: u.Rank, Alpha: u.Alpha, Dropout: u.Dropout, TargetModules: u.Targets},
		Seed:   f.Seed, Stream: 0x5ea1, Examples: f.Examples,
		Fit: llama.FitConfig{LR: u.LR, Epochs: u.Epochs, Batch: u.Batch, Seed: f.Seed, Pad: l.eos[0],
			OnStep: func(p llama.FitStep) {
				curve = append(curve, store.TrainPoint{Step: p.Step, Loss: p.Loss, LR: p.LR})
				send(TrainStep{Where: f.Where, Phase: f.Phase, Step: p.Step, Steps: p.Steps, Loss: p.Loss, LR: p.LR})
			}},
	})
	if err != nil {
		return nil, curve, err
	}
	return a, curve, nil
}

// evalOptions are one closed-book (or in-context) pass over a passage's questions: how many
// answer tokens, and the phase and repeat its graded answers are reported under.
type evalOptions struct {
	InContext bool
	QATokens  int
	Phase     string
	Repeat    int
	Where     Where
}

// evaluate answers a passage's questions closed-book (or with the passage in context)
// with the model as it is now, greedy, and grades them.
func (x *runner) evaluate(p knowledge.Passage, inContext bool, phase string, repeat int, w Where) (knowledge.Score, []store.EvalItem, error) {
	return evaluate(x.ctx, x.lm, x.grader, p, evalOptions{InContext: inContext, QATokens: x.spec.QATokens, Phase: phase, Repeat: repeat, Where: w}, x.r.send)
}

func evaluate(ctx context.Context, l *lm, g knowledge.Grader, p knowledge.Passage, o evalOptions, send func(Event)) (knowledge.Score, []store.EvalItem, error) {
	prompts := make([]string, len(p.Questions))
	for i, q := range p.Questions {
		if o.InContext {
			prompts[i] = knowledge.InContextPrompt(p, q)
		} else {
			prompts[i] = knowledge.QAPrompt(p, q)
		}
	}
	gens, err := l.generate(ctx, prompts, 1, o.QATokens, llama.SampleConfig{}, nil)
	if err != nil {
		return knowledge.Score{}, nil, err
	}
	var s knowledge.Score
	var items []store.EvalItem
	for i, gen := range gens {
		q := p.Questions[i]
		grade, err := g.Grade(ctx, q, p.Title, gen.Text)
		if err != nil {
			return knowledge.Score{}, nil, fmt.Errorf("grading: %w", err)
		}
		s.Total++
		if grade.Correct {
			s.Correct++
		}
		items = append(items, store.EvalItem{Repeat: o.Repeat, Question: i, Prompt: prompts[i], Text: gen.Text, Gold: q.Answer,
			Correct: grade.Correct, Score: grade.F1, Grader: grade.Grader})
		send(EvalItem{Where: o.Where, Phase: o.Phase, Repeat: o.Repeat, Question: q.Question, Answer: gen.Text, Gold: q.Answer, Correct: grade.Correct})
	}
	return s, items, nil
}

// innerJob describes the inner loop of one candidate (at: its round, task and index)
// on the current policy; fixed marks the domain's fixed-edit baseline.
func (x *runner) innerJob(at Where, phase, edit string, fixed bool, seed uint64) (InnerJob, error) {
	p, err := x.dom.Payload(x.spec, x.tasks[at.Task], edit, fixed)
	if err != nil {
		return InnerJob{}, err
	}
	return x.jobWith(at, phase, p, seed)
}

// jobWith is innerJob with the domain's payload already made.
func (x *runner) jobWith(at Where, phase string, p any, seed uint64) (InnerJob, error) {
	payload, err := json.Marshal(p)
	if err != nil {
		return InnerJob{}, err
	}
	return InnerJob{ID: JobID(x.r.ID, at.Round, at.Task, at.Cand), Run: x.r.ID, Round: at.Round, Task: at.Task, Cand: at.Cand, Phase: phase,
		Domain: x.spec.Domain, Payload: payload, Model: x.version, Inner: x.spec.Inner, Repeats: x.spec.Repeats, Seed: seed,
		QATokens: x.spec.QATokens, Grader: x.spec.graderSettings()}, nil
}

// runJobs runs a batch of inner loops on the run's executor and hands each result to
// done as soon as it arrives, in job order; a job that failed fails the run, naming
// the job.
func (x *runner) runJobs(jobs []InnerJob, done func(i int, r InnerResult) error) error {
	got := 0
	_, err := x.exec.Run(x.ctx, jobs, x.r.send, func(i int, r InnerResult) error {
		switch {
		case i != got || i >= len(jobs):
			return fmt.Errorf("executor returned result %d of %d out of order (expected %d)", i, len(jobs), got)
		case r.JobID != jobs[i].ID:
			return fmt.Errorf("executor returned result %s in the place of job %s", r.JobID, jobs[i].ID)
		case r.Err != "":
			return fmt.Errorf("job %s (worker %s): %s", r.JobID, r.Worker, r.Err)
		}
		got++
		return done(i, r)
	})
	if err == nil && got != len(jobs) {
		err = fmt.Errorf("executor returned %d results for %d jobs", got, len(jobs))
	}
	return err
}

// saveAdapter writes an adapter under the run's folder and returns its path and the
// content hash of its weights.
func (x *runner) saveAdapter(a *lora.Adapter, name string) (string, string, error) {
	dir := x.e.adapterDir(x.r.ID, name)
	if err := a.Save(dir); err != nil {
		return "", "", err
	}
	h, err := hashFile(filepath.Join(dir, "adapter_model.safetensors"))
	return dir, h, err
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
