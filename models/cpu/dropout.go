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
	args := dropoutArgs{out: out.F32, x: x.F32, p: p, scale: 1 / (1 - p), seed: seed}
	parallelRange(&dropoutOps, len(x.F32), len(x.F32)*8, args, func(a *dropoutArgs, lo, hi int) {
		for i := lo; i < hi; i++ {
			if tensor.DropoutKeep(a.seed, i, a.p) {
				a.out[i] = a.x[i] * a.scale
			} else {
				a.out[i] = 0
			}
		}
	})
}

type dropoutArgs struct {
	out, x   []float32
	p, scale float32
	seed     uint64
}

var dropoutOps opPool[dropoutArgs]
