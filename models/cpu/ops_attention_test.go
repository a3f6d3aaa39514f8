package cpu

import (
	"fmt"
	"math"
	"testing"

	"seal/models/tensor"
)

// refAttention is causal GQA attention in float64, straight from the definition: query i of sequence b
// at position Past[b]+i, head h reading kv head h/(H/KV), softmax over keys 0..Past[b]+i.
func refAttention(q, k, v []float64, s tensor.AttnShape) (out, lse []float64) {
	B, Tq, Tk, H, KV, HD := s.B, s.Tq, s.Tk, s.H, s.KV, s.HD
	out = make([]float64, B*Tq*H*HD)
	lse = make([]float64, B*Tq*H)
	scale := float64(s.Scale)
	for b := 0; b < B; b++ {
		past := 0
		if s.Past != nil {
			past = s.Past[b]
		}
		for i := 0; i < Tq; i++ {
			n := past + i + 1
			for h := 0; h < H; h++ {
				g := h / (H / KV)
				qr := q[(b*Tq+i)*H*HD+h*HD:][:HD]
				sc := make([]float64, n)
				m := math.Inf(-1)
				for j := 0; j < n; j++ {
					sc[j] = scale * dot64(qr, k[(b*Tk+j)*KV*HD+g*HD:][:HD])
					m = max(m, sc[j])
				}
				var sum float64
				for j := range sc {
					sc[j] = math.Exp(sc[j] - m)
					sum += sc[j]
				}
				lse[(b*Tq+i)*H+h] = m + math.Log(sum)
				o := out[(b*Tq+i)*H*HD+h*HD:][:HD]
				for j := range sc {
					p := sc[j] / sum
					vr := v[(b*Tk+j)*KV*HD+g*HD:][:HD]
					for d := range o {
						o[d] += p * vr[d]
					}
				}
			}
		}
	}
	return out, lse
}

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

func TestAttentionForward(t *testing.T) {
	for i, s := range []tensor.AttnShape{
		attnShape(1, 1, 1, 1, 1, 1),
		attnShape(2, 5, 5, 4, 2, 6),
		attnShape(1, 7, 7, 4, 1, 3),
		attnShape(2, 3, 9, 4, 2, 4, 2, 6),          // chunked prefill at different offsets
		attnShape(3, 1, 300, 8, 2, 16, 0, 17, 299), // decode at positions 0, 17, 299
		attnShape(1, 70, 80, 2, 1, 5, 10),          // more than one query block
		attnShape(4, 128, 128, 8, 4, 32),           // the benchmark's shape (parallel path)
	} {
		name := fmt.Sprintf("case%d %+v", i, s)
		q, k, v := attnInputs(uint64(10+i), s)
		out, lse := runAttention(s, q, k, v)
		wo, wl := refAttention(f64s(q), f64s(k), f64s(v), s)
		// A float32 score is good to ~sqrt(HD)·1e-7, which moves p by as much relative to itself; the
		// output is a convex mix of v rows: errors of a few 1e-7 of max|v|.
		closeTo(t, name+" out", out.F32, wo, 1e-5, 1e-5)
		closeTo(t, name+" lse", lse.F32, wl, 1e-6, 1e-6)
		// lse nil is allowed and gives the same output.
		out2 := tensor.New(s.B*s.Tq, s.H*s.HD)
		be.Attention(out2, nil, tensor.FromF32(q, s.B*s.Tq, s.H*s.HD), tensor.FromF32(k, s.B*s.Tk, s.KV*s.HD),
			tensor.FromF32(v, s.B*s.Tk, s.KV*s.HD), s)
		for j := range out2.F32 {
			if out2.F32[j] != out.F32[j] {
				t.Fatalf("%s: lse nil changes the output at %d", name, j)
			}
		}
	}
}

// TestAttentionDecodeMatchesFull runs a full causal pass over T positions, then decodes each position
// alone (Tq = 1, Past = p, the KV cache holding all T rows) and in chunks, and checks that they give the
// full pass's rows.
func TestAttentionDecodeMatchesFull(t *testing.T) {
	const B, T, H, KV, HD = 2, 90, 6, 2, 16
	full := attnShape(B, T, T, H, KV, HD)
	q, k, v := attnInputs(20, full)
	want, wantLse := runAttention(full, q, k, v)
	row := H * HD
	for _, chunk := range []int{1, 7, 64} {
		for p := 0; p < T; p += chunk {
			n := min(chunk, T-p)
			s := attnShape(B, n, T, H, KV, HD, p, p)
			qc := make([]float32, 0, B*n*row)
			for b := 0; b < B; b++ {
				qc = append(qc, q[(b*T+p)*row:(b*T+p+n)*row]...)
			}
			out, lse := runAttention(s, qc, k, v)
			for b := 0; b < B; b++ {
				w := want.F32[(b*T+p)*row : (b*T+p+n)*row]
				closeTo(t, fmt.Sprintf("chunk %d at %d seq %d", chunk, p, b), out.F32[b*n*row:(b+1)*n*row], f64s(w), 1e-5, 1e-6)
				wl := wantLse.F32[(b*T+p)*H : (b*T+p+n)*H]
				closeTo(t, fmt.Sprintf("chunk %d at %d seq %d lse", chunk, p, b), lse.F32[b*n*H:(b+1)*n*H], f64s(wl), 1e-6, 1e-7)
			}
		}
	}
}

var attnGradShapes = []tensor.AttnShape{
	attnShape(1, 1, 1, 1, 1, 1),
	attnShape(2, 5, 5, 4, 2, 6), // GQA 4/2
	attnShape(1, 7, 7, 4, 1, 3), // GQA 4/1
	attnShape(2, 3, 5, 2, 2, 5), // Tk > Tq: the last key rows get no gradient
	attnShape(1, 17, 17, 4, 4, 7),
	attnShape(1, 70, 70, 2, 1, 2),     // two query blocks
	attnShape(2, 3, 9, 4, 2, 4, 2, 6), // nonzero Past
}

func TestAttentionGrad(t *testing.T) {
	for i, s := range attnGradShapes {
		name := fmt.Sprintf("%+v", s)
		q, k, v := attnInputs(uint64(30+i), s)
		R := randF32(newRNG(uint64(60+i)), len(q), 1)
		q64, k64, v64, R64 := f64s(q), f64s(k), f64s(v), f64s(R)
		loss := func() float64 {
			o, _ := refAttention(q64, k64, v64, s)
			return dot64(R64, o)
		}
		wq, wk, wv := fdGrad(q64, loss), fdGrad(k64, loss), fdGrad(v64, loss)

		out, lse := runAttention(s, q, k, v)
		dq, dk, dv := tensor.New(s.B*s.Tq, s.H*s.HD), tensor.New(s.B*s.Tk, s.KV*s.HD), tensor.New(s.B*s.Tk, s.KV*s.HD)
		for _, d := range []*tensor.Tensor{dq, dk, dv} {
			for j := range d.F32 {
				d.F32[j] = float32(math.NaN()) // written, not added to
			}
		}
		be.AttentionBackward(dq, dk, dv, tensor.FromF32(R, s.B*s.Tq, s.H*s.HD), out, lse,
			tensor.FromF32(q, s.B*s.Tq, s.H*s.HD), tensor.FromF32(k, s.B*s.Tk, s.KV*s.HD), tensor.FromF32(v, s.B*s.Tk, s.KV*s.HD), s)
		checkGrad(t, name+" dq", dq.F32, wq)
		checkGrad(t, name+" dk", dk.F32, wk)
		checkGrad(t, name+" dv", dv.F32, wv)
	}
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
