package llama

import (
	"fmt"
	"math"

	"seal/models/tensor"
	"seal/models/train"
)

// fullGrads mirrors the weights for full-parameter training.
type fullGrads struct {
	embed, lmHead, norm *tensor.Tensor
	layers              []Layer
}

// TrainLoRA allocates gradients for the adapter's A and B (and none for the base) and
// returns them as parameters for an optimizer. Gradients add up over Loss calls until
// the caller zeroes them.
func (m *Model) TrainLoRA() ([]*train.Param, error) {
	if m.adapter == nil {
		return nil, fmt.Errorf("llama: no adapter to train")
	}
	m.dropReplica()
	m.full = nil
	var ps []*train.Param
	for _, mod := range m.adapter.Modules {
		lm := m.lora[mod.Layer][projIndex(mod.Proj)]
		lm.dA, lm.dB = m.Backend.Alloc(tensor.F32, lm.A.Shape...), m.Backend.Alloc(tensor.F32, lm.B.Shape...)
		ps = append(ps,
			&train.Param{Name: "base_model.model." + mod.Name + ".lora_A.weight", Value: lm.A, Grad: lm.dA},
			&train.Param{Name: "base_model.model." + mod.Name + ".lora_B.weight", Value: lm.B, Grad: lm.dB})
	}
	return ps, nil
}

// TrainFull allocates gradients for every weight; the model must have been loaded with
// LoadOptions.Trainable (owned F32 weights).
func (m *Model) TrainFull() ([]*train.Param, error) {
	if m.lora != nil {
		return nil, fmt.Errorf("llama: full training with an adapter attached; merge or remove it first")
	}
	m.dropReplica()
	var ps []*train.Param
	grad := func(name string, w *tensor.Tensor, noDecay bool) (*tensor.Tensor, error) {
		if w == nil {
			return nil, nil
		}
		if w.DType != tensor.F32 || !m.owned[w] {
			return nil, fmt.Errorf("llama: weight %s is %s; load with Trainable for full training", name, w.DType)
		}
		g := m.Backend.Alloc(tensor.F32, w.Shape...)
		ps = append(ps, &train.Param{Name: name, Value: w, Grad: g, NoDecay: noDecay})
		return g, nil
	}
	g := &fullGrads{layers: make([]Layer, len(m.Layers))}
	var err error
	if g.embed, err = grad("model.embed_tokens.weight", m.Embed, false); err != nil {
		return nil, err
	}
	if m.LMHead != m.Embed {
		if g.lmHead, err = grad("lm_head.weight", m.LMHead, false); err != nil {
			return nil, err
		}
	}
	if g.norm, err = grad("model.norm.weight", m.Norm, true); err != nil {
		return nil, err
	}
	for i := range m.Layers {
		l, gl := &m.Layers[i], &g.layers[i]
		p := fmt.Sprintf("model.layers.%d.", i)
		if gl.AttnNorm, err = grad(p+"input_layernorm.weight", l.AttnNorm, true); err != nil {
			return nil, err
		}
		if gl.MLPNorm, err = grad(p+"post_attention_layernorm.weight", l.MLPNorm, true); err != nil {
			return nil, err
		}
		if gl.QNorm, err = grad(p+"self_attn.q_norm.weight", l.QNorm, true); err != nil {
			return nil, err
		}
		if gl.KNorm, err = grad(p+"self_attn.k_norm.weight", l.KNorm, true); err != nil {
			return nil, err
		}
		for j, proj := range Projections {
			name := ProjectionName(i, proj)
			if gl.W[j], err = grad(name+".weight", l.W[j], false); err != nil {
				return nil, err
			}
			if gl.Bias[j], err = grad(name+".bias", l.Bias[j], true); err != nil {
				return nil, err
			}
		}
	}
	m.full = g
	return ps, nil
}

// StopTraining drops the gradient buffers and the training step's activations, and
// copies the trained LoRA weights into the adapter's slices.
func (m *Model) StopTraining() {
	m.downloadAdapter()
	m.dropReplica()
	m.full, m.train = nil, nil
	for _, l := range m.lora {
		for _, lm := range l {
			if lm != nil {
				lm.dA, lm.dB = nil, nil
			}
		}
	}
}

