package safetensors

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawFile builds file bytes from header JSON (unpadded, as given) and a data
// region of dataLen bytes numbered 0,1,2,...
func rawFile(header string, dataLen int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	for i := range dataLen {
		b = append(b, byte(i))
	}
	return b
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseHeaderRejects(t *testing.T) {
	const a8 = `"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`
	huge := binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1)
	huge = append(huge, make([]byte, 16)...)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty file", nil, "file is 0 bytes, shorter than the 8-byte header length"},
		{"7 bytes", make([]byte, 7), "shorter than the 8-byte header length"},
		{"length past end", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "header length 100 runs past the end of the 10-byte file"},
		{"absurd length", huge, "header length 100000001 exceeds the 100000000-byte limit"},
		{"max uint64 length", append(binary.LittleEndian.AppendUint64(nil, ^uint64(0)), "{}"...), "exceeds the 100000000-byte limit"},
		{"zero length", rawFile("", 0), "does not start with '{'"},
		{"not json", rawFile(`{"a":`, 0), "header is not valid JSON"},
		{"not json 2", rawFile(`{"a" "b"}`, 0), "header is not valid JSON"},
		{"array", rawFile(`[1,2]`, 0), "does not start with '{'"},
		{"leading space", rawFile(` {}`, 0), "does not start with '{'"},
		{"bad utf8", rawFile("{\"\xff\":1}", 0), "not valid UTF-8"},
		{"trailing data", rawFile(`{} x`, 0), "trailing data after the JSON object"},
		{"two objects", rawFile(`{}{}`, 0), "trailing data"},
		{"entry not object", rawFile(`{"a":5}`, 0), `tensor "a": entry is a number, not an object`},
		{"missing dtype", rawFile(`{"a":{"shape":[],"data_offsets":[0,0]}}`, 0), `tensor "a": missing dtype`},
		{"missing shape", rawFile(`{"a":{"dtype":"F32","data_offsets":[0,0]}}`, 0), `tensor "a": missing shape`},
		{"missing offsets", rawFile(`{"a":{"dtype":"F32","shape":[0]}}`, 0), `tensor "a": missing data_offsets`},
		{"dtype not string", rawFile(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, 4), `dtype is a number, not a string`},
		{"field twice", rawFile(`{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4), `field "dtype" given twice`},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), `tensor "a": shape holds negative number -1`},
		{"fraction dim", rawFile(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, 4), `shape holds 1.5, not an integer`},
		{"exponent dim", rawFile(`{"a":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}`, 4), `shape holds 1e0, not an integer`},
		{"string dim", rawFile(`{"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}`, 4), `shape holds a string, not an integer`},
		{"shape not array", rawFile(`{"a":{"dtype":"F32","shape":1,"data_offsets":[0,4]}}`, 4), `shape is a number, not an array`},
		{"huge dim", rawFile(`{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}`, 4), `too large`},
		{"element overflow", rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}`, 4), `element count of shape [4294967296,4294967296,16] overflows`},
		{"byte overflow", rawFile(`{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,4]}}`, 4), `F64 [4611686018427387904]: byte size overflows`},
		{"three offsets", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, 8), `data_offsets has 3 numbers`},
		{"negative offset", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, 4), `data_offsets holds negative number -4`},
		{"offset past data", rawFile(`{"a":{"dtype":"F32","shape":[50],"data_offsets":[0,200]}}`, 100), `tensor "a": data_offsets [0,200] run past the 100-byte data region`},
		{"offset past int64", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551615]}}`, 4), `out of range`},
		{"begin after end", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}`, 8), `tensor "a": data_offsets [8,4] begin after end`},
		{"wrong byte count", rawFile(`{"a":{"dtype":"F32","shape":[5,6],"data_offsets":[0,100]}}`, 100), `tensor "a": data_offsets [0,100] but F32 [5,6] needs 120 bytes`},
		{"sub-byte partial", rawFile(`{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, 2), `F4 [3]: does not fill a whole number of bytes`},
		{"overlap", rawFile(`{`+a8+`,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, 12), `tensor "b": data_offsets [4,12] overlap tensor "a" [0,8]`},
		{"same extent", rawFile(`{`+a8+`,"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 16), `tensor "b": data_offsets [0,8] overlap tensor "a" [0,8]`},
		{"gap", rawFile(`{`+a8+`,"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}`, 20), `tensor "b": data_offsets [12,20] leave a gap of 4 bytes after tensor "a" [0,8]`},
		{"gap at start", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, 12), `leave a gap of 4 bytes after the start of the data region`},
		{"unused tail", rawFile(`{`+a8+`}`, 12), `4 unused bytes at the end of the data region (tensors end at 8 of 12)`},
		{"data but no tensors", rawFile(`{}`, 3), `3 unused bytes`},
		{"duplicate name", rawFile(`{`+a8+`,`+a8+`}`, 8), `tensor "a": listed twice in the header`},
		{"duplicate metadata", rawFile(`{"__metadata__":{},"__metadata__":{}}`, 0), `header has "__metadata__" twice`},
		{"metadata string", rawFile(`{"__metadata__":"pt"}`, 0), `__metadata__ is a string, not a string->string object`},
		{"metadata number value", rawFile(`{"__metadata__":{"format":1}}`, 0), `__metadata__ value for "format" is a number, not a string`},
		{"metadata nested", rawFile(`{"__metadata__":{"format":{"x":"y"}}}`, 0), `value for "format" is "{", not a string`},
		{"metadata null value", rawFile(`{"__metadata__":{"format":null}}`, 0), `value for "format" is null, not a string`},
		{"metadata dup key", rawFile(`{"__metadata__":{"k":"a","k":"b"}}`, 0), `__metadata__ has key "k" twice`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseHeader(c.file, int64(len(c.file)))
			if err == nil {
				t.Fatalf("accepted %q", c.file)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Fatalf("error %q\nwant it to contain %q", err, c.want)
			}
			// Open must say the same thing, prefixed with the path.
			p := writeTemp(t, "x.safetensors", c.file)
			_, oerr := Open(p)
			if oerr == nil {
				t.Fatal("Open accepted what ParseHeader rejected")
			}
			if want := "safetensors: " + p + ": "; !strings.HasPrefix(oerr.Error(), want) || !strings.Contains(oerr.Error(), c.want) {
				t.Fatalf("Open error %q\nwant prefix %q and %q", oerr, want, c.want)
			}
		})
	}
}

