package cpu

import (
	"math"
	"testing"

	"seal/models/tensor"
)

func attnShape(B, Tq, Tk, H, KV, HD int, past ...int) tensor.AttnShape {
	s := tensor.AttnShape{B: B, Tq: Tq, Tk: Tk, H: H, KV: KV, HD: HD, Scale: float32(1 / math.Sqrt(float64(HD)))}
	if past != nil {
		s.Past = past
	}
	return s
}

// attnInputs makes q [B·Tq, H·HD], k, v [B·Tk, KV·HD] with standard-normal values.
func attnInputs(seed uint64, s tensor.AttnShape) (q, k, v []float32) {
	r := newRNG(seed)
	return randF32(r, s.B*s.Tq*s.H*s.HD, 1), randF32(r, s.B*s.Tk*s.KV*s.HD, 1), randF32(r, s.B*s.Tk*s.KV*s.HD, 1)
}

func runAttention(s tensor.AttnShape, q, k, v []float32) (out, lse *tensor.Tensor) {
	out, lse = tensor.New(s.B*s.Tq, s.H*s.HD), tensor.New(s.B*s.Tq*s.H)
	be.Attention(out, lse, tensor.FromF32(q, s.B*s.Tq, s.H*s.HD), tensor.FromF32(k, s.B*s.Tk, s.KV*s.HD),
		tensor.FromF32(v, s.B*s.Tk, s.KV*s.HD), s)
	return out, lse
}

func TestAttentionPanics(t *testing.T) {
	s := attnShape(1, 2, 2, 2, 1, 4)
	q, k := tensor.New(2, 8), tensor.New(2, 4)
	mustPanic(t, "does not fit", func() {
		s := attnShape(1, 2, 2, 2, 1, 4, 1)
		be.Attention(tensor.New(2, 8), nil, q, k, k, s)
	})
	mustPanic(t, "multiple of KV", func() {
		s := attnShape(1, 2, 2, 3, 2, 4)
		be.Attention(tensor.New(2, 12), nil, tensor.New(2, 12), tensor.New(2, 8), tensor.New(2, 8), s)
	})
	mustPanic(t, "q [", func() { be.Attention(tensor.New(2, 4), nil, tensor.New(2, 4), k, k, s) })
	mustPanic(t, "lse", func() { be.Attention(tensor.New(2, 8), tensor.New(3), q, k, k, s) })
}

func BenchmarkAttention(b *testing.B) {
	// The architecture note's training shape: batch 4×128, 8 query heads, 4 kv heads, head dim 32.
	s := attnShape(4, 128, 128, 8, 4, 32)
	q, k, v := attnInputs(1, s)
	qt, kt, vt := tensor.FromF32(q, 512, 256), tensor.FromF32(k, 512, 128), tensor.FromF32(v, 512, 128)
	out, lse := tensor.New(512, 256), tensor.New(512*8)
	// flops of the two causal products (the masked half not counted)
	flops := float64(2 * 2 * s.B * s.H * s.Tq * (s.Tq + 1) / 2 * s.HD)
	b.Run("fwd/B4xT128xH8xKV4xHD32", func(b *testing.B) {
		for b.Loop() {
			be.Attention(out, lse, qt, kt, vt, s)
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GFLOP/s")
	})
	be.Attention(out, lse, qt, kt, vt, s)
	dout := tensor.FromF32(randF32(newRNG(2), 512*256, 1), 512, 256)
	dq, dk, dv := tensor.New(512, 256), tensor.New(512, 128), tensor.New(512, 128)
	b.Run("bwd/B4xT128xH8xKV4xHD32", func(b *testing.B) {
		for b.Loop() {
			be.AttentionBackward(dq, dk, dv, dout, out, lse, qt, kt, vt, s)
		}
		b.ReportMetric(2.5*flops*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GFLOP/s")
	})
	// Decoding one token per sequence at position 255 with a 256-row cache.
	d := attnShape(4, 1, 256, 8, 4, 32, 255, 255, 255, 255)
	dqv, _, _ := attnInputs(3, d)
	dqt := tensor.FromF32(dqv, 4, 256)
	dout1 := tensor.New(4, 256)
	kc, vc := tensor.FromF32(randF32(newRNG(4), 4*256*128, 1), 1024, 128), tensor.FromF32(randF32(newRNG(5), 4*256*128, 1), 1024, 128)
	b.Run("decode/B4xPast255xH8xKV4xHD32", func(b *testing.B) {
		for b.Loop() {
			be.Attention(dout1, nil, dqt, kc, vc, d)
		}
	})
}
