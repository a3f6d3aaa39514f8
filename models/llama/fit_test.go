package llama_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"seal/models/llama"
	"seal/models/llama/llamatest"
	"seal/models/lora"
	"seal/models/tensor/stricttest"
	"seal/models/train"
)

func fitModel(t *testing.T) *llama.Model {
	t.Helper()
	c := &llama.Config{Arch: llama.ArchLlama, VocabSize: 64, HiddenSize: 32, IntermediateSize: 64, NumLayers: 2,
		NumHeads: 4, NumKVHeads: 2, HeadDim: 8, MaxPositions: 128, RMSNormEps: 1e-5, RopeTheta: 10000,
		RopeScaling: llama.RopeScaling{Type: "default"}, TieWordEmbeddings: true, BOSTokenID: -1, EOSTokenIDs: []int{1}, PadTokenID: -1}
	m := llama.NewRandom(c, llamatest.Backend(), false, 3)
	a, err := lora.New(&lora.Config{Rank: 4, Alpha: 8, TargetModules: llama.Projections}, c.NumLayers,
		llama.Projections, c.ProjectionShape, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetAdapter(a); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFitLoRALearnsAndReportsEveryStep(t *testing.T) {
	m := fitModel(t)
	ex := []train.Example{
		{Tokens: []int32{5, 6, 7, 8, 9, 10}, LossMask: []bool{false, false, true, true, true, true}},
		{Tokens: []int32{11, 12, 13}},
		{Tokens: []int32{20, 21, 22, 23}},
	}
	// The mean loss over the three examples, without gradients.
	evalLoss := func() float64 {
		sum := 0.0
		for _, e := range ex {
			ids, labels := train.Pack([]train.Example{e}, 1)
			l, _, err := m.Loss(ids[0], train.ShiftedTargets(ids[0], labels[0]), 1, len(ids[0]), false, 1)
			if err != nil {
				t.Fatal(err)
			}
			sum += l
		}
		return sum / float64(len(ex))
	}
	before := evalLoss()
	var seen []llama.FitStep
	curve, err := m.FitLoRA(context.Background(), ex, llama.FitConfig{LR: 5e-2, Epochs: 20, Batch: 2, Seed: 1, Pad: 1,
		Schedule: func(total int) train.Schedule { return train.Cosine(2, total) },
		OnStep:   func(p llama.FitStep) { seen = append(seen, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if want := llama.FitSteps(len(ex), 2, 20); len(curve) != want || len(seen) != want || curve[0].Steps != want {
		t.Fatalf("%d steps, %d reported, want %d", len(curve), len(seen), want)
	}
	if curve[0].LR != 0 {
		t.Fatalf("the first warmup step must run at lr 0, got %g", curve[0].LR)
	}
	// A random model's tied embeddings are tiny, so its logits move slowly; a fall of
	// 0.05 nats is far outside float noise and fails if no step trained anything.
	if after := evalLoss(); !(after < before-0.05) {
		t.Fatalf("loss did not fall: %.4f before, %.4f after", before, after)
	}
}

func TestFitLoRAStopsWhenCancelled(t *testing.T) {
	m := fitModel(t)
	ctx, cancel := context.WithCancel(context.Background())
	ex := []train.Example{{Tokens: []int32{5, 6, 7}}, {Tokens: []int32{8, 9}}}
	curve, err := m.FitLoRA(ctx, ex, llama.FitConfig{LR: 1e-3, Epochs: 5, Batch: 1, OnStep: func(p llama.FitStep) {
		if p.Step == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || len(curve) != 3 {
		t.Fatalf("got %d steps and %v, want 3 and context.Canceled", len(curve), err)
	}
	if _, err := m.FitLoRA(context.Background(), ex, llama.FitConfig{Batch: 0, Epochs: 1}); err == nil {
		t.Fatal("batch 0 must be refused")
	}
	m.SetAdapter(nil)
	if _, err := m.FitLoRA(context.Background(), ex, llama.FitConfig{Batch: 1, Epochs: 1}); err == nil {
		t.Fatal("fitting without an adapter must fail")
	}
}

// TestFitLoRAStopsAtNonFiniteLoss: a learning rate of 1e30 blows the weights up after
// the first step; the fit stops at the first NaN or infinite loss, says so, and never
// reports that step.
func TestFitLoRAStopsAtNonFiniteLoss(t *testing.T) {
	m := fitModel(t)
	ex := []train.Example{{Tokens: []int32{5, 6, 7, 8}}, {Tokens: []int32{9, 10, 11}}}
	var seen []llama.FitStep
	curve, err := m.FitLoRA(context.Background(), ex, llama.FitConfig{LR: 1e30, Epochs: 5, Batch: 1, Seed: 1, Pad: 1,
		OnStep: func(p llama.FitStep) { seen = append(seen, p) }})
	var d *llama.DivergedError
	if !errors.As(err, &d) {
		t.Fatalf("fit at lr 1e30: %v after %d steps, want a DivergedError", err, len(curve))
	}
	if d.Step != len(curve)+1 || len(seen) != len(curve) || d.LR != 1e30 {
		t.Fatalf("diverged at step %d (lr %g) after %d steps (%d reported)", d.Step, d.LR, len(curve), len(seen))
	}
	for _, p := range curve {
		if math.IsNaN(p.Loss) || math.IsInf(p.Loss, 0) {
			t.Fatalf("a non-finite loss was reported: %+v", p)
		}
	}
	if want := fmt.Sprintf("training diverged: loss %v at step %d (lr 1e+30)", d.Loss, d.Step); err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
}

// TestFitLoRAOnStrictBackendUpdatesTheAdapter: on a backend whose memory the host cannot
// read, the trained LoRA weights reach the adapter's slices when training stops, so the
// adapter saved afterwards is what was trained (lora.New starts B at zero; a step moves it).
func TestFitLoRAOnStrictBackendUpdatesTheAdapter(t *testing.T) {
	c := &llama.Config{Arch: llama.ArchLlama, VocabSize: 64, HiddenSize: 32, IntermediateSize: 64, NumLayers: 2,
		NumHeads: 4, NumKVHeads: 2, HeadDim: 8, MaxPositions: 128, RMSNormEps: 1e-5, RopeTheta: 10000,
		RopeScaling: llama.RopeScaling{Type: "default"}, TieWordEmbeddings: true, BOSTokenID: -1, EOSTokenIDs: []int{1}, PadTokenID: -1}
	m := llama.NewRandom(c, stricttest.New(), false, 3)
	a, err := lora.New(&lora.Config{Rank: 4, Alpha: 8, TargetModules: llama.Projections}, c.NumLayers,
		llama.Projections, c.ProjectionShape, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetAdapter(a); err != nil {
		t.Fatal(err)
	}
	ex := []train.Example{{Tokens: []int32{5, 6, 7, 8, 9, 10}}, {Tokens: []int32{11, 12, 13}}}
	if _, err := m.FitLoRA(context.Background(), ex, llama.FitConfig{LR: 1e-2, Epochs: 1, Batch: 2, Pad: 1}); err != nil {
		t.Fatal(err)
	}
	for _, mod := range a.Modules {
		moved := false
		for _, v := range mod.B {
			moved = moved || v != 0
		}
		if !moved {
			t.Fatalf("%s: B is still zero in the adapter after training", mod.Name)
		}
	}
}
