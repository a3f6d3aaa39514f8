package llama

import (
	"testing"

	"seal/models/cpu"
)

// BenchmarkDecode1BShape decodes one token at a time through 4 layers shaped like
// Llama 3.2 1B (bf16 weights, full vocabulary): the per-token cost seal bench reports.
func BenchmarkDecode1BShape(b *testing.B) {
	c := &Config{Arch: ArchLlama, VocabSize: 128256, HiddenSize: 2048, IntermediateSize: 8192, NumLayers: 4,
		NumHeads: 32, NumKVHeads: 8, HeadDim: 64, MaxPositions: 4096, RMSNormEps: 1e-5, RopeTheta: 500000,
		RopeScaling: RopeScaling{Type: "default"}, TieWordEmbeddings: true}
	m := NewRandom(c, cpu.New(), true, 1)
	cache := m.NewCache(1, b.N+2)
	tok := []int32{1}
	b.SetBytes(m.WeightBytes())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Forward(tok, 1, 1, cache, nil); err != nil {
			b.Fatal(err)
		}
	}
}
