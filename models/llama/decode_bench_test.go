package llama

import (
	"fmt"
	"testing"

	"seal/models/cpu"
	"seal/models/tensor"
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

// BenchmarkDecodeSmall decodes one token per sequence through the small model (d 256,
// 4 layers, GQA 8/4, vocabulary 4096) at batch 1 and 5, into one logits buffer, and
// reports allocations: the model's own are zero (TestDecodeStepAllocatesNothing), what
// remains is the CPU backend's per-call bookkeeping.
func BenchmarkDecodeSmall(b *testing.B) {
	c := &Config{Arch: ArchLlama, VocabSize: 4096, HiddenSize: 256, IntermediateSize: 688, NumLayers: 4,
		NumHeads: 8, NumKVHeads: 4, HeadDim: 32, MaxPositions: 4096, RMSNormEps: 1e-5, RopeTheta: 10000,
		RopeScaling: RopeScaling{Type: "default"}, TieWordEmbeddings: true}
	m := NewRandom(c, cpu.New(), false, 1)
	for _, B := range []int{1, 5} {
		b.Run(fmt.Sprintf("batch%d", B), func(b *testing.B) {
			cache := m.NewCache(B, 1024)
			tok, out := make([]int32, B), tensor.New(B, c.VocabSize)
			b.ReportAllocs()
			for b.Loop() {
				if cache.Len[0] == cache.Cap {
					clear(cache.Len)
				}
				if err := m.ForwardInto(out, tok, B, 1, cache, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
