package tiny

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seal/models/llama"
	"seal/models/llama/llamatest"
	"seal/models/tensor"
	"seal/models/tensor/stricttest"
)

func testRecipe() PretrainConfig {
	return PretrainConfig{
		Model: llama.Config{Arch: llama.ArchLlama, VocabSize: 40, HiddenSize: 32, IntermediateSize: 64, NumLayers: 2, NumHeads: 4,
			NumKVHeads: 2, HeadDim: 8, MaxPositions: 256, RMSNormEps: 1e-5, RopeTheta: 10000, RopeScaling: llama.RopeScaling{Type: "default"},
			TieWordEmbeddings: true, BOSTokenID: -1, PadTokenID: -1},
		Steps: 60, Batch: 4, SeqLen: 16, LR: 3e-3, Warmup: 5, WeightDecay: 0.01, Seed: 9, CheckpointEvery: 20,
	}
}

// corpus is a repeating pattern a model can learn quickly.
func corpus() []int32 {
	var t []int32
	for i := 0; i < 4000; i++ {
		t = append(t, int32(i%7), int32(10+i%5), 20)
	}
	return t
}

func TestPretrainLearnsAndResumesExactly(t *testing.T) {
	checkPretrainResumes(t, llamatest.Backend())
}

// TestPretrainResumesOnStrictBackend: the checkpoints' weights and AdamW moments leave
// and re-enter the backend through Download and Upload, so a resumed run on a backend
// whose memory the host cannot read is the same model too.
func TestPretrainResumesOnStrictBackend(t *testing.T) { checkPretrainResumes(t, stricttest.New()) }

