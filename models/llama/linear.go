package llama

import (
	"fmt"

	"seal/models/lora"
	"seal/models/tensor"
)

// loraModule is an adapter bound to one projection: y += Scale · (x·Aᵀ)·Bᵀ.
type loraModule struct {
	mod     *lora.Module   // the adapter's host copy of A and B
	A, B    *tensor.Tensor // [r, in], [out, r], uploaded (on the CPU: the module's slices)
	dA, dB  *tensor.Tensor // gradients, allocated when training
	scale   float32
	dropout float32 // on the LoRA branch's input, while training (as PEFT's lora_dropout)
}

// SetAdapter applies a LoRA adapter (nil removes it), uploading its weights to the
// backend. Training updates them there; the adapter's own slices are brought up to date
// when training stops (StopTraining, the end of FitLoRA) and when the adapter is
// removed or replaced, so saving it then saves what was trained. (On the CPU the model
// uses the adapter's slices themselves and these copies are no-ops.)
func (m *Model) SetAdapter(a *lora.Adapter) error {
	m.detachAdapter()
	if a == nil {
		return nil
	}
	c := m.Config
	if err := a.Check(c.NumLayers, c.ProjectionShape); err != nil {
		return err
	}
	mods := make([][numProj]*loraModule, c.NumLayers)
	for _, mod := range a.Modules {
		p := projIndex(mod.Proj)
		if p < 0 {
			return fmt.Errorf("llama: adapter module %s targets unknown projection %s", mod.Name, mod.Proj)
		}
		mods[mod.Layer][p] = &loraModule{
			mod:     mod,
			A:       m.Backend.UploadShared(tensor.FromF32(mod.A, mod.Rank, mod.In)),
			B:       m.Backend.UploadShared(tensor.FromF32(mod.B, mod.Out, mod.Rank)),
			scale:   mod.Scale,
			dropout: float32(a.Config.Dropout),
		}
	}
	m.adapter, m.lora = a, mods
	return nil
}

// downloadAdapter copies the LoRA weights from the backend into the adapter's slices:
// the named point where trained weights reach the host.
func (m *Model) downloadAdapter() {
	for _, l := range m.lora {
		for _, lm := range l {
			if lm != nil {
				m.Backend.Download(tensor.FromF32(lm.mod.A, lm.A.Shape...), lm.A)
				m.Backend.Download(tensor.FromF32(lm.mod.B, lm.B.Shape...), lm.B)
			}
		}
	}
}

// detachAdapter brings the adapter in use up to date, gives its backend memory back
// and removes it.
func (m *Model) detachAdapter() {
	m.dropReplica()
	m.downloadAdapter()
	for _, l := range m.lora {
		for _, lm := range l {
			if lm != nil {
				m.Backend.Free(lm.A)
				m.Backend.Free(lm.B)
			}
		}
	}
	m.adapter, m.lora = nil, nil
}

// Adapter returns the adapter in use, or nil.
func (m *Model) Adapter() *lora.Adapter { return m.adapter }

func projIndex(name string) int {
	for i, p := range Projections {
		if p == name {
			return i
		}
	}
	return -1
}

func (m *Model) loraMod(layer, p int) *loraModule {
	if m.lora == nil {
		return nil
	}
	return m.lora[layer][p]
}

// linear computes x·Wᵀ + bias (+ the LoRA branch), saving the LoRA input projection
// x·Aᵀ in s for the backward pass.
func (m *Model) linear(ps *pass, layer, p int, x *tensor.Tensor, s *layerActs) *tensor.Tensor {
	y := ps.tensor(x.Rows(), m.Layers[layer].W[p].Shape[0])
	m.linearTo(ps, y, layer, p, x, s)
	return y
}

