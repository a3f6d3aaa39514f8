package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
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
	p := x.lm.encode(prompt)
	var c []int32
	if prompt == "" {
		c = p
		p = nil
	} else {
		full := x.lm.encode(prompt + completion)
		c = full[min(len(p), len(full)):]
	}
	toks := append(append(append([]int32(nil), p...), c...), x.lm.eos[0])
	mask := make([]bool, len(toks))
	for i := len(p); i < len(toks); i++ {
		mask[i] = true
	}
	return train.Example{Tokens: toks, LossMask: mask}
}

// trainLoRA trains a fresh adapter on the current weights and leaves it attached.
// Padding never counts in the loss (the reference trains on ~2,000 EOS pads per
// sequence; this is a deliberate fix). The schedule is linear with no warmup, AdamW
// with weight decay 0 and clipping at 1.0, reshuffled each epoch: the HF Trainer's
// defaults that the reference relies on.
func (x *runner) trainLoRA(u Update, examples []train.Example, seed uint64, phase string, w Where) (*lora.Adapter, []store.TrainPoint, error) {
	m := x.lm.model
	c := m.Config
	cfg := &lora.Config{Rank: u.Rank, Alpha: u.Alpha, Dropout: u.Dropout, TargetModules: u.Targets}
	a, err := lora.New(cfg, c.NumLayers, llama.Projections, c.ProjectionShape, rand.New(rand.NewPCG(seed, 0x5ea1)))
	if err != nil {
		return nil, nil, err
	}
	if err := m.SetAdapter(a); err != nil {
		return nil, nil, err
	}
	var curve []store.TrainPoint
	_, err = m.FitLoRA(x.ctx, examples, llama.FitConfig{LR: u.LR, Epochs: u.Epochs, Batch: u.Batch, Seed: seed, Pad: x.lm.eos[0],
		OnStep: func(p llama.FitStep) {
			curve = append(curve, store.TrainPoint{Step: p.Step, Loss: p.Loss, LR: p.LR})
			x.r.send(TrainStep{Where: w, Phase: phase, Step: p.Step, Steps: p.Steps, Loss: p.Loss, LR: p.LR})
		}})
	if err != nil {
		return nil, nil, err
	}
	return a, curve, nil
}

// evaluate answers a passage's questions closed-book (or with the passage in context)
// with the model as it is now, greedy, and grades them.
func (x *runner) evaluate(p knowledge.Passage, inContext bool, phase string, repeat int, w Where) (knowledge.Score, []store.EvalItem, error) {
	prompts := make([]string, len(p.Questions))
	for i, q := range p.Questions {
		if inContext {
			prompts[i] = knowledge.InContextPrompt(p, q)
		} else {
			prompts[i] = knowledge.QAPrompt(p, q)
		}
	}
	gens, err := x.lm.generate(x.ctx, prompts, 1, x.spec.QATokens, llama.SampleConfig{}, nil)
	if err != nil {
		return knowledge.Score{}, nil, err
	}
	var s knowledge.Score
	var items []store.EvalItem
	for i, g := range gens {
		q := p.Questions[i]
		grade, err := x.grader.Grade(x.ctx, q, p.Title, g.Text)
		if err != nil {
			return knowledge.Score{}, nil, fmt.Errorf("grading: %w", err)
		}
		s.Total++
		if grade.Correct {
			s.Correct++
		}
		items = append(items, store.EvalItem{Repeat: repeat, Question: i, Prompt: prompts[i], Text: g.Text, Gold: q.Answer,
			Correct: grade.Correct, Score: grade.F1, Grader: grade.Grader})
		x.r.send(EvalItem{Where: w, Phase: phase, Repeat: repeat, Question: q.Question, Answer: g.Text, Gold: q.Answer, Correct: grade.Correct})
	}
	return s, items, nil
}

// innerLoop applies one self-edit (Repeats times, each with a fresh adapter and seed)
// and returns the adapted accuracies. It leaves the weights as it found them.
func (x *runner) innerLoop(p knowledge.Passage, edit string, split bool, seed uint64, phase string, w Where, c *store.Candidate) ([]float64, error) {
	var examples []train.Example
	for _, s := range knowledge.TrainSequences(edit, p, split) {
		examples = append(examples, x.example("", s))
	}
	var accs []float64
	for rep := 0; rep < x.spec.Repeats; rep++ {
		_, curve, err := x.trainLoRA(x.spec.Inner, examples, seed+uint64(rep)*0x9e37, "inner", w)
		if err != nil {
			x.lm.model.SetAdapter(nil)
			return nil, err
		}
		s, items, err := x.evaluate(p, false, phase, rep, w)
		x.lm.model.SetAdapter(nil)
		if err != nil {
			return nil, err
		}
		if rep == 0 {
			c.Curve = curve
		}
		c.Evals = append(c.Evals, items...)
		accs = append(accs, s.Accuracy())
	}
	return accs, nil
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
