package llama

import (
	"fmt"
	"math"

	"seal/models/tensor"
)

// KVCache keeps each layer's keys and values for B sequences of up to Cap positions,
// so decoding one token costs one token of compute.
type KVCache struct {
	B, Cap int
	K, V   []*tensor.Tensor // per layer, [B*Cap, KVDim]
	Len    []int            // positions filled, per sequence
}

// NewCache allocates a cache for batch sequences of up to capacity positions.
func (m *Model) NewCache(batch, capacity int) *KVCache {
	c := &KVCache{B: batch, Cap: capacity, Len: make([]int, batch)}
	kv := m.Config.KVDim()
	for range m.Layers {
		c.K = append(c.K, tensor.New(batch*capacity, kv))
		c.V = append(c.V, tensor.New(batch*capacity, kv))
	}
	return c
}

// Bytes is the cache's memory.
func (c *KVCache) Bytes() int64 {
	var n int64
	for i := range c.K {
		n += c.K[i].Bytes() + c.V[i].Bytes()
	}
	return n
}

// layerActs are one block's saved activations, kept for the backward pass.
type layerActs struct {
	x          *tensor.Tensor // block input (residual stream)
	xn1, rstd1 *tensor.Tensor
	qRaw, kRaw *tensor.Tensor // projections before q/k norm (Qwen3) — nil otherwise
	rstdQ      *tensor.Tensor
	rstdK      *tensor.Tensor
	q, k, v    *tensor.Tensor // after norm and rope: what attention saw
	att, lse   *tensor.Tensor
	h          *tensor.Tensor // residual after attention
	xn2, rstd2 *tensor.Tensor
	gate, up   *tensor.Tensor
	act        *tensor.Tensor          // silu(gate)*up
	lora       [numProj]*tensor.Tensor // x·Aᵀ of each LoRA branch
	loraIn     [numProj]*tensor.Tensor // the branch's input after dropout, when dropout is on
}

// acts are a whole forward pass's saved activations.
type acts struct {
	B, T   int
	ids    []int32
	pos    []int32
	layers []layerActs
	xf     *tensor.Tensor // final residual
	xnf    *tensor.Tensor
	rstdf  *tensor.Tensor
}

// Forward runs B sequences of T new tokens each (ids row-major, B*T). With a cache the
// tokens continue each cached sequence and their keys and values are appended. rows
// selects the rows whose logits are wanted (nil means all); the result is
// [len(rows), vocab]. Logits of other rows are never computed.
func (m *Model) Forward(ids []int32, B, T int, cache *KVCache, rows []int) (*tensor.Tensor, error) {
	if err := m.checkInput(ids, B, T, cache); err != nil {
		return nil, err
	}
	x, _ := m.forward(ids, B, T, cache, false)
	return m.logits(x, rows), nil
}

func (m *Model) checkInput(ids []int32, B, T int, cache *KVCache) error {
	if B <= 0 || T <= 0 || len(ids) != B*T {
		return fmt.Errorf("llama: %d ids for %d sequences of %d tokens", len(ids), B, T)
	}
	for _, id := range ids {
		if id < 0 || int(id) >= m.Config.VocabSize {
			return fmt.Errorf("llama: token id %d outside the vocabulary (0..%d)", id, m.Config.VocabSize-1)
		}
	}
	if cache != nil {
		if cache.B != B {
			return fmt.Errorf("llama: cache holds %d sequences, got %d", cache.B, B)
		}
		for b, n := range cache.Len {
			if n+T > cache.Cap {
				return fmt.Errorf("llama: sequence %d would reach %d positions, cache capacity is %d", b, n+T, cache.Cap)
			}
		}
	}
	return nil
}

