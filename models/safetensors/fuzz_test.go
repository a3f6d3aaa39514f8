package safetensors

import (
	"bytes"
	"encoding/binary"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// brokenHeaders are hand-made near misses that seed both fuzz targets.
var brokenHeaders = []struct {
	header string
	data   int
}{
	{`{}`, 0},
	{`{"__metadata__":{"format":"pt"}}`, 0},
	{`{"__metadata__":null,"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, 4},
	{`{"a":{"dtype":"F32","shape":[5,6],"data_offsets":[0,100]}}`, 100},
	{`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, 12},
	{`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]}}`, 16},
	{`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, 12},
	{`{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}`, 4},
	{`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4},
	{`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, 4},
	{`{"a":{"dtype":"Q4_K","shape":[3],"data_offsets":[0,7]}}`, 7},
	{`{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, 2},
	{`{"a":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]},"a":{"dtype":"U8","shape":[0],"data_offsets":[3,3]}}`, 3},
	{`{"__metadata__":{"k":1}}`, 0},
	{`{"__metadata__":{"k":"\ud800"},"\u0000":{"dtype":"U64","shape":[],"data_offsets":[0,8]}}`, 8},
	{`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8],"x":[[[{}]]]}}   `, 8},
	{`{"a":5}`, 0},
	{`[]`, 0},
	{`{"a":`, 0},
}

// goldenPrefixes returns the 8-byte length plus header of each golden file,
// and the size of its data region.
func goldenPrefixes(f *testing.F) (prefixes [][]byte, dataSizes []int64) {
	for _, p := range goldenFiles(f) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		n := binary.LittleEndian.Uint64(b)
		prefixes = append(prefixes, b[:8+n])
		dataSizes = append(dataSizes, int64(len(b))-int64(8+n))
	}
	return prefixes, dataSizes
}

func FuzzParseHeader(f *testing.F) {
	prefixes, sizes := goldenPrefixes(f)
	for i, p := range prefixes {
		f.Add(p, uint32(sizes[i]))
	}
	for _, c := range brokenHeaders {
		f.Add(rawFile(c.header, 0), uint32(c.data))
	}
	f.Fuzz(func(t *testing.T, b []byte, extra uint32) {
		size := int64(len(b)) + int64(extra)
		h, err := ParseHeader(b, size)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Fatalf("unprefixed error %q", err)
			}
			return
		}
		checkHeader(t, h, size)
		// The writer must describe the same tensors: re-encode with zero
		// data (when small) and parse again.
		if h.DataSize > 1<<20 {
			return
		}
		var ts []Tensor
		for _, ti := range h.Tensors {
			if !ti.DType.Known() {
				return
			}
			ts = append(ts, Tensor{Name: ti.Name, DType: ti.DType, Shape: ti.Shape, Data: make([]byte, ti.ByteLen())})
		}
		var out bytes.Buffer
		if err := Encode(&out, ts, h.Metadata); err != nil {
			t.Fatalf("Encode of a valid header failed: %v", err)
		}
		h2, err := ParseHeader(out.Bytes(), int64(out.Len()))
		if err != nil {
			t.Fatalf("re-encoded header does not parse: %v\n%q", err, out.Bytes())
		}
		sameTensors(t, h, h2)
	})
}

// checkHeader asserts what a successful parse promises.
func checkHeader(t *testing.T, h Header, size int64) {
	t.Helper()
	if h.DataStart+h.DataSize != size || h.DataStart < 8 || h.DataSize < 0 {
		t.Fatalf("data region [%d,+%d) in a %d-byte file", h.DataStart, h.DataSize, size)
	}
	var pos int64
	seen := map[string]bool{}
	for _, ti := range h.Tensors {
		if ti.Begin != pos || ti.End < ti.Begin || seen[ti.Name] || ti.Name == metadataKey {
			t.Fatalf("bad tensor %+v at %d", ti, pos)
		}
		seen[ti.Name] = true
		pos = ti.End
		n := ti.NumElements()
		if n < 0 {
			t.Fatalf("%+v: overflowing element count accepted", ti)
		}
		if ti.DType.Known() {
			if need, err := ti.DType.byteLen(int64(n)); err != nil || need != ti.ByteLen() {
				t.Fatalf("%+v: size %d, %v", ti, need, err)
			}
		}
	}
	if pos != h.DataSize {
		t.Fatalf("tensors end at %d of %d", pos, h.DataSize)
	}
}

