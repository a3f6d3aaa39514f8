package backendtest

import (
	"fmt"
	"math"
	"testing"

	"seal/models/tensor"
)

// refAttention is causal GQA attention in float64, straight from the definition: query
// i of sequence b at position Past[b]+i, head h reading kv head h/(H/KV), softmax over
// keys 0..Past[b]+i.
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

// qkv puts attention inputs on the backend.
func qkv(be tensor.Backend, s tensor.AttnShape, q, k, v []float32) (qt, kt, vt *tensor.Tensor) {
	return up(be, q, s.B*s.Tq, s.H*s.HD), up(be, k, s.B*s.Tk, s.KV*s.HD), up(be, v, s.B*s.Tk, s.KV*s.HD)
}

func runAttention(be tensor.Backend, s tensor.AttnShape, q, k, v []float32) (out, lse *tensor.Tensor) {
	out, lse = zeros(be, s.B*s.Tq, s.H*s.HD), zeros(be, s.B*s.Tq*s.H)
	qt, kt, vt := qkv(be, s, q, k, v)
	be.Attention(out, lse, qt, kt, vt, s)
	return out, lse
}

func testAttentionForward(t *testing.T, be tensor.Backend) {
	for i, s := range []tensor.AttnShape{
		attnShape(1, 1, 1, 1, 1, 1),
		attnShape(2, 5, 5, 4, 2, 6),
		attnShape(1, 7, 7, 4, 1, 3),
		attnShape(2, 3, 9, 4, 2, 4, 2, 6),          // chunked prefill at different offsets
		attnShape(3, 1, 300, 8, 2, 16, 0, 17, 299), // decode at positions 0, 17, 299
		attnShape(1, 70, 80, 2, 1, 5, 10),          // more than one query block
		attnShape(4, 128, 128, 8, 4, 32),           // a training shape (a CPU splits it over cores)
	} {
		name := fmt.Sprintf("case%d %+v", i, s)
		q, k, v := attnInputs(uint64(10+i), s)
		out, lse := runAttention(be, s, q, k, v)
		wo, wl := refAttention(f64s(q), f64s(k), f64s(v), s)
		// A float32 score is good to ~sqrt(HD)·1e-7, which moves p by as much relative to
		// itself; the output is a convex mix of v rows: errors of a few 1e-7 of max|v|.
		got := down(be, out)
		closeTo(t, name+" out", got, wo, 1e-5, 1e-5)
		closeTo(t, name+" lse", down(be, lse), wl, 1e-6, 1e-6)
		// lse nil is allowed and gives the same output.
		out2 := zeros(be, s.B*s.Tq, s.H*s.HD)
		qt, kt, vt := qkv(be, s, q, k, v)
		be.Attention(out2, nil, qt, kt, vt, s)
		if !equalBits(down(be, out2), got) {
			t.Fatalf("%s: lse nil changes the output", name)
		}
	}
}

// testAttentionDecodeMatchesFull runs a full causal pass over T positions, then decodes
// each position alone (Tq = 1, Past = p, the KV cache holding all T rows) and in chunks,
// and checks that they give the full pass's rows.
func testAttentionDecodeMatchesFull(t *testing.T, be tensor.Backend) {
	const B, T, H, KV, HD = 2, 90, 6, 2, 16
	full := attnShape(B, T, T, H, KV, HD)
	q, k, v := attnInputs(20, full)
	wt, wlt := runAttention(be, full, q, k, v)
	want, wantLse := down(be, wt), down(be, wlt)
	row := H * HD
	for _, chunk := range []int{1, 7, 64} {
		for p := 0; p < T; p += chunk {
			n := min(chunk, T-p)
			s := attnShape(B, n, T, H, KV, HD, p, p)
			qc := make([]float32, 0, B*n*row)
			for b := 0; b < B; b++ {
				qc = append(qc, q[(b*T+p)*row:(b*T+p+n)*row]...)
			}
			ot, lt := runAttention(be, s, qc, k, v)
			out, lse := down(be, ot), down(be, lt)
			for b := 0; b < B; b++ {
				w := want[(b*T+p)*row : (b*T+p+n)*row]
				closeTo(t, fmt.Sprintf("chunk %d at %d seq %d", chunk, p, b), out[b*n*row:(b+1)*n*row], f64s(w), 1e-5, 1e-6)
				wl := wantLse[(b*T+p)*H : (b*T+p+n)*H]
				closeTo(t, fmt.Sprintf("chunk %d at %d seq %d lse", chunk, p, b), lse[b*n*H:(b+1)*n*H], f64s(wl), 1e-6, 1e-7)
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

func testAttentionGrad(t *testing.T, be tensor.Backend) {
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

		out, lse := runAttention(be, s, q, k, v)
		nan := float32(math.NaN()) // written, not added to
		dq, dk, dv := filled(be, nan, s.B*s.Tq, s.H*s.HD), filled(be, nan, s.B*s.Tk, s.KV*s.HD), filled(be, nan, s.B*s.Tk, s.KV*s.HD)
		qt, kt, vt := qkv(be, s, q, k, v)
		be.AttentionBackward(dq, dk, dv, up(be, R, s.B*s.Tq, s.H*s.HD), out, lse, qt, kt, vt, s)
		checkGrad(t, name+" dq", down(be, dq), wq)
		checkGrad(t, name+" dk", down(be, dk), wk)
		checkGrad(t, name+" dv", down(be, dv), wv)
	}
}