// Loss runs B sequences of T tokens and returns the mean cross-entropy over positions
// whose target is not negative (targets[i] is the token expected after ids[i]: the
// already-shifted labels). With backward set it adds gradScale·d(mean loss) into the
// gradients that TrainLoRA or TrainFull allocated; gradScale 1 gives the plain gradient
// and 1/steps averages over gradient-accumulation steps.
func (m *Model) Loss(ids, targets []int32, B, T int, backward bool, gradScale float32) (loss float64, count int, err error) {
	if err := m.checkInput(ids, B, T, nil); err != nil {
		return 0, 0, err
	}
	if len(targets) != len(ids) {
		return 0, 0, fmt.Errorf("llama: %d targets for %d ids", len(targets), len(ids))
	}
	for _, t := range targets {
		if t >= 0 {
			count++
		}
		if int(t) >= m.Config.VocabSize {
			return 0, 0, fmt.Errorf("llama: target %d outside the vocabulary", t)
		}
	}
	if count == 0 {
		return 0, 0, nil // nothing to learn from: no loss, no gradient
	}
	if !backward {
		p := m.passes.get(m.Backend)
		defer m.passes.put(p)
		xnf, _ := m.forward(p, ids, B, T, nil, false)
		return m.headLoss(p, xnf, targets, 0, nil) / float64(count), count, nil
	}
	m.dropoutCalls++
	scale := gradScale / float32(count)
	if m.splits(B) {
		return m.splitLoss(ids, targets, B, T, scale) / float64(count), count, nil
	}
	return m.lossStep(ids, targets, B, T, scale) / float64(count), count, nil
}

// lossStep runs forward and backward of one training step on B sequences and returns the summed
// loss, adding scale·d(summed loss) into the gradients.
func (m *Model) lossStep(ids, targets []int32, B, T int, scale float32) float64 {
	m.training = true
	defer func() { m.training = false }()
	p := m.trainingPass() // the backward reads every activation
	xnf, a := m.forward(p, ids, B, T, nil, true)
	dxnf := p.tensor(B*T, m.Config.HiddenSize)
	sum := m.headLoss(p, xnf, targets, scale, dxnf)
	m.backward(p, a, dxnf)
	return sum
}

