package cpu

import "seal/models/tensor"

// Dropout scales kept elements by 1/(1−p) and zeroes the others; the mask comes from
// tensor.DropoutKeep, so calling it again with the same seed on a gradient is the
// backward pass.
func (be *Backend) Dropout(out, x *tensor.Tensor, p float32, seed uint64) {
	if len(out.F32) != len(x.F32) {
		panic("cpu: Dropout: out and x differ in size")
	}
	if p <= 0 {
		copy(out.F32, x.F32)
		return
	}
	scale := 1 / (1 - p)
	parallelRange(len(x.F32), len(x.F32)*8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if tensor.DropoutKeep(seed, i, p) {
				out.F32[i] = x.F32[i] * scale
			} else {
				out.F32[i] = 0
			}
		}
	})
}
