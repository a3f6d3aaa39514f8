// Package tiny makes and holds the embedded default model: a small Llama pretrained
// by the project's own engine on its own synthetic world, so that `go run .` works
// offline on a fresh machine.
package tiny

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"seal/models/internal/atomicfile"
	"seal/models/llama"
	"seal/models/safetensors"
	"seal/models/tensor"
	"seal/models/train"
)

// PretrainConfig is one full-parameter pretraining recipe.
type PretrainConfig struct {
	Model           llama.Config
	Steps           int // optimizer steps in all
	Batch, SeqLen   int // sequences per step and tokens per sequence
	LR              float64
	Warmup          int
	WeightDecay     float64
	Seed            uint64
	CheckpointEvery int // steps between checkpoints (0: only at the end)
}

// Progress is reported after every step.
type Progress struct {
	Step, Steps int
	Loss, LR    float64
	TokensPerS  float64
}

// state is what a checkpoint records beside the weights to resume exactly.
type state struct {
	Step   int            `json:"step"`
	Config PretrainConfig `json:"config"`
}

// Pretrain trains a fresh model (or resumes the checkpoint in dir) on a token stream:
// each step takes Batch random windows of SeqLen+1 tokens, drawn from the step number
// and the seed alone, so a resumed run sees exactly the batches the first would have.
// The model computes on b. The finished model is saved in dir as a Hugging Face folder.
func Pretrain(ctx context.Context, b tensor.Backend, dir string, tokens []int32, cfg PretrainConfig, report func(Progress)) (*llama.Model, error) {
	if len(tokens) < cfg.SeqLen+2 || cfg.Batch < 1 || cfg.SeqLen < 1 || cfg.Steps < 1 {
		return nil, fmt.Errorf("pretrain: %d tokens cannot fill batches of %d x %d for %d steps", len(tokens), cfg.Batch, cfg.SeqLen, cfg.Steps)
	}
	for _, t := range tokens {
		if t < 0 || int(t) >= cfg.Model.VocabSize {
			return nil, fmt.Errorf("pretrain: token %d outside the vocabulary of %d", t, cfg.Model.VocabSize)
		}
	}
	m, start, opt, err := resumeOrInit(dir, b, cfg)
	if err != nil {
		return nil, err
	}
	ids, targets := make([]int32, cfg.Batch*cfg.SeqLen), make([]int32, cfg.Batch*cfg.SeqLen)
	for step := start; step < cfg.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t0 := time.Now()
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(step)))
		for b := 0; b < cfg.Batch; b++ {
			off := rng.IntN(len(tokens) - cfg.SeqLen - 1)
			copy(ids[b*cfg.SeqLen:], tokens[off:off+cfg.SeqLen])
			copy(targets[b*cfg.SeqLen:], tokens[off+1:off+cfg.SeqLen+1])
		}
		opt.ZeroGrad()
		loss, _, err := m.Loss(ids, targets, cfg.Batch, cfg.SeqLen, true, 1)
		if err != nil {
			return nil, err
		}
		lr, _ := opt.Step()
		if report != nil {
			report(Progress{Step: step + 1, Steps: cfg.Steps, Loss: loss, LR: float64(lr),
				TokensPerS: float64(len(ids)) / time.Since(t0).Seconds()})
		}
		if cfg.CheckpointEvery > 0 && (step+1)%cfg.CheckpointEvery == 0 && step+1 < cfg.Steps {
			if err := saveCheckpoint(dir, m, opt, cfg, step+1); err != nil {
				return nil, err
			}
		}
	}
	if err := m.Save(dir); err != nil {
		return nil, err
	}
	return m, nil
}

func newOptimizer(m *llama.Model, cfg PretrainConfig) (*train.Optimizer, error) {
	params, err := m.TrainFull()
	if err != nil {
		return nil, err
	}
	ac := train.AdamWConfig{LR: float32(cfg.LR), Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: float32(cfg.WeightDecay), MaxGradNorm: 1}
	return train.NewAdamW(m.Backend, params, ac, train.Cosine(cfg.Warmup, cfg.Steps)), nil
}