// backward propagates dxnf, the gradient of the final norm's output (headLoss made it
// and the lm_head's gradient), through the network, block by block in reverse, adding
// into the gradients being trained.
func (m *Model) backward(p *pass, a *acts, dxnf *tensor.Tensor) {
	c, be := m.Config, m.Backend
	N := a.B * a.T
	g := m.full
	dx := p.tensor(N, c.HiddenSize)
	be.RMSNormBackward(dx, gradOf(g, func(g *fullGrads) *tensor.Tensor { return g.norm }), dxnf, a.xf, m.Norm, a.rstdf)
	cos, sin := m.rope.tables(a.T)
	for li := len(m.Layers) - 1; li >= 0; li-- {
		l, s := &m.Layers[li], &a.layers[li]
		var gl *Layer
		if g != nil {
			gl = &g.layers[li]
		}
		p.useBackLayer()
		// MLP block: dx is the gradient of the block's output (residual passes through).
		// The block's inputs the forward did not keep are recomputed, bit for bit.
		xn2 := m.renorm(p, s.h, l.MLPNorm)
		gate, up := s.gate, s.up
		if gate == nil { // not kept: recomputed as the forward did (LoRA dropout draws the same mask)
			gate, up = p.tensor(N, c.IntermediateSize), p.tensor(N, c.IntermediateSize)
			m.linearTo(p, gate, li, Gate, xn2, s)
			m.linearTo(p, up, li, Up, xn2, s)
		}
		act := p.tensor(N, c.IntermediateSize)
		be.SwiGLU(act, gate, up)
		dact := m.linearBackward(p, li, Down, dx, act, s)
		dgate, dup := p.tensor(N, c.IntermediateSize), p.tensor(N, c.IntermediateSize)
		be.SwiGLUBackward(dgate, dup, dact, gate, up)
		dxn2 := m.linearBackward(p, li, Gate, dgate, xn2, s)
		be.Add(dxn2, m.linearBackward(p, li, Up, dup, xn2, s), 1)
		dh := p.tensor(N, c.HiddenSize)
		be.RMSNormBackward(dh, layerGrad(gl, func(l *Layer) *tensor.Tensor { return l.MLPNorm }), dxn2, s.h, l.MLPNorm, s.rstd2)
		be.Add(dh, dx, 1)
		// Attention block.
		shape := tensor.AttnShape{B: a.B, Tq: a.T, Tk: a.T, H: c.NumHeads, KV: c.NumKVHeads, HD: c.HeadDim,
			Scale: float32(1 / math.Sqrt(float64(c.HeadDim)))}
		att, lse := p.tensor(N, c.QDim()), p.tensor(N*c.NumHeads)
		be.Attention(att, lse, s.q, s.k, s.v, shape) // O(T²) per head: cheap beside the projections
		datt := m.linearBackward(p, li, O, dh, att, s)
		dq, dk, dv := p.tensor(N, c.QDim()), p.tensor(N, c.KVDim()), p.tensor(N, c.KVDim())
		be.AttentionBackward(dq, dk, dv, datt, att, lse, s.q, s.k, s.v, shape)
		be.RoPEBackward(dq, c.NumHeads, a.pos, cos, sin)
		be.RoPEBackward(dk, c.NumKVHeads, a.pos, cos, sin)
		if c.QKNorm {
			dq = m.headNormBackward(p, dq, s.qRaw, l.QNorm, s.rstdQ, c.NumHeads, layerGrad(gl, func(l *Layer) *tensor.Tensor { return l.QNorm }))
			dk = m.headNormBackward(p, dk, s.kRaw, l.KNorm, s.rstdK, c.NumKVHeads, layerGrad(gl, func(l *Layer) *tensor.Tensor { return l.KNorm }))
		}
		xn1 := m.renorm(p, s.x, l.AttnNorm)
		dxn1 := m.linearBackward(p, li, Q, dq, xn1, s)
		be.Add(dxn1, m.linearBackward(p, li, K, dk, xn1, s), 1)
		be.Add(dxn1, m.linearBackward(p, li, V, dv, xn1, s), 1)
		dx = p.carry(li, N, c.HiddenSize)
		be.RMSNormBackward(dx, layerGrad(gl, func(l *Layer) *tensor.Tensor { return l.AttnNorm }), dxn1, s.x, l.AttnNorm, s.rstd1)
		be.Add(dx, dh, 1)
	}
	if g != nil {
		be.EmbeddingBackward(g.embed, dx, a.ids)
	}
}

// renorm recomputes RMSNorm(x)·w, a layer input the forward did not keep (its rstd is
// recomputed too, into a buffer of its own: the saved one is the backward's).
func (m *Model) renorm(p *pass, x, w *tensor.Tensor) *tensor.Tensor {
	xn, rstd := p.tensor(x.Shape...), p.tensor(x.Rows())
	m.Backend.RMSNorm(xn, rstd, x, w, float32(m.Config.RMSNormEps))
	return xn
}

func (m *Model) headNormBackward(p *pass, dy, x, w, rstd *tensor.Tensor, heads int, dw *tensor.Tensor) *tensor.Tensor {
	hd := m.Config.HeadDim
	rows := dy.Rows() * heads
	dx := p.tensor(dy.Rows(), heads*hd)
	m.Backend.RMSNormBackward(p.viewOf(dx, rows, hd), dw, p.viewOf(dy, rows, hd), p.viewOf(x, rows, hd), w, rstd)
	return dx
}

func gradOf(g *fullGrads, f func(*fullGrads) *tensor.Tensor) *tensor.Tensor {
	if g == nil {
		return nil
	}
	return f(g)
}

func layerGrad(l *Layer, f func(*Layer) *tensor.Tensor) *tensor.Tensor {
	if l == nil {
		return nil
	}
	return f(l)
}
