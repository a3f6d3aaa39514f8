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

// CopyRows copies n rows of src into dst.
func (*Backend) CopyRows(dst *tensor.Tensor, dstRow int, src *tensor.Tensor, srcRow, n int) {
	const op = "CopyRows"
	host(op, "dst", dst)
	host(op, "src", src)
	c := src.Cols()
	switch {
	case dst.Cols() != c || dst.DType != src.DType:
		panic(fmt.Sprintf("cpu: %s: dst %v %v and src %v %v differ in columns or dtype", op, dst.DType, dst.Shape, src.DType, src.Shape))
	case n < 0 || dstRow < 0 || srcRow < 0 || dstRow+n > dst.Rows() || srcRow+n > src.Rows():
		panic(fmt.Sprintf("cpu: %s: %d rows from %d of %v to %d of %v", op, n, srcRow, src.Shape, dstRow, dst.Shape))
	}
	if src.DType == tensor.F32 {
		copy(dst.F32[dstRow*c:(dstRow+n)*c], src.F32[srcRow*c:(srcRow+n)*c])
	} else {
		copy(dst.BF16[dstRow*c:(dstRow+n)*c], src.BF16[srcRow*c:(srcRow+n)*c])
	}
}

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
