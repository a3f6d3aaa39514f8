package cpu

import (
	"testing"

	"seal/models/tensor"
)

func TestEmbeddingPanics(t *testing.T) {
	table := tensor.New(4, 3)
	mustPanic(t, "outside the table", func() { be.Embedding(tensor.New(1, 3), table, []int32{4}) })
	mustPanic(t, "outside the table", func() { be.Embedding(tensor.New(1, 3), table, []int32{-1}) })
	mustPanic(t, "outside the table", func() { be.EmbeddingBackward(table, tensor.New(1, 3), []int32{7}) })
	mustPanic(t, "for 2 ids", func() { be.Embedding(tensor.New(1, 3), table, []int32{0, 1}) })
}
