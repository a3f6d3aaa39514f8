package cpu

import (
	"testing"

	"seal/models/tensor"
)

func TestRoPEPanics(t *testing.T) {
	c, s := tensor.New(4, 2), tensor.New(4, 2)
	mustPanic(t, "outside the tables", func() { be.RoPE(tensor.New(1, 4), 1, []int32{4}, c, s) })
	mustPanic(t, "heads", func() { be.RoPE(tensor.New(1, 6), 1, []int32{0}, c, s) })
	mustPanic(t, "positions", func() { be.RoPE(tensor.New(2, 4), 1, []int32{0}, c, s) })
}
