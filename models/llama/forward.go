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

// NewCache allocates a cache for batch sequences of up to capacity positions, in the
// backend's memory.
func (m *Model) NewCache(batch, capacity int) *KVCache {
	c := &KVCache{B: batch, Cap: capacity, Len: make([]int, batch)}
	kv := m.Config.KVDim()
	for range m.Layers {
		c.K = append(c.K, m.Backend.Alloc(tensor.F32, batch*capacity, kv))
		c.V = append(c.V, m.Backend.Alloc(tensor.F32, batch*capacity, kv))
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
	rstd1      *tensor.Tensor // the norms' outputs and silu(gate)*up are not kept: the backward recomputes them
	qRaw, kRaw *tensor.Tensor // projections before q/k norm (Qwen3) — nil otherwise
	rstdQ      *tensor.Tensor
	rstdK      *tensor.Tensor
	q, k, v    *tensor.Tensor // after norm and rope: what attention saw
	// The attention output and its log-sum-exp are recomputed from q, k, v; gate and up
	// are kept only with Model.KeepMLP (nil otherwise: the backward recomputes them).
	h        *tensor.Tensor // residual after attention
	rstd2    *tensor.Tensor
	gate, up *tensor.Tensor
	lora     [numProj]*tensor.Tensor // x·Aᵀ of each LoRA branch
	loraIn   [numProj]*tensor.Tensor // the branch's input after dropout, when dropout is on
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
// [len(rows), vocab], a host tensor the caller keeps (downloaded from the backend
// here when the host cannot read the backend's memory). Logits of other rows are never computed.
func (m *Model) Forward(ids []int32, B, T int, cache *KVCache, rows []int) (*tensor.Tensor, error) {
	n := B * T
	if rows != nil {
		n = len(rows)
	}
	out := m.Backend.Alloc(tensor.F32, max(n, 0), m.Config.VocabSize)
	if err := m.ForwardInto(out, ids, B, T, cache, rows); err != nil {
		m.Backend.Free(out)
		return nil, err
	}
	// A backend whose memory the host reads (the CPU) hands its buffer over as it is:
	// a second [n, vocab] copy is 263 MB for 512 rows of a 128k vocabulary.
	host := tensor.ToHost(out)
	if host != out {
		m.Backend.Free(out)
	}
	return host, nil
}

// ForwardInto is Forward writing the logits into out ([len(rows) or B*T, vocab]). Every
// intermediate comes from buffers the model keeps between calls, so a call whose shapes
// were seen before (a decode step) allocates nothing.
func (m *Model) ForwardInto(out *tensor.Tensor, ids []int32, B, T int, cache *KVCache, rows []int) error {
	if err := m.checkInput(ids, B, T, cache); err != nil {
		return err
	}
	n := B * T
	if rows != nil {
		n = len(rows)
	}
	for _, r := range rows {
		if r < 0 || r >= B*T {
			return fmt.Errorf("llama: logits row %d outside the %d positions", r, B*T)
		}
	}
	if out.Len() != n*m.Config.VocabSize || out.Cols() != m.Config.VocabSize {
		return fmt.Errorf("llama: logits buffer %v, want [%d, %d]", out.Shape, n, m.Config.VocabSize)
	}
	p := m.passes.get(m.Backend)
	defer m.passes.put(p)
	x, _ := m.forward(p, ids, B, T, cache, false)
	m.logitsInto(p, out, x, rows)
	return nil
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
//
// p supplies the tensors: with save the pass must hand out fresh ones (they outlive it).
func (m *Model) forward(p *pass, ids []int32, B, T int, cache *KVCache, save bool) (*tensor.Tensor, *acts) {
	c, be := m.Config, m.Backend
	N := B * T
	p.start(N, B)
	pos, past := p.pos, p.past
	maxPos := 0
	for b := 0; b < B; b++ {
		past[b] = 0
		if cache != nil {
			past[b] = cache.Len[b]
		}
		for t := 0; t < T; t++ {
			pos[b*T+t] = int32(past[b] + t)
		}
		maxPos = max(maxPos, past[b]+T)
	}
	cos, sin := m.rope.tables(maxPos)
	var a *acts
	if save {
		p.acts = acts{B: B, T: T, ids: ids, pos: pos, layers: p.acts.layers[:0]}
		a = &p.acts
	}

	x := p.tensor(N, c.HiddenSize)
	be.Embedding(x, m.Embed, ids)
	for li := range m.Layers {
		p.useLayer(li)
		l := &m.Layers[li]
		var s layerActs
		s.x = x
		// Attention block.
		xn1 := p.transient(N, c.HiddenSize)
		s.rstd1 = p.tensor(N)
		be.RMSNorm(xn1, s.rstd1, x, l.AttnNorm, float32(c.RMSNormEps))
		q := m.linear(p, li, Q, xn1, &s)
		k := m.linear(p, li, K, xn1, &s)
		v := m.linear(p, li, V, xn1, &s)
		if c.QKNorm {
			s.qRaw, s.kRaw = q, k
			q, s.rstdQ = m.headNorm(p, q, l.QNorm, c.NumHeads)
			k, s.rstdK = m.headNorm(p, k, l.KNorm, c.NumKVHeads)
		}
		be.RoPE(q, c.NumHeads, pos, cos, sin)
		be.RoPE(k, c.NumKVHeads, pos, cos, sin)
		s.q, s.k, s.v = q, k, v
		shape := tensor.AttnShape{B: B, Tq: T, Tk: T, H: c.NumHeads, KV: c.NumKVHeads, HD: c.HeadDim,
			Scale: float32(1 / math.Sqrt(float64(c.HeadDim)))}
		kAll, vAll := k, v
		if cache != nil {
			kAll, vAll = cache.K[li], cache.V[li]
			m.appendCache(kAll, k, cache, T)
			m.appendCache(vAll, v, cache, T)
			shape.Tk, shape.Past = cache.Cap, past
		}
		att := p.transient(N, c.QDim())
		var lse *tensor.Tensor
		if save {
			lse = p.transient(N * c.NumHeads)
		}
		be.Attention(att, lse, q, kAll, vAll, shape)
		o := m.linear(p, li, O, att, &s)
		be.Add(o, x, 1)
		s.h = o
		// MLP block.
		xn2 := p.transient(N, c.HiddenSize)
		s.rstd2 = p.tensor(N)
		be.RMSNorm(xn2, s.rstd2, s.h, l.MLPNorm, float32(c.RMSNormEps))
		gate, up := m.mlpIn(p, li, xn2, &s, m.KeepMLP || !save)
		act := p.transient(N, c.IntermediateSize)
		be.SwiGLU(act, gate, up)
		d := m.linear(p, li, Down, act, &s)
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
	p.useHead()
	xnf, rstdf := p.tensor(N, c.HiddenSize), p.tensor(N)
	be.RMSNorm(xnf, rstdf, x, m.Norm, float32(c.RMSNormEps))
	if save {
		a.xf, a.xnf, a.rstdf = x, xnf, rstdf
	}
	return xnf, a
}

// mlpIn computes the MLP's gate and up projections of xn2. With keep they are buffers
// of the current arena (a training pass keeps them for the backward); otherwise, in a
// training pass, they are transient and the backward recomputes them.
func (m *Model) mlpIn(p *pass, li int, xn2 *tensor.Tensor, s *layerActs, keep bool) (gate, up *tensor.Tensor) {
	N, I := xn2.Rows(), m.Config.IntermediateSize
	if keep {
		gate, up = p.tensor(N, I), p.tensor(N, I)
		s.gate, s.up = gate, up
	} else {
		gate, up = p.transient(N, I), p.transient(N, I)
	}
	m.linearTo(p, gate, li, Gate, xn2, s)
	m.linearTo(p, up, li, Up, xn2, s)
	return gate, up
}

// headNorm applies Qwen3's RMSNorm over each head of x [N, heads*hd].
func (m *Model) headNorm(p *pass, x, w *tensor.Tensor, heads int) (*tensor.Tensor, *tensor.Tensor) {
	hd := m.Config.HeadDim
	rows := x.Rows() * heads
	out, rstd := p.tensor(x.Rows(), heads*hd), p.tensor(rows)
	m.Backend.RMSNorm(p.viewOf(out, rows, hd), rstd, p.viewOf(x, rows, hd), w, float32(m.Config.RMSNormEps))
	return out, rstd
}

// appendCache copies the new rows of src [B*T, kv] into each sequence's next cache rows.
func (m *Model) appendCache(dst, src *tensor.Tensor, cache *KVCache, T int) {
	for b := 0; b < cache.B; b++ {
		m.Backend.CopyRows(dst, b*cache.Cap+cache.Len[b], src, b*T, T)
	}
}

// logitsInto projects rows of the final hidden state through lm_head into out.
func (m *Model) logitsInto(p *pass, out, xn *tensor.Tensor, rows []int) {
	sel := xn
	if rows != nil {
		p.useHead()
		sel = p.tensor(len(rows), xn.Cols())
		for i, r := range rows {
			m.Backend.CopyRows(sel, i, xn, r, 1)
		}
	}
	m.Backend.MatMul(out, sel, m.LMHead, false, true, 1, 0)
}
