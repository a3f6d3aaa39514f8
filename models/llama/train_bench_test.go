package llama

import (
	"math/rand/v2"
	"testing"
	"time"

	"seal/models/cpu"
	"seal/models/lora"
	"seal/models/train"
)

// BenchmarkLoRATrain1BShape is one LoRA training step (r 32 on all seven projections, 4×128 tokens,
// loss, backward, AdamW) through 2 layers shaped like Llama 3.2 1B with bf16 weights and the full
// vocabulary, as seal bench trains the 16-layer model. "GFLOP/s" counts the matrix products a step
// must do with frozen weights (per token and layer 2N forward and 2N for dX, N the layer's weights,
// plus 2N forward and 2N for dX through the tied lm_head) and the recompute of gate and up that the
// backward adds; the f32 FMA peak of the 2-core EPYC is about 430 (BenchmarkSmallMKernel, gemm12x32).
func BenchmarkLoRATrain1BShape(b *testing.B) {
	c := &Config{Arch: ArchLlama, VocabSize: 128256, HiddenSize: 2048, IntermediateSize: 8192, NumLayers: 2,
		NumHeads: 32, NumKVHeads: 8, HeadDim: 64, MaxPositions: 4096, RMSNormEps: 1e-5, RopeTheta: 500000,
		RopeScaling: RopeScaling{Type: "default"}, TieWordEmbeddings: true}
	m := NewRandom(c, cpu.New(), true, 1)
	a, err := lora.New(&lora.Config{Rank: 32, Alpha: 64, TargetModules: Projections}, c.NumLayers, Projections, c.ProjectionShape, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	if err := m.SetAdapter(a); err != nil {
		b.Fatal(err)
	}
	params, err := m.TrainLoRA()
	if err != nil {
		b.Fatal(err)
	}
	defer m.StopTraining()
	opt := train.NewAdamW(m.Backend, params, train.DefaultAdamW(), nil)
	const seqs, T = 4, 128
	rng := rand.New(rand.NewPCG(5, 5))
	ids, targets := make([]int32, seqs*T), make([]int32, seqs*T)
	for i := range ids {
		ids[i], targets[i] = int32(rng.IntN(c.VocabSize)), int32(rng.IntN(c.VocabSize))
	}
	step := func() {
		opt.ZeroGrad()
		if _, _, err := m.Loss(ids, targets, seqs, T, true, 1); err != nil {
			b.Fatal(err)
		}
		opt.Step()
	}
	step()
	d, I, kv := float64(c.HiddenSize), float64(c.IntermediateSize), float64(c.NumKVHeads*c.HeadDim)
	layerN := 2*d*d + 2*kv*d + 3*I*d
	flopsPerToken := float64(c.NumLayers)*(4*layerN+2*2*I*d) + 4*float64(c.VocabSize)*d
	best := time.Duration(1 << 62)
	for b.Loop() {
		t0 := time.Now()
		step()
		best = min(best, time.Since(t0))
	}
	b.ReportMetric(seqs*T/best.Seconds(), "best-tokens/s")
	b.ReportMetric(seqs*T*flopsPerToken/best.Seconds()*1e-9, "best-GFLOP/s")
}
