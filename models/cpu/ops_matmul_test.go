package cpu

import (
	"testing"

	"seal/models/tensor"
)

func TestMatMulPanics(t *testing.T) {
	mustPanic(t, "op(a) is 3×4 and op(b) is 5×2", func() {
		be.MatMul(tensor.New(3, 2), tensor.New(3, 4), tensor.New(5, 2), false, false, 1, 0)
	})
	mustPanic(t, "c must be 3×2", func() {
		be.MatMul(tensor.New(3, 3), tensor.New(4, 3), tensor.New(2, 4), true, true, 1, 0)
	})
	mustPanic(t, "a must be F32", func() {
		be.MatMul(tensor.New(1, 1), tensor.FromBF16([]uint16{0}, 1, 1), tensor.New(1, 1), false, false, 1, 0)
	})
}
