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
	if prompt == "" { // the whole text is the completion (it was encode(""): BOS alone)
		c = x.lm.encode(completion)
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
	params, err := m.TrainLoRA()
	if err != nil {
		return nil, nil, err
	}
	defer m.StopTraining()
	batches := (len(examples) + u.Batch - 1) / u.Batch
	total := batches * u.Epochs
	opt := train.NewAdamW(m.B, params, train.AdamWConfig{LR: float32(u.LR), Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, MaxGradNorm: 1}, train.Linear(0, total))
	var curve []store.TrainPoint
	pad := x.lm.eos[0]
	for epoch := 0; epoch < u.Epochs; epoch++ {
		order := train.Shuffle(len(examples), seed, epoch)
		for b := 0; b < batches; b++ {
			if err := x.ctx.Err(); err != nil {
				return nil, nil, err
			}
			var group []train.Example
			for _, i := range order[b*u.Batch : min((b+1)*u.Batch, len(order))] {
				group = append(group, examples[i])
			}
			ids, labels := train.Pack(group, pad)
			T := len(ids[0])
			flatIDs, flatTargets := make([]int32, 0, len(ids)*T), make([]int32, 0, len(ids)*T)
			for j := range ids {
				flatIDs = append(flatIDs, ids[j]...)
				flatTargets = append(flatTargets, train.ShiftedTargets(ids[j], labels[j])...)
			}
			opt.ZeroGrad()
			loss, _, err := m.Loss(flatIDs, flatTargets, len(ids), T, true, 1)
			if err != nil {
				return nil, nil, err
			}
			lr, _ := opt.Step()
			step := len(curve) + 1
			curve = append(curve, store.TrainPoint{Step: step, Loss: loss, LR: float64(lr)})
			x.r.send(TrainStep{Where: w, Phase: phase, Step: step, Steps: total, Loss: loss, LR: float64(lr)})
		}
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
