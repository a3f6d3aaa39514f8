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
				w = m.ownedF32(w)
				m.Layers[li].W[p] = w
			}
			m.Backend.MatMul(w, lm.B, lm.A, false, false, sign*lm.scale, 1)
		}
	}
	m.adapter, m.lora = nil, nil
	return nil
}

// ownedF32 converts a weight to a fresh F32 tensor on the host.
func (m *Model) ownedF32(w *tensor.Tensor) *tensor.Tensor {
	out := tensor.New(w.Shape...)
	switch w.DType {
	case tensor.F32:
		copy(out.F32, w.F32)
	case tensor.BF16:
		for i, h := range w.BF16 {
			out.F32[i] = safetensors.BF16ToF32(h)
		}
	}
	m.owned[out] = true
	return out
}