func sameTensors(t *testing.T, a, b Header) {
	t.Helper()
	if !maps.Equal(a.Metadata, b.Metadata) || (a.Metadata == nil) != (b.Metadata == nil) {
		t.Fatalf("metadata %q vs %q", a.Metadata, b.Metadata)
	}
	key := func(h Header) []string {
		var out []string
		for _, ti := range h.Tensors {
			out = append(out, ti.Name+"\x00"+string(ti.DType)+"\x00"+fmtShape(ti.Shape)+"\x00"+itoa(int(ti.ByteLen())))
		}
		slices.Sort(out)
		return out
	}
	if ka, kb := key(a), key(b); !slices.Equal(ka, kb) {
		t.Fatalf("tensors differ:\n%q\n%q", ka, kb)
	}
}

func FuzzOpen(f *testing.F) {
	for _, p := range goldenFiles(f) {
		if st, err := os.Stat(p); err == nil && st.Size() <= 64<<10 {
			b, _ := os.ReadFile(p)
			f.Add(b)
		}
	}
	for _, c := range brokenHeaders {
		f.Add(rawFile(c.header, c.data))
	}
	var all bytes.Buffer
	Encode(&all, []Tensor{
		F32Tensor("f32", []int{2}, []float32{1, -2}),
		BF16Tensor("bf16", []int{2}, []float32{1, -2}),
		F16Tensor("f16", []int{2}, []float32{1, -2}),
		I64Tensor("i64", []int{1, 1}, []int64{-5}),
		{Name: "f64", DType: F64, Shape: []int{1}, Data: make([]byte, 8)},
		{Name: "i32", DType: I32, Shape: []int{1}, Data: []byte{1, 2, 3, 4}},
		{Name: "u64", DType: U64, Shape: []int{1}, Data: bytes.Repeat([]byte{0xff}, 8)},
		{Name: "bool", DType: BOOL, Shape: []int{2}, Data: []byte{0, 1}},
		{Name: "f4", DType: F4, Shape: []int{2}, Data: []byte{0x21}},
	}, map[string]string{"format": "pt"})
	f.Add(all.Bytes())

	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.safetensors")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		file, err := Open(p)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "safetensors: "+p+": ") {
				t.Fatalf("error does not name the file: %q", err)
			}
			return
		}
		defer file.Close()
		checkHeader(t, file.header, int64(len(data)))
		known := true
		var ts []Tensor
		for _, name := range file.Names() {
			info, ok := file.Info(name)
			raw, err := file.Raw(name)
			if !ok || err != nil || int64(len(raw)) != info.ByteLen() {
				t.Fatalf("%s: %+v %v", name, info, err)
			}
			want := data[file.DataStart()+info.Begin : file.DataStart()+info.End]
			if !bytes.Equal(raw, want) {
				t.Fatalf("%s: Raw differs from the file bytes", name)
			}
			vals, ferr := file.Float32(name)
			if info.DType.IsFloat() != (ferr == nil) || (ferr == nil && len(vals) != info.NumElements()) {
				t.Fatalf("%s: Float32 on %s: %d values, %v", name, info.DType, len(vals), ferr)
			}
			if err := file.ReadFloat32(name, make([]float32, info.NumElements()+1)); err == nil {
				t.Fatalf("%s: ReadFloat32 accepted a wrong length", name)
			}
			ints, ierr := file.Int64(name)
			if ierr == nil && len(ints) != info.NumElements() {
				t.Fatalf("%s: Int64 gave %d values", name, len(ints))
			}
			if ierr != nil && info.DType.IsInt() && info.DType != U64 {
				t.Fatalf("%s: Int64 on %s: %v", name, info.DType, ierr)
			}
			known = known && info.DType.Known()
			ts = append(ts, Tensor{Name: name, DType: info.DType, Shape: info.Shape, Data: raw})
		}
		if !known {
			return
		}
		// Encoding is a fixed point: encode, parse, encode again, same bytes.
		var once, twice bytes.Buffer
		if err := Encode(&once, ts, file.Metadata()); err != nil {
			t.Fatalf("Encode of an opened file failed: %v", err)
		}
		h, err := ParseHeader(once.Bytes(), int64(once.Len()))
		if err != nil {
			t.Fatalf("re-encoded file does not parse: %v", err)
		}
		sameTensors(t, file.header, h)
		var ts2 []Tensor
		for _, ti := range h.Tensors {
			ts2 = append(ts2, Tensor{Name: ti.Name, DType: ti.DType, Shape: ti.Shape,
				Data: once.Bytes()[h.DataStart+ti.Begin : h.DataStart+ti.End]})
		}
		if err := Encode(&twice, ts2, h.Metadata); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatal("Encode is not a fixed point")
		}
	})
}
