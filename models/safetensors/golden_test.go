package safetensors

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"seal/internal/shareddata"
)

// goldenFiles walks the golden folder so that files added later are checked
// without editing this test.
func goldenFiles(t testing.TB) []string {
	t.Helper()
	root, err := shareddata.Golden()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".safetensors") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no .safetensors files under %s", root)
	}
	return out
}

func relName(t testing.TB, p string) string {
	root, _ := shareddata.Golden()
	r, err := filepath.Rel(root, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestGoldenRoundTrip re-encodes every golden file from its own tensors and
// metadata and requires the exact original bytes: proof that the writer
// orders, formats and pads like the Python one.
func TestGoldenRoundTrip(t *testing.T) {
	for _, p := range goldenFiles(t) {
		t.Run(relName(t, p), func(t *testing.T) {
			want, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var ts []Tensor
			var total int64
			for _, name := range f.Names() {
				info, _ := f.Info(name)
				raw, err := f.Raw(name)
				if err != nil {
					t.Fatal(err)
				}
				total += int64(len(raw))
				ts = append(ts, Tensor{Name: name, DType: info.DType, Shape: info.Shape, Data: raw})
			}
			if f.DataStart()+total != int64(len(want)) {
				t.Fatalf("tensors cover %d bytes after a %d-byte prefix, file is %d", total, f.DataStart(), len(want))
			}
			// Reverse the order so Encode must sort, not echo, its input.
			slices.Reverse(ts)
			var got bytes.Buffer
			if err := Encode(&got, ts, f.Metadata()); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				keys := f.header.metaKeys
				if len(keys) > 1 && !slices.IsSorted(keys) {
					// The Rust writer emits metadata in HashMap order, which
					// Encode cannot know; reproduce it with the file's order.
					got.Reset()
					if err := encode(&got, ts, f.Metadata(), keys); err != nil {
						t.Fatal(err)
					}
					if bytes.Equal(got.Bytes(), want) {
						t.Logf("%s: metadata keys %v are unsorted (hash order); identical with the file's key order", p, keys)
						return
					}
				}
				t.Fatalf("re-encoded bytes differ from %s\n%s", p, firstDiff(got.Bytes(), want))
			}
			t.Logf("%s: %d tensors, %d bytes, header %d bytes: identical", p, len(ts), len(want), f.DataStart()-8)
		})
	}
}

func firstDiff(got, want []byte) string {
	n := min(len(got), len(want))
	i := 0
	for i < n && got[i] == want[i] {
		i++
	}
	lo, hi := max(0, i-60), i+60
	return "first difference at byte " + itoa(i) +
		"\n got: " + string(got[lo:min(hi, len(got))]) +
		"\nwant: " + string(want[lo:min(hi, len(want))])
}

func itoa(i int) string { return fmtShape([]int{i})[1 : len(fmtShape([]int{i}))-1] }

// TestGoldenBF16IsRoundedF32 checks that each model.bf16.safetensors is its
// model.safetensors rounded with F32ToBF16, bit for bit, and that Float32
// reads bf16 back exactly.
func TestGoldenBF16IsRoundedF32(t *testing.T) {
	var pairs int
	for _, p := range goldenFiles(t) {
		if filepath.Base(p) != "model.bf16.safetensors" {
			continue
		}
		f32Path := filepath.Join(filepath.Dir(p), "model.safetensors")
		pairs++
		t.Run(relName(t, p), func(t *testing.T) {
			bf, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer bf.Close()
			full, err := Open(f32Path)
			if err != nil {
				t.Fatal(err)
			}
			defer full.Close()
			if !slices.Equal(bf.Names(), full.Names()) {
				t.Fatalf("tensor names differ:\n%v\n%v", bf.Names(), full.Names())
			}
			var elems, ties int
			for _, name := range bf.Names() {
				bi, _ := bf.Info(name)
				fi, _ := full.Info(name)
				if bi.DType != BF16 || fi.DType != F32 || !slices.Equal(bi.Shape, fi.Shape) {
					t.Fatalf("%s: %s %v vs %s %v", name, bi.DType, bi.Shape, fi.DType, fi.Shape)
				}
				raw, _ := bf.Raw(name)
				want, err := full.Float32(name)
				if err != nil {
					t.Fatal(err)
				}
				got, err := bf.Float32(name)
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range want {
					h := binary.LittleEndian.Uint16(raw[2*i:])
					if r := F32ToBF16(v); r != h {
						t.Fatalf("%s[%d]: f32 %#08x rounds to %#04x, file has %#04x", name, i, math.Float32bits(v), r, h)
					}
					if math.Float32bits(got[i]) != uint32(h)<<16 {
						t.Fatalf("%s[%d]: Float32 gave %v for bf16 %#04x", name, i, got[i], h)
					}
					if math.Float32bits(v)&0xffff == 0x8000 {
						ties++
					}
				}
				elems += len(want)
			}
			t.Logf("%s: %d tensors, %d elements equal f32 rounded to bf16 (%d exact ties)", p, len(bf.Names()), elems, ties)
		})
	}
	if pairs == 0 {
		t.Fatal("no model.bf16.safetensors in the golden folder")
	}
}

// TestGoldenExpectedInts reads the I64 tensors of expected.safetensors and
// checks a few properties that hold for token ids.
func TestGoldenExpectedInts(t *testing.T) {
	for _, p := range goldenFiles(t) {
		if filepath.Base(p) != "expected.safetensors" {
			continue
		}
		t.Run(relName(t, p), func(t *testing.T) {
			f, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var ints int
			for _, name := range f.Names() {
				info, _ := f.Info(name)
				if info.DType != I64 {
					if _, err := f.Int64(name); err == nil {
						t.Errorf("%s: Int64 on %s should fail", name, info.DType)
					}
					continue
				}
				ids, err := f.Int64(name)
				if err != nil {
					t.Fatal(err)
				}
				if len(ids) != info.NumElements() {
					t.Fatalf("%s: %d values for shape %v", name, len(ids), info.Shape)
				}
				if _, err := f.Float32(name); err == nil {
					t.Errorf("%s: Float32 on I64 should fail", name)
				}
				ints++
			}
			if ints == 0 {
				t.Fatal("no I64 tensors")
			}
			t.Logf("%s: %d I64 tensors read", p, ints)
		})
	}
}
