// Package stricttest is a test backend whose memory the host cannot read: it computes
// with the CPU backend's kernels, but every tensor it hands out has no host numbers
// (F32 and BF16 are nil) and keeps its data in a private allocation only this backend
// reaches. A model that runs on it and matches the golden fixtures reaches tensor data
// only through the backend (Upload, Download, UploadShared, the ops), so a device
// backend fails only where its own kernels are wrong.
//
// Every op checks its operands: a host tensor (a weight bound without upload, a table
// filled on the host), another backend's tensor, a tensor given host numbers after it
// was made, a view outside its allocation or a freed tensor panics, naming the op and
// the operand. It is a test backend, not a device, so it stays out of the registry
// (and out of --device); llamatest.Backend opens it for $SEAL_TEST_DEVICE=strict, so
//
//	SEAL_TEST_DEVICE=strict go test ./models/... ./engine/...
//
// runs the tests above the runtime on it.
package stricttest

import (
	"fmt"

	"seal/models/cpu"
	"seal/models/tensor"
)

// Backend is the strict backend; it holds no state but the CPU's, so one value serves
// any number of models.
type Backend struct{ cpu *cpu.Backend }

var _ tensor.Backend = (*Backend)(nil)

// New returns the strict backend.
func New() *Backend { return &Backend{cpu: cpu.New()} }

// Name is "strict".
func (*Backend) Name() string { return "strict" }

// memory is one allocation: its numbers, private to this package.
type memory struct {
	owner *Backend
	data  *tensor.Tensor // a CPU tensor; nil once freed
}

func (m *memory) Backend() tensor.Backend { return m.owner }

// Alloc returns a zeroed tensor whose numbers the host cannot see.
func (b *Backend) Alloc(dt tensor.DType, shape ...int) *tensor.Tensor {
	return &tensor.Tensor{DType: dt, Shape: shape, Mem: &memory{owner: b, data: b.cpu.Alloc(dt, tensor.Numel(shape))}}
}

// Free gives the allocation back; any tensor of it (views too) panics when used after.
func (b *Backend) Free(t *tensor.Tensor) {
	m := b.mem("Free", "t", t)
	if t.Off != 0 || t.Len() != m.data.Len() {
		panic(fmt.Sprintf("strict: Free: t is a view (%v from %d), not the allocation", t.Shape, t.Off))
	}
	m.data = nil
}

// UploadShared always copies: the backend's memory is never the host's.
func (b *Backend) UploadShared(src *tensor.Tensor) *tensor.Tensor {
	t := b.Alloc(src.DType, append([]int(nil), src.Shape...)...)
	b.Upload(t, src)
	return t
}

// Upload copies host tensor src into dst.
func (b *Backend) Upload(dst, src *tensor.Tensor) {
	b.cpu.Upload(b.dev("Upload", "dst", dst), hostOnly("Upload", "src", src))
}

// Download copies src into host tensor dst.
func (b *Backend) Download(dst, src *tensor.Tensor) {
	b.cpu.Download(hostOnly("Download", "dst", dst), b.dev("Download", "src", src))
}

// hostOnly checks that t is a host tensor (no backend memory).
func hostOnly(op, name string, t *tensor.Tensor) *tensor.Tensor {
	if t == nil || t.Mem != nil || !t.OnHost() {
		panic(fmt.Sprintf("strict: %s: %s must be a host tensor with its numbers", op, name))
	}
	return t
}

// mem returns the live allocation of one of this backend's tensors, or panics naming
// what is wrong with it.
func (b *Backend) mem(op, name string, t *tensor.Tensor) *memory {
	if t == nil {
		panic(fmt.Sprintf("strict: %s: %s is nil", op, name))
	}
	m, ok := t.Mem.(*memory)
	switch {
	case t.Mem == nil:
		panic(fmt.Sprintf("strict: %s: %s %v is a host tensor: the model passed memory the backend does not own", op, name, t.Shape))
	case !ok || m.owner != b:
		panic(fmt.Sprintf("strict: %s: %s %v belongs to backend %s", op, name, t.Shape, t.Mem.Backend().Name()))
	case t.F32 != nil || t.BF16 != nil:
		panic(fmt.Sprintf("strict: %s: %s %v was given host numbers", op, name, t.Shape))
	case m.data == nil:
		panic(fmt.Sprintf("strict: %s: %s %v was freed", op, name, t.Shape))
	case t.DType != m.data.DType:
		panic(fmt.Sprintf("strict: %s: %s is %v in a %v allocation", op, name, t.DType, m.data.DType))
	case t.Off < 0 || t.Off+t.Len() > m.data.Len():
		panic(fmt.Sprintf("strict: %s: %s %v from element %d is outside its allocation of %d", op, name, t.Shape, t.Off, m.data.Len()))
	}
	return m
}

// dev resolves one of this backend's tensors to the CPU tensor holding its numbers (a
// view into the private allocation, same shape).
func (b *Backend) dev(op, name string, t *tensor.Tensor) *tensor.Tensor {
	m := b.mem(op, name, t)
	v := m.data.Sub(t.Off, t.Shape)
	return &v
}

// opt is dev for an operand that may be nil.
func (b *Backend) opt(op, name string, t *tensor.Tensor) *tensor.Tensor {
	if t == nil {
		return nil
	}
	return b.dev(op, name, t)
}

// Zero clears a.
func (b *Backend) Zero(a *tensor.Tensor) { b.cpu.Zero(b.dev("Zero", "a", a)) }

// CopyRows copies rows between two of this backend's tensors.
func (b *Backend) CopyRows(dst *tensor.Tensor, dstRow int, src *tensor.Tensor, srcRow, n int) {
	b.cpu.CopyRows(b.dev("CopyRows", "dst", dst), dstRow, b.dev("CopyRows", "src", src), srcRow, n)
}
