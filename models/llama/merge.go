package llama

import (
	"fmt"

	"seal/models/safetensors"
	"seal/models/tensor"
)

// MergeAdapter folds the attached adapter into the weights, W += scale·B·A, and
// detaches it: the merged model computes what base + adapter computed, at base cost.
// Merged projections become owned F32 copies (a bf16 or memory-mapped weight is never
// written in place), so the checkpoint on disk is untouched.
func (m *Model) MergeAdapter() error {
	return m.mergeAdapter(1)
}

// UnmergeAdapter subtracts a previously merged adapter (attached again for the call)
// from the weights. In float32 W + ΔW − ΔW can differ from W by a rounding step; code
// that must restore weights bit for bit rebuilds them from the base checkpoint instead.
func (m *Model) UnmergeAdapter() error {
	return m.mergeAdapter(-1)
}

func (m *Model) mergeAdapter(sign float32) error {
	if m.adapter == nil {
		return fmt.Errorf("llama: no adapter attached")
	}
	if m.full != nil {
		return fmt.Errorf("llama: merging while full-parameter training is not supported")
	}
	for li := range m.lora {
		for p, lm := range m.lora[li] {
			if lm == nil {
				continue
			}
			w := m.Layers[li].W[p]
			if w.DType != tensor.F32 || !m.owned[w] {
				old := w
				w = m.ownedF32(w)
				m.Layers[li].W[p] = w
				delete(m.owned, old)
				m.Backend.Free(old) // nothing else holds a projection; a merge runs alone
			}
			m.Backend.MatMul(w, lm.B, lm.A, false, false, sign*lm.scale, 1)
		}
	}
	m.detachAdapter()
	return nil
}

// ownedF32 converts a weight to a fresh F32 tensor the model owns, by way of the host
// (a merge is one of the named points where weights leave the backend).
func (m *Model) ownedF32(w *tensor.Tensor) *tensor.Tensor {
	h := tensor.ToHost(w)
	out := make([]float32, w.Len())
	switch w.DType {
	case tensor.F32:
		copy(out, h.F32)
	case tensor.BF16:
		for i, v := range h.BF16[:len(out)] {
			out[i] = safetensors.BF16ToF32(v)
		}
	}
	t := m.Backend.UploadShared(tensor.FromF32(out, w.Shape...))
	m.owned[t] = true
	return t
}