// resumeOrInit loads the latest checkpoint when there is one (its recipe must match),
// or starts from random weights.
func resumeOrInit(dir string, be tensor.Backend, cfg PretrainConfig) (*llama.Model, int, *train.Optimizer, error) {
	latest, err := os.ReadFile(filepath.Join(dir, "checkpoint-latest"))
	if errors.Is(err, os.ErrNotExist) {
		m := llama.NewRandom(&cfg.Model, be, false, cfg.Seed)
		opt, err := newOptimizer(m, cfg)
		return m, 0, opt, err
	}
	if err != nil {
		return nil, 0, nil, fmt.Errorf("pretrain: %w", err)
	}
	ckDir := filepath.Join(dir, string(latest))
	b, err := os.ReadFile(filepath.Join(ckDir, "state.json"))
	if err != nil {
		return nil, 0, nil, fmt.Errorf("pretrain: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, 0, nil, fmt.Errorf("pretrain: %s: %w", filepath.Join(ckDir, "state.json"), err)
	}
	want, _ := json.Marshal(cfg)
	have, _ := json.Marshal(st.Config)
	if string(want) != string(have) {
		return nil, 0, nil, fmt.Errorf("pretrain: the checkpoint in %s was made with another recipe; remove it or use the same settings", ckDir)
	}
	ck, err := llama.OpenCheckpoint(ckDir)
	if err != nil {
		return nil, 0, nil, err
	}
	defer ck.Close()
	m, err := llama.Load(ck, be, llama.LoadOptions{Trainable: true})
	if err != nil {
		return nil, 0, nil, err
	}
	opt, err := newOptimizer(m, cfg)
	if err != nil {
		return nil, 0, nil, err
	}
	moments, err := safetensors.Open(filepath.Join(ckDir, "optimizer.safetensors"))
	if err != nil {
		return nil, 0, nil, err
	}
	defer moments.Close()
	for _, p := range opt.Params() {
		for _, mv := range []struct {
			suffix string
			t      *tensor.Tensor
		}{{".m", p.M}, {".v", p.V}} {
			h := tensor.New(mv.t.Shape...)
			if err := moments.ReadFloat32(p.Name+mv.suffix, h.F32); err != nil {
				return nil, 0, nil, err
			}
			be.Upload(mv.t, h) // the moments live in the backend's memory
		}
	}
	opt.SetStepCount(st.Step)
	return m, st.Step, opt, nil
}

// saveCheckpoint writes weights, AdamW moments and the step into checkpoint-<step>,
// then points checkpoint-latest at it (an atomic rename), then removes the previous
// one: a crash at any moment leaves a complete checkpoint to resume from.
func saveCheckpoint(root string, m *llama.Model, opt *train.Optimizer, cfg PretrainConfig, step int) error {
	name := fmt.Sprintf("checkpoint-%d", step)
	dir := filepath.Join(root, name)
	if err := m.Save(dir); err != nil {
		return err
	}
	var ts []safetensors.Tensor
	f32 := func(t *tensor.Tensor) []byte {
		h := tensor.ToHost(t) // a checkpoint is a named host point: no copy on the CPU
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(h.F32))), 4*h.Len())
	}
	for _, p := range opt.Params() {
		ts = append(ts,
			safetensors.Tensor{Name: p.Name + ".m", DType: safetensors.F32, Shape: p.M.Shape, Data: f32(p.M)},
			safetensors.Tensor{Name: p.Name + ".v", DType: safetensors.F32, Shape: p.V.Shape, Data: f32(p.V)})
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "optimizer.safetensors"), ts, nil); err != nil {
		return err
	}
	b, err := json.Marshal(state{Step: step, Config: cfg})
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "state.json"), b); err != nil {
		return err
	}
	prev, _ := os.ReadFile(filepath.Join(root, "checkpoint-latest"))
	if err := atomicfile.WriteBytes(filepath.Join(root, "checkpoint-latest"), []byte(name)); err != nil {
		return err
	}
	if len(prev) > 0 && string(prev) != name {
		os.RemoveAll(filepath.Join(root, string(prev)))
	}
	return nil
}
