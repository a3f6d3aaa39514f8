package llama_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"seal/models/llama"
	"seal/models/llama/llamatest"
	"seal/models/lora"
	"seal/models/train"
)

// TestLossChunksGiveTheWholeBatchsLossAndGradients: the lm_head + cross-entropy run over
// row chunks that do not divide the batch's 2x19 positions (7, 13) and over all rows at
// once give the same loss and gradients, within float32 rounding, in LoRA training (the
// lm_head frozen: only dhidden crosses the head), full training with a tied and with an
// untied lm_head (its gradient gathered over the chunks), and in a loss without backward.
// The reference keeps gate and up (KeepMLP), the chunked runs recompute them in the
// backward, so the recomputation is held to the same gradients too.
func TestLossChunksGiveTheWholeBatchsLossAndGradients(t *testing.T) {
	for _, tc := range []struct {
		name       string
		full, tied bool
	}{{"lora", false, true}, {"full-tied", true, true}, {"full-untied", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			ref := chunkRun(t, tc.full, tc.tied, 1000, true)
			for _, chunk := range []int{7, 13} {
				got := chunkRun(t, tc.full, tc.tied, chunk, false)
				if d := math.Abs(got.loss - ref.loss); d > 1e-5*math.Abs(ref.loss) {
					t.Errorf("chunk %d: loss %v, all rows at once %v", chunk, got.loss, ref.loss)
				}
				if d := math.Abs(got.eval - ref.eval); d > 1e-5*math.Abs(ref.eval) {
					t.Errorf("chunk %d: loss without backward %v, all rows at once %v", chunk, got.eval, ref.eval)
				}
				for name, g := range ref.grads {
					if worst, at := maxRelDiff(got.grads[name], g); worst > 1e-4 {
						t.Errorf("chunk %d: %s differs by %.2g (relative to its largest entry) at %d", chunk, name, worst, at)
					}
				}
			}
		})
	}
}

type chunkResult struct {
	loss, eval float64
	grads      map[string][]float32
}

// chunkRun builds the same small model (vocab 300, so chunks are much narrower than the
// logits), runs one training Loss with the given chunk size and returns its loss, a
// forward-only loss and every trained gradient.
func chunkRun(t *testing.T, full, tied bool, chunk int, keepMLP bool) chunkResult {
	t.Helper()
	c := &llama.Config{Arch: llama.ArchLlama, VocabSize: 300, HiddenSize: 32, IntermediateSize: 48, NumLayers: 2,
		NumHeads: 4, NumKVHeads: 2, HeadDim: 8, MaxPositions: 256, RMSNormEps: 1e-5, RopeTheta: 10000,
		RopeScaling: llama.RopeScaling{Type: "default"}, TieWordEmbeddings: tied}
	m := llama.NewRandom(c, llamatest.Backend(), false, 3)
	m.LossChunk, m.KeepMLP = chunk, keepMLP
	var params []*train.Param
	var err error
	if full {
		params, err = m.TrainFull()
	} else {
		a, aerr := lora.New(&lora.Config{Rank: 4, Alpha: 8, TargetModules: llama.Projections}, c.NumLayers, llama.Projections, c.ProjectionShape, rand.New(rand.NewPCG(1, 2)))
		if aerr != nil {
			t.Fatal(aerr)
		}
		for _, mod := range a.Modules {
			for i := range mod.B {
				mod.B[i] = float32(math.Sin(float64(i))) * 0.3
			}
		}
		if err := m.SetAdapter(a); err != nil {
			t.Fatal(err)
		}
		params, err = m.TrainLoRA()
	}
	if err != nil {
		t.Fatal(err)
	}
	B, T := 2, 19
	rng := rand.New(rand.NewPCG(9, 9))
	ids, targets := make([]int32, B*T), make([]int32, B*T)
	for i := range ids {
		ids[i], targets[i] = int32(rng.IntN(c.VocabSize)), int32(rng.IntN(c.VocabSize))
		if i%5 == 0 {
			targets[i] = -100 // masked positions count in no chunk's loss
		}
	}
	r := chunkResult{grads: map[string][]float32{}}
	if r.loss, _, err = m.Loss(ids, targets, B, T, true, 1); err != nil {
		t.Fatal(err)
	}
	for _, p := range params {
		r.grads[p.Name] = hostValues(p.Grad)
	}
	m.StopTraining()
	if r.eval, _, err = m.Loss(ids, targets, B, T, false, 1); err != nil {
		t.Fatal(err)
	}
	return r
}

// maxRelDiff is the largest |a−b| relative to b's largest magnitude, and where it is.
func maxRelDiff(a, b []float32) (float64, int) {
	scale := 1e-12
	for _, v := range b {
		scale = max(scale, math.Abs(float64(v)))
	}
	worst, at := 0.0, -1
	for i := range b {
		if d := math.Abs(float64(a[i]-b[i])) / scale; d > worst || at < 0 {
			worst, at = d, i
		}
	}
	return worst, at
}
