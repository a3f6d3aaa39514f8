// Package tensor holds dense tensors and the Backend interface, the only door to
// compute: the network code above asks a Backend to run each op, forward or backward,
// and never loops over numbers itself.
package tensor

import (
	"fmt"
)

// DType is a tensor's element type. Activations, gradients, LoRA weights and optimizer
// state are F32; large frozen weights may stay BF16 (converted inside the kernels) so a
// model needs no more memory than its checkpoint.
type DType uint8

const (
	F32 DType = iota
	BF16
)

func (d DType) String() string {
	switch d {
	case F32:
		return "F32"
	case BF16:
		return "BF16"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Size is the bytes per element.
func (d DType) Size() int {
	if d == BF16 {
		return 2
	}
	return 4
}

// Tensor is a dense row-major tensor whose numbers live in F32 or BF16 (one of them, by
// DType).
type Tensor struct {
	DType DType
	Shape []int
	F32   []float32
	BF16  []uint16
}

// New allocates a zeroed host F32 tensor.
func New(shape ...int) *Tensor {
	return &Tensor{DType: F32, Shape: shape, F32: make([]float32, Numel(shape))}
}

// FromF32 wraps data (not copied) as a tensor of the given shape.
func FromF32(data []float32, shape ...int) *Tensor {
	if len(data) != Numel(shape) {
		panic(fmt.Sprintf("tensor: %d values for shape %v", len(data), shape))
	}
	return &Tensor{DType: F32, Shape: shape, F32: data}
}

// FromBF16 wraps bf16 data (not copied), e.g. a memory-mapped checkpoint tensor.
func FromBF16(data []uint16, shape ...int) *Tensor {
	if len(data) != Numel(shape) {
		panic(fmt.Sprintf("tensor: %d values for shape %v", len(data), shape))
	}
	return &Tensor{DType: BF16, Shape: shape, BF16: data}
}

// Numel is the number of elements of a shape.
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len is the number of elements.
func (t *Tensor) Len() int { return Numel(t.Shape) }

// Rows and Cols view the tensor as a matrix whose rows are all but the last dimension.
func (t *Tensor) Cols() int { return t.Shape[len(t.Shape)-1] }
func (t *Tensor) Rows() int { return t.Len() / t.Cols() }

// Bytes is the storage size.
func (t *Tensor) Bytes() int64 { return int64(t.Len()) * int64(t.DType.Size()) }

// View returns a tensor sharing t's storage with another shape of the same size.
func (t *Tensor) View(shape ...int) *Tensor {
	if Numel(shape) != t.Len() {
		panic(fmt.Sprintf("tensor: view %v of %v", shape, t.Shape))
	}
	v := *t
	v.Shape = shape
	return &v
}

// RowRange returns rows [from, to) of a host tensor viewed as a matrix, sharing storage.
func (t *Tensor) RowRange(from, to int) *Tensor {
	c := t.Cols()
	v := &Tensor{DType: t.DType, Shape: []int{to - from, c}}
	switch t.DType {
	case F32:
		v.F32 = t.F32[from*c : to*c]
	case BF16:
		v.BF16 = t.BF16[from*c : to*c]
	}
	return v
}
