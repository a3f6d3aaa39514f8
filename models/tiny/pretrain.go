// Package tiny makes and holds the embedded default model: a small Llama pretrained
// by the project's own engine on its own synthetic world, so that `go run .` works
// offline on a fresh machine.
package tiny

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
	// Long, when set, is a last phase on longer windows, so the model reads prompts
	// longer than the main phase's windows (the ARC self-edit prompts run to ~740
	// tokens); its steps come after Steps, with AdamW's moments carried over.
	Long *LongPhase `json:",omitempty"`
	// Corpus fingerprints the token stream (Fingerprint), so that a folder resumed with
	// other corpus settings is refused instead of training on other data; a checkpoint
	// made before the field existed has none and is not checked on it.
	Corpus string `json:",omitempty"`
}

// Fingerprint is a short hash of a token stream, for PretrainConfig.Corpus.
func Fingerprint(tokens []int32) string {
	h := sha256.New()
	var b [4]byte
	for _, t := range tokens {
		binary.LittleEndian.PutUint32(b[:], uint32(t))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// LongPhase is the long-window phase: Batch windows of SeqLen tokens per step, its
// own warmup and cosine decay from LR to 0 over its Steps.
type LongPhase struct {
	Steps, Batch, SeqLen int
	LR                   float64
	Warmup               int
}

// TotalSteps is the recipe's optimizer steps, both phases.
func (c PretrainConfig) TotalSteps() int {
	if c.Long == nil {
		return c.Steps
	}
	return c.Steps + c.Long.Steps
}

// window is the batch shape of a 0-based step.
func (c PretrainConfig) window(step int) (batch, seq int) {
	if c.Long != nil && step >= c.Steps {
		return c.Long.Batch, c.Long.SeqLen
	}
	return c.Batch, c.SeqLen
}

// phased is the main phase's cosine, then the long phase's own, scaled to its peak.
type phased struct {
	main, long train.Schedule
	split      int
	scale      float64
}

func (s phased) Factor(step int) float64 {
	if step < s.split {
		return s.main.Factor(step)
	}
	return s.scale * s.long.Factor(step-s.split)
}

func (c PretrainConfig) schedule() train.Schedule {
	main := train.Cosine(c.Warmup, c.Steps)
	if c.Long == nil {
		return main
	}
	return phased{main: main, long: train.Cosine(c.Long.Warmup, c.Long.Steps), split: c.Steps, scale: c.Long.LR / c.LR}
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
	if l := cfg.Long; l != nil && (len(tokens) < l.SeqLen+2 || l.Batch < 1 || l.SeqLen < 1 || l.Steps < 1 || l.SeqLen > cfg.Model.MaxPositions || !(l.LR > 0) || l.Warmup < 0) {
		return nil, fmt.Errorf("pretrain: the long phase (%d steps of %d x %d, lr %g, warmup %d) cannot run on %d tokens with %d positions",
			l.Steps, l.Batch, l.SeqLen, l.LR, l.Warmup, len(tokens), cfg.Model.MaxPositions)
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
	// The MLP's gate and up activations are kept for the backward rather than recomputed there:
	// at this size they cost 2 × tokens × intermediate floats a layer (90 MB at 4×1024 tokens of
	// the default model) and save about an eighth of a step's products (a step 3-4% faster,
	// alternating in one process). The numbers are the same either way.
	m.KeepMLP = true
	total := cfg.TotalSteps()
	var ids, targets []int32
	for step := start; step < total; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t0 := time.Now()
		batch, seq := cfg.window(step)
		if len(ids) != batch*seq {
			ids, targets = make([]int32, batch*seq), make([]int32, batch*seq)
		}
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(step)))
		for b := 0; b < batch; b++ {
			off := rng.IntN(len(tokens) - seq - 1)
			copy(ids[b*seq:], tokens[off:off+seq])
			copy(targets[b*seq:], tokens[off+1:off+seq+1])
		}
		opt.ZeroGrad()
		loss, _, err := m.Loss(ids, targets, batch, seq, true, 1)
		if err != nil {
			return nil, err
		}
		lr, _ := opt.Step()
		if report != nil {
			report(Progress{Step: step + 1, Steps: total, Loss: loss, LR: float64(lr),
				TokensPerS: float64(len(ids)) / time.Since(t0).Seconds()})
		}
		// The last step is checkpointed too, so the same command run again on a finished
		// folder (to add --ship, say) finds it finished instead of redoing the steps after
		// the last round checkpoint.
		if cfg.CheckpointEvery > 0 && ((step+1)%cfg.CheckpointEvery == 0 || step+1 == total) {
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
	return train.NewAdamW(m.Backend, params, ac, cfg.schedule()), nil
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
	if st.Config.Corpus == "" {
		st.Config.Corpus = cfg.Corpus // made before corpora were fingerprinted
	}
	want, _ := json.Marshal(cfg)
	have, _ := json.Marshal(st.Config)
	if string(want) != string(have) {
		if st.Config.Corpus != cfg.Corpus {
			return nil, 0, nil, fmt.Errorf("pretrain: the checkpoint in %s was made on another corpus (its settings or seed differ); remove it or use the same settings", ckDir)
		}
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