// forward runs the blocks and the final norm; it returns the normed final hidden state
// [B*T, hidden] and, when save is set, every activation the backward pass needs.
func (m *Model) forward(ids []int32, B, T int, cache *KVCache, save bool) (*tensor.Tensor, *acts) {
	c, be := m.Config, m.Backend
	N := B * T
	pos := make([]int32, N)
	past := make([]int, B)
	maxPos := 0
	for b := 0; b < B; b++ {
		if cache != nil {
			past[b] = cache.Len[b]
		}
		for t := 0; t < T; t++ {
			pos[b*T+t] = int32(past[b] + t)
		}
		maxPos = max(maxPos, past[b]+T)
	}
	cos, sin := m.rope.tables(maxPos)
	a := &acts{B: B, T: T, ids: ids, pos: pos}

	x := tensor.New(N, c.HiddenSize)
	be.Embedding(x, m.Embed, ids)
	for li := range m.Layers {
		l := &m.Layers[li]
		var s layerActs
		s.x = x
		// Attention block.
		s.xn1, s.rstd1 = tensor.New(N, c.HiddenSize), tensor.New(N)
		be.RMSNorm(s.xn1, s.rstd1, x, l.AttnNorm, float32(c.RMSNormEps))
		q := m.linear(li, Q, s.xn1, &s)
		k := m.linear(li, K, s.xn1, &s)
		v := m.linear(li, V, s.xn1, &s)
		if c.QKNorm {
			s.qRaw, s.kRaw = q, k
			q, s.rstdQ = m.headNorm(q, l.QNorm, c.NumHeads)
			k, s.rstdK = m.headNorm(k, l.KNorm, c.NumKVHeads)
		}
		be.RoPE(q, c.NumHeads, pos, cos, sin)
		be.RoPE(k, c.NumKVHeads, pos, cos, sin)
		s.q, s.k, s.v = q, k, v
		shape := tensor.AttnShape{B: B, Tq: T, Tk: T, H: c.NumHeads, KV: c.NumKVHeads, HD: c.HeadDim,
			Scale: float32(1 / math.Sqrt(float64(c.HeadDim)))}
		kAll, vAll := k, v
		if cache != nil {
			kAll, vAll = cache.K[li], cache.V[li]
			appendCache(kAll, k, cache, T)
			appendCache(vAll, v, cache, T)
			shape.Tk, shape.Past = cache.Cap, past
		}
		s.att = tensor.New(N, c.QDim())
		if save {
			s.lse = tensor.New(N * c.NumHeads)
		}
		be.Attention(s.att, s.lse, q, kAll, vAll, shape)
		o := m.linear(li, O, s.att, &s)
		be.Add(o, x, 1)
		s.h = o
		// MLP block.
		s.xn2, s.rstd2 = tensor.New(N, c.HiddenSize), tensor.New(N)
		be.RMSNorm(s.xn2, s.rstd2, s.h, l.MLPNorm, float32(c.RMSNormEps))
		s.gate = m.linear(li, Gate, s.xn2, &s)
		s.up = m.linear(li, Up, s.xn2, &s)
		s.act = tensor.New(N, c.IntermediateSize)
		be.SwiGLU(s.act, s.gate, s.up)
		d := m.linear(li, Down, s.act, &s)
		be.Add(d, s.h, 1)
		x = d
		if save {
			a.layers = append(a.layers, s)
		}
	}
	if cache != nil {
		for b := range cache.Len {
			cache.Len[b] += T
		}
	}
	a.xf = x
	a.xnf, a.rstdf = tensor.New(N, c.HiddenSize), tensor.New(N)
	be.RMSNorm(a.xnf, a.rstdf, x, m.Norm, float32(c.RMSNormEps))
	return a.xnf, a
}

// headNorm applies Qwen3's RMSNorm over each head of x [N, heads*hd].
func (m *Model) headNorm(x, w *tensor.Tensor, heads int) (*tensor.Tensor, *tensor.Tensor) {
	hd := m.Config.HeadDim
	rows := x.Rows() * heads
	out, rstd := tensor.New(x.Rows(), heads*hd), tensor.New(rows)
	m.Backend.RMSNorm(out.View(rows, hd), rstd, x.View(rows, hd), w, float32(m.Config.RMSNormEps))
	return out, rstd
}

// appendCache copies the new rows of src [B*T, kv] into each sequence's next cache rows.
func appendCache(dst, src *tensor.Tensor, cache *KVCache, T int) {
	kv := src.Cols()
	for b := 0; b < cache.B; b++ {
		from := (b*cache.Cap + cache.Len[b]) * kv
		copy(dst.F32[from:from+T*kv], src.F32[b*T*kv:(b+1)*T*kv])
	}
}

// logits projects rows of the final hidden state through lm_head.
func (m *Model) logits(xn *tensor.Tensor, rows []int) *tensor.Tensor {
	sel := xn
	if rows != nil {
		sel = tensor.New(len(rows), xn.Cols())
		h := xn.Cols()
		for i, r := range rows {
			copy(sel.F32[i*h:(i+1)*h], xn.F32[r*h:(r+1)*h])
		}
	}
	out := tensor.New(sel.Rows(), m.Config.VocabSize)
	m.Backend.MatMul(out, sel, m.LMHead, false, true, 1, 0)
	return out
}