func checkPretrainResumes(t *testing.T, be tensor.Backend) {
	cfg := testRecipe()
	var first, last float64
	full, err := Pretrain(context.Background(), be, t.TempDir(), corpus(), cfg, func(p Progress) {
		if p.Step == 1 {
			first = p.Loss
		}
		last = p.Loss
	})
	if err != nil {
		t.Fatal(err)
	}
	if !(last < first*0.7) {
		t.Errorf("loss went from %.3f to %.3f in %d steps", first, last, cfg.Steps)
	}

	// Stop after step 45 (checkpoint at 40), resume: the result is the same model.
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err = Pretrain(ctx, be, dir, corpus(), cfg, func(p Progress) {
		if p.Step == 45 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "checkpoint-latest")); string(b) != "checkpoint-40" {
		t.Fatalf("latest checkpoint %q, want checkpoint-40", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoint-20")); !os.IsNotExist(err) {
		t.Error("the older checkpoint was not removed")
	}
	resumedFrom := 0
	resumed, err := Pretrain(context.Background(), be, dir, corpus(), cfg, func(p Progress) {
		if resumedFrom == 0 {
			resumedFrom = p.Step
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if resumedFrom != 41 {
		t.Errorf("resumed at step %d, want 41", resumedFrom)
	}
	ids := []int32{1, 11, 20, 2, 12, 20}
	a, _ := full.Forward(ids, 1, len(ids), nil, nil)
	b, _ := resumed.Forward(ids, 1, len(ids), nil, nil)
	for i := range a.F32 {
		if a.F32[i] != b.F32[i] {
			t.Fatalf("logit %d differs after resume: %g vs %g", i, a.F32[i], b.F32[i])
		}
	}
	// The saved folder loads as a checkpoint.
	ck, err := llama.OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	ck.Close()

	other := cfg
	other.LR = 1e-3
	os.WriteFile(filepath.Join(dir, "checkpoint-latest"), []byte("checkpoint-40"), 0o644)
	if _, err := os.Stat(filepath.Join(dir, "checkpoint-40")); err == nil {
		if _, err := Pretrain(context.Background(), be, dir, corpus(), other, nil); err == nil {
			t.Error("resuming with another recipe must be refused")
		}
	}
	if _, err := Pretrain(context.Background(), be, t.TempDir(), []int32{1, 2}, cfg, nil); err == nil {
		t.Error("a corpus shorter than one sequence must be refused")
	}
}

// TestPretrainLongPhase: the long phase runs after the main steps on its own windows
// and schedule (lr rising from 0 over its warmup to its own peak, then down to 0), and
// a run stopped inside it resumes to the same model.
func TestPretrainLongPhase(t *testing.T) {
	be := llamatest.Backend()
	cfg := testRecipe()
	cfg.Long = &LongPhase{Steps: 20, Batch: 1, SeqLen: 64, LR: 1e-3, Warmup: 4}
	lrs := map[int]float64{}
	full, err := Pretrain(context.Background(), be, t.TempDir(), corpus(), cfg, func(p Progress) {
		lrs[p.Step] = p.LR
		if p.Steps != 80 {
			t.Fatalf("step %d of %d, want 80 in all", p.Step, p.Steps)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lrs) != 80 {
		t.Fatalf("%d steps ran, want 80", len(lrs))
	}
	// Step 61 is the long phase's first (0-based 60): warmup factor 0; step 65 its peak.
	if lrs[61] != 0 || math.Abs(lrs[65]-1e-3) > 1e-9 || !(lrs[80] < 1e-4) || !(lrs[60] < 1e-4) {
		t.Errorf("lr at steps 60, 61, 65, 80: %g %g %g %g", lrs[60], lrs[61], lrs[65], lrs[80])
	}

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err = Pretrain(ctx, be, dir, corpus(), cfg, func(p Progress) {
		if p.Step == 70 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	resumed, err := Pretrain(context.Background(), be, dir, corpus(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int32{1, 11, 20, 2, 12, 20}
	a, _ := full.Forward(ids, 1, len(ids), nil, nil)
	b, _ := resumed.Forward(ids, 1, len(ids), nil, nil)
	for i := range a.F32 {
		if a.F32[i] != b.F32[i] {
			t.Fatalf("logit %d differs after resuming in the long phase: %g vs %g", i, a.F32[i], b.F32[i])
		}
	}

	bad := cfg
	bad.Long = &LongPhase{Steps: 5, Batch: 1, SeqLen: 512, LR: 1e-3}
	if _, err := Pretrain(context.Background(), be, t.TempDir(), corpus(), bad, nil); err == nil || !strings.Contains(err.Error(), "long phase") {
		t.Errorf("windows past the model's positions: %v, want an error naming the long phase", err)
	}
}

// TestPretrainRefusesAnotherCorpus: a folder resumed on another token stream (other corpus
// settings) is refused with a message that says so; a checkpoint made before corpora were
// fingerprinted resumes on any.
func TestPretrainRefusesAnotherCorpus(t *testing.T) {
	be := llamatest.Backend()
	cfg := testRecipe()
	cfg.Steps, cfg.CheckpointEvery = 4, 2
	toks := corpus()
	if Fingerprint(toks) == Fingerprint(toks[1:]) || Fingerprint(toks) != Fingerprint(corpus()) {
		t.Fatal("the fingerprint must follow the tokens")
	}
	dir := t.TempDir()
	cfg.Corpus = Fingerprint(toks)
	if _, err := Pretrain(context.Background(), be, dir, toks, cfg, nil); err != nil {
		t.Fatal(err)
	}
	other := cfg
	other.Corpus = Fingerprint(toks[1:])
	if _, err := Pretrain(context.Background(), be, dir, toks[1:], other, nil); err == nil || !strings.Contains(err.Error(), "another corpus") {
		t.Errorf("resuming on another corpus: %v, want it refused as another corpus", err)
	}
	old := t.TempDir()
	cfg.Corpus = ""
	if _, err := Pretrain(context.Background(), be, old, toks, cfg, nil); err != nil {
		t.Fatal(err)
	}
	cfg.Corpus = Fingerprint(toks)
	if _, err := Pretrain(context.Background(), be, old, toks, cfg, nil); err != nil {
		t.Errorf("a checkpoint without a fingerprint should resume: %v", err)
	}
}
