package safetensors

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func encodeBytes(t *testing.T, ts []Tensor, meta map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Encode(&b, ts, meta); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// headerOf returns the JSON text of an encoded file, padding included.
func headerOf(b []byte) string {
	n := binary.LittleEndian.Uint64(b)
	return string(b[8 : 8+n])
}

// TestEncodeMatchesRustVectors checks the byte layouts the Rust crate's own
// tests pin down (serialization, empty file, metadata-only, alignment).
func TestEncodeMatchesRustVectors(t *testing.T) {
	six := F32Tensor("attn.0", []int{1, 2, 3}, []float32{0, 1, 2, 3, 4, 5})
	got := encodeBytes(t, []Tensor{six}, nil)
	want := `{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`
	if len(want)%8 != 0 || headerOf(got) != want || binary.LittleEndian.Uint64(got) != 64 || !bytes.Equal(got[72:], six.Data) {
		t.Errorf("attn.0: %q", got)
	}

	six.Name, six.Shape = "attn0", []int{1, 1, 2, 3}
	got = encodeBytes(t, []Tensor{six}, nil)
	if h := headerOf(got); h != `{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ` {
		t.Errorf("forced alignment: %q", h)
	}

	got = encodeBytes(t, nil, nil)
	if !bytes.Equal(got, []byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      ")) {
		t.Errorf("empty: %q", got)
	}
	got = encodeBytes(t, nil, map[string]string{"framework": "pt"})
	if h := headerOf(got); h != `{"__metadata__":{"framework":"pt"}}     ` || len(got) != 48 {
		t.Errorf("metadata only: %q", got)
	}
	// Non-nil empty metadata is written, nil is not.
	if h := headerOf(encodeBytes(t, nil, map[string]string{})); h != `{"__metadata__":{}}     ` {
		t.Errorf("empty metadata: %q", h)
	}
}

// TestEncodeOrder: the Python writer sorts by the Rust Dtype enum rank,
// descending, then by name (bytewise). Same-size dtypes are therefore
// grouped by dtype, not interleaved by name.
func TestEncodeOrder(t *testing.T) {
	mk := func(name string, dt DType) Tensor {
		return Tensor{Name: name, DType: dt, Shape: []int{1}, Data: make([]byte, dt.Size())}
	}
	ts := []Tensor{
		mk("a", BOOL), mk("b", U8), mk("a", I8), mk("c", F8E5M2), mk("d", F8E4M3), mk("e", F8E8M0),
		mk("a", I16), mk("z", U16), mk("y", F16), mk("x", BF16),
		mk("m", I32), mk("l", U32), mk("k", F32), mk("a.2", F32), mk("a.10", F32), mk("B", F32),
		mk("j", C64), mk("i", F64), mk("h", I64), mk("g", U64),
		{Name: "p4", DType: F4, Shape: []int{2}, Data: []byte{0}},
		{Name: "p6", DType: F6E2M3, Shape: []int{4}, Data: []byte{0, 0, 0}},
		{Name: "p6b", DType: F6E3M2, Shape: []int{4}, Data: []byte{0, 0, 0}},
	}
	// Names must be unique; rename the clashes but keep the dtype story.
	for i := range ts {
		ts[i].Name = ts[i].Name + "." + string(ts[i].DType)
	}
	want := []string{
		"g.U64", "h.I64", "i.F64", "j.C64",
		"B.F32", "a.10.F32", "a.2.F32", "k.F32", "l.U32", "m.I32",
		"x.BF16", "y.F16", "z.U16", "a.I16",
		"e.F8_E8M0", "d.F8_E4M3", "c.F8_E5M2", "a.I8", "b.U8",
		"p6b.F6_E3M2", "p6.F6_E2M3", "p4.F4", "a.BOOL",
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 5 {
		r.Shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
		b := encodeBytes(t, ts, nil)
		h, err := ParseHeader(b, int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ti := range h.Tensors {
			got = append(got, ti.Name)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("order\n got %v\nwant %v", got, want)
		}
		// JSON key order must equal data order.
		hdr := headerOf(b)
		last := -1
		for _, name := range want {
			i := strings.Index(hdr, `"`+name+`"`)
			if i < last {
				t.Fatalf("%s is out of order in the JSON", name)
			}
			last = i
		}
	}
}

// TestEncodeEscaping: strings are quoted like serde_json, which differs
// from encoding/json for '<', '>', '&', U+2028 and control characters.
func TestEncodeEscaping(t *testing.T) {
	name := "q\"b\\s/<>&é\u2028\n\r\t\b\f\x01\x1f\x7f"
	meta := map[string]string{"k\x00": "v<&>", "a": "é"}
	b := encodeBytes(t, []Tensor{{Name: name, DType: U8, Shape: []int{0}}}, meta)
	h := headerOf(b)
	wantName := `"q\"b\\s/<>&é` + "\u2028" + `\n\r\t\b\f\u0001\u001f` + "\x7f" + `"`
	if !strings.Contains(h, wantName) || !strings.HasPrefix(h, `{"__metadata__":{"a":"é","k\u0000":"v<&>"},`) {
		t.Fatalf("header %q", h)
	}
	p := writeTemp(t, "e.safetensors", b)
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.Names(); len(got) != 1 || got[0] != name {
		t.Fatalf("names %q", got)
	}
	if m := f.Metadata(); m["k\x00"] != "v<&>" || m["a"] != "é" {
		t.Fatalf("metadata %q", m)
	}
}

func TestEncodeRejects(t *testing.T) {
	ok := F32Tensor("a", []int{2}, []float32{1, 2})
	cases := []struct {
		name string
		ts   []Tensor
		meta map[string]string
		want string
	}{
		{"short data", []Tensor{{Name: "a", DType: F32, Shape: []int{3}, Data: make([]byte, 8)}}, nil, `tensor "a": data is 8 bytes but F32 [3] needs 12`},
		{"duplicate", []Tensor{ok, ok}, nil, `tensor "a": given twice`},
		{"unknown dtype", []Tensor{{Name: "q", DType: "Q4_K", Shape: []int{1}, Data: []byte{1}}}, nil, `unknown dtype "Q4_K"`},
		{"reserved name", []Tensor{{Name: "__metadata__", DType: U8, Shape: []int{0}}}, nil, "reserved"},
		{"negative dim", []Tensor{{Name: "n", DType: U8, Shape: []int{-1}}}, nil, "negative dimension"},
		{"bad utf8 name", []Tensor{{Name: "\xff", DType: U8, Shape: []int{0}}}, nil, "not valid UTF-8"},
		{"bad utf8 metadata", nil, map[string]string{"k": "\xff"}, "not valid UTF-8"},
		{"partial byte", []Tensor{{Name: "p", DType: F4, Shape: []int{3}, Data: []byte{0, 0}}}, nil, "whole number of bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			err := Encode(&b, c.ts, c.meta)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if b.Len() != 0 {
				t.Fatal("wrote bytes before failing")
			}
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "w.safetensors")
	v1 := []Tensor{F32Tensor("a", []int{2}, []float32{1, 2})}
	if err := WriteFile(p, v1, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	want := encodeBytes(t, v1, map[string]string{"format": "pt"})
	if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
		t.Fatal("WriteFile bytes differ from Encode")
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode())
	}
	// A failing write leaves the old file intact and no temp file behind.
	bad := []Tensor{{Name: "b", DType: F32, Shape: []int{5}, Data: make([]byte, 4)}}
	if err := WriteFile(p, bad, nil); err == nil || !strings.HasPrefix(err.Error(), "safetensors: "+p+`: tensor "b"`) {
		t.Fatalf("bad write: %v", err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
		t.Fatal("failed write damaged the old file")
	}
	// Overwrite with new content.
	v2 := []Tensor{BF16Tensor("c", []int{3}, []float32{1, 2, 3}), F16Tensor("d", []int{1}, []float32{0.5})}
	if err := WriteFile(p, v2, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.Names(); !slices.Equal(got, []string{"c", "d"}) {
		t.Fatalf("names %v", got)
	}
	if c, _ := f.Float32("c"); !slices.Equal(c, []float32{1, 2, 3}) {
		t.Fatalf("c = %v", c)
	}
	if d, _ := f.Float32("d"); !slices.Equal(d, []float32{0.5}) {
		t.Fatalf("d = %v", d)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("leftover files: %v", entries)
	}
	// An unwritable destination fails cleanly.
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir.safetensors"), v1, nil); err == nil {
		t.Fatal("wrote into a missing folder")
	}
}

// failWriter fails after n bytes, to check WriteFile-style cleanup paths
// and that Encode reports writer errors.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, os.ErrClosed
	}
	w.n -= len(p)
	return len(p), nil
}

func TestEncodeWriterError(t *testing.T) {
	ts := []Tensor{F32Tensor("a", []int{2}, []float32{1, 2})}
	for _, n := range []int{0, 10, 66} {
		if err := Encode(&failWriter{n: n}, ts, nil); err == nil {
			t.Errorf("writer failing after %d bytes: no error", n)
		}
	}
}
