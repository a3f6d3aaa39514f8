package cpu

import (
	"fmt"

	"seal/models/tensor"
)

// The CPU's memory is the host's: a tensor is its Go slice (Mem marks it as the CPU's),
// Upload and Download are copies, and UploadShared is no copy at all.

// hostMemory is the Mem of every CPU tensor: the host's memory has one owner.
type hostMemory struct{}

func (hostMemory) Backend() tensor.Backend { return New() }

// Alloc returns a zeroed host tensor.
func (*Backend) Alloc(dt tensor.DType, shape ...int) *tensor.Tensor {
	n := tensor.Numel(shape)
	switch dt {
	case tensor.F32:
		return &tensor.Tensor{DType: dt, Shape: shape, F32: make([]float32, n), Mem: hostMemory{}}
	case tensor.BF16:
		return &tensor.Tensor{DType: dt, Shape: shape, BF16: make([]uint16, n), Mem: hostMemory{}}
	}
	panic(fmt.Sprintf("cpu: Alloc: dtype %v", dt))
}

// UploadShared returns src's memory as a CPU tensor: a memory-mapped weight is used in
// place, and a LoRA weight shares its adapter's slice.
func (*Backend) UploadShared(src *tensor.Tensor) *tensor.Tensor {
	host("UploadShared", "src", src)
	t := *src
	t.Shape, t.Mem, t.Off = append([]int(nil), src.Shape...), hostMemory{}, 0
	return &t
}

// Zero clears a.
func (*Backend) Zero(a *tensor.Tensor) {
	host("Zero", "a", a)
	if a.DType == tensor.F32 {
		clear(a.F32[:a.Len()])
	} else {
		clear(a.BF16[:a.Len()])
	}
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
	if n == 0 || sameMemory(dst, src) {
		return // a tensor and its UploadShared twin: nothing to move
	}
	if src.DType == tensor.F32 {
		copy(dst.F32[:n], src.F32[:n])
	} else {
		copy(dst.BF16[:n], src.BF16[:n])
	}
}

// sameMemory says whether two tensors of one dtype begin at the same address.
func sameMemory(a, b *tensor.Tensor) bool {
	if a.DType == tensor.F32 {
		return &a.F32[0] == &b.F32[0]
	}
	return &a.BF16[0] == &b.BF16[0]
}
