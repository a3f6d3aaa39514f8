package cpu

import (
	"fmt"

	"seal/models/tensor"
)

// The CPU's memory is the host's: a tensor is its Go slice, and Upload and Download are
// copies (a caller that wants no copy on the CPU uses the host tensor itself).

// Alloc returns a zeroed host tensor.
func (*Backend) Alloc(dt tensor.DType, shape ...int) *tensor.Tensor {
	n := tensor.Numel(shape)
	switch dt {
	case tensor.F32:
		return &tensor.Tensor{DType: dt, Shape: shape, F32: make([]float32, n)}
	case tensor.BF16:
		return &tensor.Tensor{DType: dt, Shape: shape, BF16: make([]uint16, n)}
	}
	panic(fmt.Sprintf("cpu: Alloc: dtype %v", dt))
}

// Free drops t's storage, so a use after it panics in the op that makes it instead of
// reading stale numbers; the garbage collector takes the memory back.
func (*Backend) Free(t *tensor.Tensor) { t.F32, t.BF16 = nil, nil }

// Upload copies src into dst.
func (*Backend) Upload(dst, src *tensor.Tensor) { copyTensor("Upload", dst, src) }

// Download copies src into dst.
func (*Backend) Download(dst, src *tensor.Tensor) { copyTensor("Download", dst, src) }

func copyTensor(op string, dst, src *tensor.Tensor) {
	host(op, "dst", dst)
	host(op, "src", src)
	sameLen(op, "dst", "src", dst, src)
	if dst.DType != src.DType {
		panic(fmt.Sprintf("cpu: %s: dst is %v, src %v", op, dst.DType, src.DType))
	}
	n := src.Len()
	if src.DType == tensor.F32 {
		copy(dst.F32[:n], src.F32[:n])
	} else {
		copy(dst.BF16[:n], src.BF16[:n])
	}
}
