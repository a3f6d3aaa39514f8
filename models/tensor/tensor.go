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

// Tensor is a dense row-major tensor. A backend tensor lives in the memory of the
// backend that allocated it (Mem, from Off elements on); the host reaches its numbers
// only through that backend's Download. A host tensor (New, FromF32, FromBF16) has no
// Mem and its numbers in F32 or BF16 (one of them, by DType). A backend whose memory is
// the host's (the CPU) fills F32 or BF16 of its tensors too, so its ops and the named
// host points (ToHost) need no copy; a device backend leaves them nil.
type Tensor struct {
	DType DType
	Shape []int
	F32   []float32
	BF16  []uint16
	Mem   Memory // the backend's allocation the tensor lives in; nil for a host tensor
	Off   int    // where the tensor begins in Mem, in elements
}

// Memory is a backend's handle to one allocation; only that backend reads what it holds.
type Memory interface {
	Backend() Backend
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

// Backend is the backend whose memory holds t, nil for a host tensor.
func (t *Tensor) Backend() Backend {
	if t.Mem == nil {
		return nil
	}
	return t.Mem.Backend()
}

// OnHost says whether the host can read t's numbers in F32 or BF16 without a copy: a
// host tensor, or one of a backend whose memory is the host's.
func (t *Tensor) OnHost() bool {
	if t.DType == BF16 {
		return len(t.BF16) >= t.Len()
	}
	return len(t.F32) >= t.Len()
}

// Sub is the tensor of the given shape whose elements begin at element off of t, sharing
// t's memory, host or backend: a view is the same allocation at another offset, so it
// needs no backend call, and a caller that keeps the value and the shape (an arena)
// makes it without allocating.
func (t *Tensor) Sub(off int, shape []int) Tensor {
	n := Numel(shape)
	if off < 0 || n < 0 || off+n > t.Len() {
		panic(fmt.Sprintf("tensor: %v from element %d of %v", shape, off, t.Shape))
	}
	v := Tensor{DType: t.DType, Shape: shape, Mem: t.Mem, Off: t.Off + off}
	if t.F32 != nil {
		v.F32 = t.F32[off : off+n]
	}
	if t.BF16 != nil {
		v.BF16 = t.BF16[off : off+n]
	}
	return v
}

// View returns a tensor sharing t's storage with another shape of the same size.
func (t *Tensor) View(shape ...int) *Tensor {
	if Numel(shape) != t.Len() {
		panic(fmt.Sprintf("tensor: view %v of %v", shape, t.Shape))
	}
	v := t.Sub(0, shape)
	return &v
}

// RowRange returns rows [from, to) of t viewed as a matrix, sharing storage.
func (t *Tensor) RowRange(from, to int) *Tensor {
	c := t.Cols()
	v := t.Sub(from*c, []int{to - from, c})
	return &v
}

// ToHost returns t's numbers as a host tensor: t itself when the host can read it (no
// copy on the CPU), else a copy downloaded from its backend. It is for the named points
// where numbers leave the backend (checkpoints, adapters, merges, sampling).
func ToHost(t *Tensor) *Tensor {
	if t.OnHost() {
		return t
	}
	if t.Mem == nil {
		panic(fmt.Sprintf("tensor: ToHost: a host tensor %v %v without its numbers", t.DType, t.Shape))
	}
	h := &Tensor{DType: t.DType, Shape: t.Shape}
	if t.DType == BF16 {
		h.BF16 = make([]uint16, t.Len())
	} else {
		h.F32 = make([]float32, t.Len())
	}
	t.Backend().Download(h, t)
	return h
}
