package engine_test

import (
	"context"
	"os"
	"testing"

	"seal/engine"
	"seal/engine/arc"
	"seal/engine/arc/procedural"
	"seal/models/llama"
	"seal/models/tensor"
	"seal/models/tiny"
)

// TestARCSelfEditsAreValidConfigs samples the model's own ARC self-edits as a run's
// round 0 does (the ARC preset's temperature and token budget) on the first 8
// procedural eval tasks, 4 per task, and wants at least 90% of the 32 to be valid
// configs (issue 17's target for the embedded model) and more than one distinct config
// among them, since ReST-EM needs edits that differ. The model is $SEAL_TEST_MODEL
// when set, else the embedded default. At 90% valid per edit, 29 or more of 32 hold
// with probability 0.60; at 97%, 0.985: the target is a model well above the bar.
//
// Measured on 2026-12-06: 0 of 32 for a model pretrained on 256-token windows only (the
// prompts are 393 to 739 tokens); 32 of 32, 13 distinct, for the embedded default, whose
// pretraining ends with 400 steps on 1024-token windows (README.md, ARC).
func TestARCSelfEditsAreValidConfigs(t *testing.T) {
	dir, m, p := arcTestModel(t)
	spec := engine.ARCSpec()
	_, eval := procedural.Sets(1, 0, 8)
	valid, total := 0, 0
	distinct := map[arc.EditConfig]bool{}
	for i, task := range eval {
		prompt, err := p.SelfEditPrompt(task.Task)
		if err != nil {
			t.Fatal(err)
		}
		gens, err := m.Net.Generate(context.Background(), [][]int32{m.Tokenizer.EncodeSpecial32(prompt)}, llama.GenerateConfig{
			MaxNewTokens: spec.EditTokens, N: 4, StopIDs: m.StopIDs, Decode: func(ids []int32) string { s, _ := m.Tokenizer.DecodeSkipSpecial32(ids); return s },
			Sample: llama.SampleConfig{Temperature: spec.Temp, TopP: spec.TopP, Seed: uint64(1000 + i)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gens {
			total++
			if engine.ValidARCEdit(g.Text) {
				valid++
				cfg, _ := arc.ParseEdit(g.Text)
				distinct[cfg] = true
			} else if total-valid <= 3 {
				t.Logf("invalid self-edit for %s: %q", task.ID, g.Text)
			}
		}
	}
	share := float64(valid) / float64(total)
	t.Logf("model %s: %d of %d self-edits valid (%.3f), %d distinct configs", dir, valid, total, share, len(distinct))
	if share < 0.9 {
		t.Errorf("%d of %d self-edits (%.3f) are valid configs, want at least 90%%", valid, total, share)
	}
	if len(distinct) < 2 {
		t.Errorf("%d distinct valid configs among %d self-edits, want the edits to differ", len(distinct), total)
	}
}

// TestEmbeddedDefaultTrainsInFloat32: the embedded default's inner settings were chosen
// and its effect tables measured with float32 products, so its LoRA training keeps them
// (bf16 products are for models of 1B size and up).
func TestEmbeddedDefaultTrainsInFloat32(t *testing.T) {
	dir, err := tiny.Dir()
	if err != nil {
		t.Fatal(err)
	}
	if m := loadOnCPU(t, dir); m.Net.BF16Products {
		t.Errorf("the embedded default (hidden %d) trains with bf16 products", m.Net.Config.HiddenSize)
	}
}

// arcTestModel is the model the ARC model tests measure: $SEAL_TEST_MODEL when set, else
// the embedded default, loaded on the CPU, with its prompter.
func arcTestModel(t *testing.T) (string, *engine.LoadedModel, arc.Prompter) {
	dir := os.Getenv("SEAL_TEST_MODEL")
	if dir == "" {
		var err error
		if dir, err = tiny.Dir(); err != nil {
			t.Fatal(err)
		}
	}
	m := loadOnCPU(t, dir)
	p, err := arc.PrompterFor(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, m, p
}

// loadOnCPU loads the model folder dir on the CPU backend, closed when the test ends.
func loadOnCPU(t *testing.T, dir string) *engine.LoadedModel {
	t.Helper()
	b, err := tensor.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	m, err := engine.LoadModel(dir, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestARCInContextAnswersAreGrids asks the model for the test output of each of the 32
// procedural eval tasks in context (greedy, every demonstration in the prompt, as the
// ARC table's first row) and wants at least 90% of the answers to parse as grids: the
// model has learned the format. How far it has learned the rules it logs (go test -v):
// tasks solved, answers of the right size, and the share of the answers' cells that are
// right, against the share a grid of background (0) alone would have. The model is
// $SEAL_TEST_MODEL when set, else the embedded default.
//
// Measured on 2026-12-06 (README.md, ARC): the embedded default of then (glued words)
// solves 0 of 32, 24 of the right size, cells 0.39 right (the bare-words default of
// 2026-12-07: 0, 26, 0.41; the default with a fresh world after it: 0, 15, 0.21); a
// model pretrained on ARC documents alone (8,000 tasks, 800 steps of 4 × 1024 tokens)
// 0 of 32, 28 sized, cells 0.45. Background alone
// is 0.51 of the cells: both answer mostly 0s, and no better than that guess. The same
// pretraining three times as long (2,400 steps) solves 2 of 32, cells 0.54; the whole
// knowledge corpus with those ARC documents (6,000 steps, 24.6 M tokens) 8 of 32, cells 0.64.
func TestARCInContextAnswersAreGrids(t *testing.T) {
	dir, m, p := arcTestModel(t)
	_, eval := procedural.Sets(1, 0, 32)
	parsed, solved, sized, right, background, cells := 0, 0, 0, 0, 0, 0
	for _, task := range eval {
		r, err := arc.InContext(context.Background(), m.Net, m.Tokenizer, task.Task, arc.Options{Prompter: p})
		if err != nil {
			t.Fatal(err)
		}
		if a := r.Answers[0]; len(a) > 0 && a[0].Err == "" {
			parsed++
		}
		if r.Reward == 1 {
			solved++
		}
		want, got := task.Test[0].Output, r.Attempts[0][0]
		sameSize := len(got) == len(want) && len(got[0]) == len(want[0])
		if sameSize {
			sized++
		}
		for i := range want {
			for j := range want[i] {
				cells++
				if want[i][j] == 0 {
					background++
				}
				if sameSize && got[i][j] == want[i][j] {
					right++
				}
			}
		}
	}
	t.Logf("model %s, %d eval tasks in context: %d answers parse, %d solved, %d of the right size, cells right %.2f (background alone %.2f)",
		dir, len(eval), parsed, solved, sized, float64(right)/float64(cells), float64(background)/float64(cells))
	if parsed < len(eval)*9/10 {
		t.Errorf("%d of %d in-context answers parse as grids, want at least 90%%", parsed, len(eval))
	}
}
