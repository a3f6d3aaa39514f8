package safetensors

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"
)

func le16(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

func TestFileConvertedReads(t *testing.T) {
	f64 := make([]byte, 0, 24)
	for _, v := range []float64{1.5, -1e-3, 1e300} {
		f64 = binary.LittleEndian.AppendUint64(f64, math.Float64bits(v))
	}
	ints := []Tensor{
		{Name: "i8", DType: I8, Shape: []int{3}, Data: []byte{0xff, 0x7f, 0x80}},
		{Name: "u8", DType: U8, Shape: []int{2}, Data: []byte{0xff, 1}},
		{Name: "bool", DType: BOOL, Shape: []int{3}, Data: []byte{0, 1, 2}},
		{Name: "i16", DType: I16, Shape: []int{2}, Data: le16(0xffff, 0x7fff)},
		{Name: "u16", DType: U16, Shape: []int{1}, Data: le16(0xffff)},
		{Name: "i32", DType: I32, Shape: []int{1}, Data: binary.LittleEndian.AppendUint32(nil, 0xfffffffe)},
		{Name: "u32", DType: U32, Shape: []int{1}, Data: binary.LittleEndian.AppendUint32(nil, 0xfffffffe)},
		I64Tensor("i64", []int{2, 1}, []int64{-7, math.MaxInt64}),
		{Name: "u64", DType: U64, Shape: []int{1}, Data: binary.LittleEndian.AppendUint64(nil, 1<<63)},
	}
	floats := []Tensor{
		F32Tensor("f32", []int{2}, []float32{1.25, -3}),
		{Name: "f16", DType: F16, Shape: []int{4}, Data: le16(0x3c00, 0x0001, 0xfc00, 0x7bff)},
		{Name: "bf16", DType: BF16, Shape: []int{2}, Data: le16(0x3f81, 0x0001)},
		{Name: "f64", DType: F64, Shape: []int{3}, Data: f64},
		{Name: "scalar", DType: F32, Shape: []int{}, Data: binary.LittleEndian.AppendUint32(nil, math.Float32bits(7))},
	}
	p := writeTemp(t, "m.safetensors", nil)
	if err := WriteFile(p, append(slices.Clone(ints), floats...), nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	wantF := map[string][]float32{
		"f32":    {1.25, -3},
		"f16":    {1, float32(math.Ldexp(1, -24)), float32(math.Inf(-1)), 65504},
		"bf16":   {1.0078125, float32(math.Ldexp(1, -133))},
		"f64":    {1.5, float32(-1e-3), float32(math.Inf(1))},
		"scalar": {7},
	}
	for name, want := range wantF {
		got, err := f.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
		dst := make([]float32, len(want))
		if err := f.ReadFloat32(name, dst); err != nil || !slices.Equal(dst, want) {
			t.Errorf("%s: ReadFloat32 %v %v", name, dst, err)
		}
		if err := f.ReadFloat32(name, make([]float32, len(want)+1)); err == nil || !strings.Contains(err.Error(), "destination holds") {
			t.Errorf("%s: ReadFloat32 with a wrong length: %v", name, err)
		}
		if _, err := f.Int64(name); err == nil || !strings.Contains(err.Error(), "cannot be read as int64") {
			t.Errorf("%s: Int64 on float: %v", name, err)
		}
	}
	wantI := map[string][]int64{
		"i8": {-1, 127, -128}, "u8": {255, 1}, "bool": {0, 1, 1}, "i16": {-1, 32767}, "u16": {65535},
		"i32": {-2}, "u32": {0xfffffffe}, "i64": {-7, math.MaxInt64},
	}
	for name, want := range wantI {
		got, err := f.Int64(name)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: got %v %v, want %v", name, got, err, want)
		}
		if _, err := f.Float32(name); err == nil || !strings.Contains(err.Error(), "cannot be read as float32") {
			t.Errorf("%s: Float32 on int: %v", name, err)
		}
	}
	if _, err := f.Int64("u64"); err == nil || !strings.Contains(err.Error(), "does not fit in int64") {
		t.Errorf("u64 overflow: %v", err)
	}
}

func TestFileAccessors(t *testing.T) {
	meta := map[string]string{"format": "pt"}
	p := writeTemp(t, "m.safetensors", nil)
	if err := WriteFile(p, []Tensor{
		F32Tensor("b", []int{2, 2}, []float32{1, 2, 3, 4}),
		F32Tensor("a", []int{1}, []float32{5}),
	}, meta); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if f.Path() != p {
		t.Error("Path")
	}
	if got := f.Names(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Names = %v", got)
	}
	m := f.Metadata()
	m["format"] = "changed"
	if f.Metadata()["format"] != "pt" {
		t.Error("Metadata must return a copy")
	}
	info, ok := f.Info("b")
	if !ok || info.DType != F32 || !slices.Equal(info.Shape, []int{2, 2}) || info.Begin != 4 || info.End != 20 || info.NumElements() != 4 || info.ByteLen() != 16 {
		t.Fatalf("Info(b) = %+v", info)
	}
	info.Shape[0] = 99
	if again, _ := f.Info("b"); again.Shape[0] != 2 {
		t.Error("Info must return a copy of the shape")
	}
	if _, ok := f.Info("zz"); ok {
		t.Error("Info of a missing tensor")
	}
	raw, err := f.Raw("a")
	if err != nil || len(raw) != 4 || cap(raw) != 4 {
		t.Fatalf("Raw(a): len %d cap %d %v", len(raw), cap(raw), err)
	}
	if _, err := f.Raw("zz"); err == nil || err.Error() != `safetensors: `+p+`: tensor "zz": no such tensor` {
		t.Errorf("Raw of a missing tensor: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := f.Raw("a"); err == nil || !strings.Contains(err.Error(), "file is closed") {
		t.Errorf("Raw after Close: %v", err)
	}
	if _, err := f.Float32("a"); err == nil {
		t.Error("Float32 after Close")
	}
}

// An unknown dtype is listed (and its bytes reachable) but not converted.
func TestUnknownDTypeListed(t *testing.T) {
	p := writeTemp(t, "q.safetensors", rawFile(`{"q":{"dtype":"Q4_K","shape":[3],"data_offsets":[0,7]}}`, 7))
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if info, ok := f.Info("q"); !ok || info.DType != "Q4_K" || info.DType.Size() != 0 {
		t.Fatalf("%+v", info)
	}
	if raw, err := f.Raw("q"); err != nil || len(raw) != 7 {
		t.Fatalf("Raw: %v", err)
	}
	if _, err := f.Float32("q"); err == nil || !strings.Contains(err.Error(), `tensor "q": dtype Q4_K cannot be read as float32`) {
		t.Fatalf("Float32: %v", err)
	}
	if err := f.ReadFloat32("q", make([]float32, 3)); err == nil {
		t.Fatal("ReadFloat32 on unknown dtype")
	}
}
