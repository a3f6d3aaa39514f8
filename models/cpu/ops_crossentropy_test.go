package cpu

import (
	"testing"

	"seal/models/tensor"
)

func ceLabels(seed uint64, N, V int) []int32 {
	r := newRNG(seed)
	labels := make([]int32, N)
	for i := range labels {
		labels[i] = int32(r.IntN(V))
		if r.IntN(4) == 0 {
			labels[i] = -100 // ignore_index as transformers writes it
		}
	}
	if N > 1 {
		labels[0], labels[N-1] = -1, int32(V-1)
	}
	return labels
}

func TestCrossEntropyPanics(t *testing.T) {
	x := tensor.New(3, 3)
	mustPanic(t, "outside the vocabulary", func() { be.CrossEntropy(nil, x, []int32{0, 3, 0}, 1) })
}

func BenchmarkCrossEntropy(b *testing.B) {
	const N, V = 512, 32000
	r := newRNG(80)
	logits := tensor.FromF32(randF32(r, N*V, 2), N, V)
	labels := ceLabels(81, N, V)
	d := tensor.New(N, V)
	b.Run("N512xV32000/dlogits", func(b *testing.B) {
		b.SetBytes(8 * N * V)
		for b.Loop() {
			be.CrossEntropy(d, logits, labels, 1.0/N)
		}
	})
	b.Run("N512xV32000/loss-only", func(b *testing.B) {
		b.SetBytes(4 * N * V)
		for b.Loop() {
			be.CrossEntropy(nil, logits, labels, 1.0/N)
		}
	})
}