// TestOpenErrorMessage pins the exact message format of the brief.
func TestOpenErrorMessage(t *testing.T) {
	p := writeTemp(t, "x.safetensors", rawFile(`{"a":{"dtype":"F32","shape":[5,6],"data_offsets":[0,100]}}`, 100))
	_, err := Open(p)
	want := `safetensors: ` + p + `: tensor "a": data_offsets [0,100] but F32 [5,6] needs 120 bytes`
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	var se *Error
	if !errors.As(err, &se) || se.Path != p || se.Tensor != "a" {
		t.Fatalf("not an *Error with path and tensor: %#v", err)
	}
	_, err = Open(filepath.Join(t.TempDir(), "missing.safetensors"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("directory: %v", err)
	}
}

func TestParseHeaderAccepts(t *testing.T) {
	cases := []struct {
		name, header string
		data         int
		tensors      int
		meta         map[string]string
	}{
		{"empty", `{}`, 0, 0, nil},
		{"padded", `{}      `, 0, 0, nil},
		{"whitespace padding", "{}\t\r\n ", 0, 0, nil},
		{"null metadata", `{"__metadata__":null}`, 0, 0, nil},
		{"empty metadata", `{"__metadata__":{}}`, 0, 0, map[string]string{}},
		{"metadata last", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"__metadata__":{"k":"v"}}`, 1, 1, map[string]string{"k": "v"}},
		{"scalar", `{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, 4, 1, nil},
		{"zero elements", `{"a":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, 0, 2, nil},
		{"zero-size between", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[0],"data_offsets":[1,1]},"c":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, 2, 3, nil},
		{"unknown dtype listed", `{"q":{"dtype":"Q4_K","shape":[3],"data_offsets":[0,7]}}`, 7, 1, nil},
		{"unknown fields skipped", `{"a":{"dtype":"U8","extra":{"x":[1,{"y":null}]},"shape":[1],"data_offsets":[0,1]}}`, 1, 1, nil},
		{"sub-byte", `{"a":{"dtype":"F4","shape":[2,3],"data_offsets":[0,3]}}`, 3, 1, nil},
		{"out of order", `{"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 2, 2, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := rawFile(c.header, c.data)
			h, err := ParseHeader(b, int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Tensors) != c.tensors || h.DataStart != int64(8+len(c.header)) || h.DataSize != int64(c.data) {
				t.Fatalf("got %+v", h)
			}
			if (h.Metadata == nil) != (c.meta == nil) || len(h.Metadata) != len(c.meta) {
				t.Fatalf("metadata %#v, want %#v", h.Metadata, c.meta)
			}
			for i := 1; i < len(h.Tensors); i++ {
				if h.Tensors[i].Begin < h.Tensors[i-1].End {
					t.Fatalf("not sorted by offset: %+v", h.Tensors)
				}
			}
		})
	}
}

// ParseHeader needs only the header bytes, not the data region.
func TestParseHeaderPrefixOnly(t *testing.T) {
	full := rawFile(`{"a":{"dtype":"F32","shape":[256],"data_offsets":[0,1024]}}`, 1024)
	prefix := full[:len(full)-1024]
	h, err := ParseHeader(prefix, int64(len(full)))
	if err != nil || len(h.Tensors) != 1 {
		t.Fatalf("%v %+v", err, h)
	}
	if _, err := ParseHeader(prefix[:20], int64(len(full))); err == nil || !strings.Contains(err.Error(), "only 12 were given") {
		t.Fatalf("short prefix: %v", err)
	}
}
