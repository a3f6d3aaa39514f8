package safetensors

import (
	"fmt"
	"maps"
	"os"
	"slices"
)

// File is one open safetensors file. The bytes are memory-mapped where the
// platform allows, so Raw views cost nothing and unused tensors are never
// read from disk. Methods may be called concurrently; Close must not race
// with them, and Raw views are invalid after Close.
type File struct {
	path   string
	data   []byte
	unmap  func([]byte) error
	header Header
	index  map[string]int
	closed bool
}

// Open maps path and validates its header.
func Open(path string) (*File, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	defer osf.Close() // the mapping outlives the descriptor
	st, err := osf.Stat()
	if err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{Path: path, Msg: "not a regular file"}
	}
	size := st.Size()
	if size < 8 {
		_, err := ParseHeader(nil, size)
		return nil, withPath(path, err)
	}
	data, unmap, err := mapFile(osf, size)
	if err != nil {
		return nil, &Error{Path: path, Msg: "map", Err: err}
	}
	h, err := ParseHeader(data, size)
	if err != nil {
		unmap(data)
		return nil, withPath(path, err)
	}
	f := &File{path: path, data: data, unmap: unmap, header: h, index: make(map[string]int, len(h.Tensors))}
	for i, t := range h.Tensors {
		f.index[t.Name] = i
	}
	return f, nil
}

// Close releases the mapping. Calling it again does nothing.
func (f *File) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	data := f.data
	f.data = nil
	if err := f.unmap(data); err != nil {
		return &Error{Path: f.path, Msg: "unmap", Err: err}
	}
	return nil
}

// Path is the name the file was opened with, for error messages upstream.
func (f *File) Path() string { return f.path }

// Metadata returns a copy of "__metadata__", nil when the file has none.
func (f *File) Metadata() map[string]string { return maps.Clone(f.header.Metadata) }

// Names lists the tensors in data-offset order, which is the file's own order.
func (f *File) Names() []string {
	out := make([]string, len(f.header.Tensors))
	for i, t := range f.header.Tensors {
		out[i] = t.Name
	}
	return out
}

// Tensors returns every tensor's info in data-offset order.
func (f *File) Tensors() []TensorInfo {
	out := make([]TensorInfo, len(f.header.Tensors))
	for i, t := range f.header.Tensors {
		t.Shape = slices.Clone(t.Shape)
		out[i] = t
	}
	return out
}

// DataStart is the file offset of the data region, for callers that read
// tensors themselves (direct I/O, GPU upload).
func (f *File) DataStart() int64 { return f.header.DataStart }

// Info describes one tensor; the shape is a copy the caller may keep.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	t := f.header.Tensors[i]
	t.Shape = slices.Clone(t.Shape)
	return t, true
}

// Raw returns the tensor's bytes as a view into the mapping: no copy, read
// only, valid until Close.
func (f *File) Raw(name string) ([]byte, error) {
	_, b, err := f.lookup(name)
	return b, err
}

// Float32 returns the tensor as a new []float32, converting F16, BF16 and F64.
func (f *File) Float32(name string) ([]float32, error) {
	t, _, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	if !t.DType.IsFloat() {
		return nil, f.errorf(name, "dtype %s cannot be read as float32", t.DType)
	}
	dst := make([]float32, t.NumElements())
	if err := f.ReadFloat32(name, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

// ReadFloat32 converts the tensor into dst, which must have exactly one slot
// per element, so hot paths can reuse buffers.
func (f *File) ReadFloat32(name string, dst []float32) error {
	t, b, err := f.lookup(name)
	if err != nil {
		return err
	}
	if !t.DType.IsFloat() {
		return f.errorf(name, "dtype %s cannot be read as float32", t.DType)
	}
	if n := t.NumElements(); len(dst) != n {
		return f.errorf(name, "destination holds %d values, tensor %s %s has %d", len(dst), t.DType, fmtShape(t.Shape), n)
	}
	if err := decodeFloat32(t.DType, b, dst); err != nil {
		return f.errorf(name, "%v", err)
	}
	return nil
}

// Int64 returns an integer or BOOL tensor widened to int64 (token ids,
// labels), as a new slice.
func (f *File) Int64(name string) ([]int64, error) {
	t, b, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	if !t.DType.IsInt() {
		return nil, f.errorf(name, "dtype %s cannot be read as int64", t.DType)
	}
	dst := make([]int64, t.NumElements())
	if err := decodeInt64(t.DType, b, dst); err != nil {
		return nil, f.errorf(name, "%v", err)
	}
	return dst, nil
}

// lookup finds a tensor and its bytes; the view's capacity ends with the
// tensor so an append can never write into the next one.
func (f *File) lookup(name string) (TensorInfo, []byte, error) {
	if f.closed {
		return TensorInfo{}, nil, f.errorf("", "file is closed")
	}
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, nil, f.errorf(name, "no such tensor")
	}
	t := f.header.Tensors[i]
	lo, hi := f.header.DataStart+t.Begin, f.header.DataStart+t.End
	return t, f.data[lo:hi:hi], nil
}

func (f *File) errorf(tensor, format string, args ...any) error {
	return &Error{Path: f.path, Tensor: tensor, Msg: fmt.Sprintf(format, args...)}
}
