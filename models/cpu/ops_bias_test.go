package cpu

import (
	"testing"

	"seal/models/tensor"
)

func TestBiasPanics(t *testing.T) {
	mustPanic(t, "bias", func() { be.AddBias(tensor.New(2, 3), tensor.New(2)) })
	mustPanic(t, "db", func() { be.BiasBackward(tensor.New(2), tensor.New(2, 3)) })
}