// linearTo is linear writing into y. Run again on the same input in the same training
// call (the backward's recomputation) it gives the same y: LoRA dropout draws the same mask.
func (m *Model) linearTo(ps *pass, y *tensor.Tensor, layer, p int, x *tensor.Tensor, s *layerActs) {
	l := &m.Layers[layer]
	m.frozenMatMul(y, x, l.W[p], true)
	if l.Bias[p] != nil {
		m.Backend.AddBias(y, l.Bias[p])
	}
	if lm := m.loraMod(layer, p); lm != nil {
		in := x
		if seed, on := m.dropoutSeed(layer, p, lm); on {
			in = ps.tensor(x.Shape...)
			m.Backend.Dropout(in, x, lm.dropout, seed)
			s.loraIn[p] = in
		}
		u := ps.tensor(x.Rows(), lm.A.Shape[0])
		m.Backend.MatMul(u, in, lm.A, false, true, 1, 0)
		m.Backend.MatMul(y, u, lm.B, false, true, lm.scale, 1)
		s.lora[p] = u
	}
}

// frozenMatMul is c = a·op(w) for a weight w the LoRA step does not train (op(w) = wᵀ for Y = X·Wᵀ, w
// for dX = dY·W). While a training step runs on bf16 weights of a model with BF16Products it is the
// bf16 product (MatMulBF16: the activations rounded to bf16, as torch trains a bf16 model, and on a
// CPU with AVX512_BF16 about twice the f32 rate, BenchmarkSgemmBF16Dot); everything else, inference and
// f32 weights and so the golden parity checks, multiplies in float32.
func (m *Model) frozenMatMul(c, a, w *tensor.Tensor, transB bool) {
	if m.training && m.BF16Products && w.DType == tensor.BF16 {
		m.Backend.MatMulBF16(c, a, w, transB, 1, 0)
		return
	}
	m.Backend.MatMul(c, a, w, false, transB, 1, 0)
}

// dropoutSeed says whether LoRA dropout applies (training, p > 0) and the mask's seed:
// one per training call, layer and projection, as PEFT has one dropout module each.
func (m *Model) dropoutSeed(layer, p int, lm *loraModule) (uint64, bool) {
	if !m.training || lm.dropout <= 0 {
		return 0, false
	}
	return m.dropoutCalls*0x100000001b3 ^ uint64(layer*numProj+p+1)*0x9e3779b97f4a7c15 ^ m.dropoutSalt*0xd1b54a32d192ed03, true
}

// linearBackward returns dx for y = linear(x) given dy, and adds the parameter
// gradients being trained: LoRA's dA and dB, or (full training) dW and dbias.
func (m *Model) linearBackward(ps *pass, layer, p int, dy, x *tensor.Tensor, s *layerActs) *tensor.Tensor {
	l := &m.Layers[layer]
	w := l.W[p]
	dx := ps.tensor(dy.Rows(), w.Shape[1])
	m.frozenMatMul(dx, dy, w, false)
	if g := m.full; g != nil {
		m.Backend.MatMul(g.layers[layer].W[p], dy, x, true, false, 1, 1)
		if db := g.layers[layer].Bias[p]; db != nil {
			m.Backend.BiasBackward(db, dy)
		}
	}
	if lm := m.loraMod(layer, p); lm != nil {
		in := x
		if s.loraIn[p] != nil {
			in = s.loraIn[p] // the dropped-out input the branch saw
		}
		t := ps.tensor(dy.Rows(), lm.B.Shape[1])
		m.Backend.MatMul(t, dy, lm.B, false, false, 1, 0) // t = dy·B
		if lm.dB != nil {
			m.Backend.MatMul(lm.dB, dy, s.lora[p], true, false, lm.scale, 1) // dB += s·dyᵀ·(in·Aᵀ)
			m.Backend.MatMul(lm.dA, t, in, true, false, lm.scale, 1)         // dA += s·tᵀ·in
		}
		if seed, on := m.dropoutSeed(layer, p, lm); on {
			dxl := ps.tensor(dx.Shape...)
			m.Backend.MatMul(dxl, t, lm.A, false, false, lm.scale, 0)
			m.Backend.Dropout(dxl, dxl, lm.dropout, seed) // the same mask, backward
			m.Backend.Add(dx, dxl, 1)
		} else {
			m.Backend.MatMul(dx, t, lm.A, false, false, lm.scale, 1) // dx += s·t·A
		}
	}
	return dx
}
