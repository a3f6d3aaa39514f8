package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"seal/models/internal/atomicfile"
)

// Tensor is one tensor to write. Data holds the little-endian element bytes.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// Encode writes a safetensors file to w, byte for byte what the Python
// writer (safetensors.torch.save_file) produces for the same tensors:
// tensors ordered by the Rust dtype enum rank descending, then by name;
// compact JSON with "__metadata__" first (nil metadata omits it, an empty
// map writes {}); metadata keys in sorted order; the header padded with
// spaces to a multiple of 8. The order of the tensors argument is ignored.
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	return encode(w, tensors, metadata, nil)
}

// encode is Encode with an explicit metadata key order; the Rust writer
// stores metadata in a HashMap, so files with several keys carry an
// arbitrary order that only a caller holding the original can reproduce.
func encode(w io.Writer, tensors []Tensor, metadata map[string]string, metaKeys []string) error {
	header, order, err := encodeHeader(tensors, metadata, metaKeys)
	if err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	for _, i := range order {
		if _, err := w.Write(tensors[i].Data); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes the file atomically: a temporary file in the same folder
// is written, synced and renamed over path, so readers see the old file or
// the new one, never half of one.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	header, order, err := encodeHeader(tensors, metadata, nil)
	if err != nil {
		return withPath(path, err)
	}
	err = atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if _, err := bw.Write(header); err != nil {
			return err
		}
		for _, i := range order {
			if _, err := bw.Write(tensors[i].Data); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
	if err != nil {
		return &Error{Path: path, Err: err}
	}
	return nil
}

// encodeHeader validates the tensors and returns the 8-byte length plus
// padded JSON, and the order in which tensor data follows.
func encodeHeader(tensors []Tensor, metadata map[string]string, metaKeys []string) ([]byte, []int, error) {
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		if err := checkTensor(t); err != nil {
			return nil, nil, err
		}
		if seen[t.Name] {
			return nil, nil, errf(t.Name, "given twice")
		}
		seen[t.Name] = true
	}
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, nil, errf("", "metadata %q is not valid UTF-8", k)
		}
	}
	if metaKeys == nil || len(metaKeys) != len(metadata) {
		metaKeys = slices.Sorted(maps.Keys(metadata))
	}

	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ta, tb := tensors[a], tensors[b]
		if ra, rb := dtypeInfo[ta.DType].rank, dtypeInfo[tb.DType].rank; ra != rb {
			return rb - ra
		}
		return strings.Compare(ta.Name, tb.Name)
	})

	var b bytes.Buffer
	b.Write(make([]byte, 8)) // length, filled in below
	b.WriteByte('{')
	first := true
	if metadata != nil {
		writeJSONString(&b, metadataKey)
		b.WriteString(":{")
		for i, k := range metaKeys {
			v, ok := metadata[k]
			if !ok {
				return nil, nil, errf("", "metadata key order names %q, which is not in the map", k)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, k)
			b.WriteByte(':')
			writeJSONString(&b, v)
		}
		b.WriteByte('}')
		first = false
	}
	var offset int64
	for _, i := range order {
		t := tensors[i]
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeJSONString(&b, t.Name)
		b.WriteString(`:{"dtype":`)
		writeJSONString(&b, string(t.DType))
		b.WriteString(`,"shape":`)
		b.WriteString(fmtShape(t.Shape))
		b.WriteString(`,"data_offsets":[`)
		b.WriteString(strconv.FormatInt(offset, 10))
		b.WriteByte(',')
		offset += int64(len(t.Data))
		b.WriteString(strconv.FormatInt(offset, 10))
		b.WriteString("]}")
	}
	b.WriteByte('}')
	for (b.Len()-8)%8 != 0 {
		b.WriteByte(' ')
	}
	out := b.Bytes()
	n := len(out) - 8
	if n > MaxHeaderSize {
		return nil, nil, errf("", "header of %d bytes exceeds the %d-byte limit", n, MaxHeaderSize)
	}
	binary.LittleEndian.PutUint64(out, uint64(n))
	return out, order, nil
}

// checkTensor rejects what the readers would reject, so a written file
// always opens.
func checkTensor(t Tensor) error {
	switch {
	case !utf8.ValidString(t.Name):
		return errf(t.Name, "name is not valid UTF-8")
	case t.Name == metadataKey:
		return errf(t.Name, "name is reserved for metadata")
	case !t.DType.Known():
		return errf(t.Name, "unknown dtype %q", t.DType)
	}
	n, ok := numElements(t.Shape)
	if !ok {
		return errf(t.Name, "shape %s has a negative dimension or too many elements", fmtShape(t.Shape))
	}
	need, err := t.DType.byteLen(int64(n))
	if err != nil {
		return errf(t.Name, "%s %s: %v", t.DType, fmtShape(t.Shape), err)
	}
	if int64(len(t.Data)) != need {
		return errf(t.Name, "data is %d bytes but %s %s needs %d", len(t.Data), t.DType, fmtShape(t.Shape), need)
	}
	return nil
}

// writeJSONString quotes s the way serde_json does: only '"', '\\' and
// control characters are escaped (\b \f \n \r \t, else \u00xx lowercase);
// non-ASCII text, '<', '>' and '&' stay literal, unlike encoding/json.
func writeJSONString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// F32Tensor packs float32 values as an F32 tensor.
func F32Tensor(name string, shape []int, data []float32) Tensor {
	buf := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: F32, Shape: slices.Clone(shape), Data: buf}
}

// BF16Tensor rounds float32 values to bfloat16 (nearest, ties to even).
func BF16Tensor(name string, shape []int, data []float32) Tensor {
	buf := make([]byte, 2*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint16(buf[2*i:], F32ToBF16(v))
	}
	return Tensor{Name: name, DType: BF16, Shape: slices.Clone(shape), Data: buf}
}

// F16Tensor rounds float32 values to IEEE half (nearest, ties to even).
func F16Tensor(name string, shape []int, data []float32) Tensor {
	buf := make([]byte, 2*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint16(buf[2*i:], F32ToF16(v))
	}
	return Tensor{Name: name, DType: F16, Shape: slices.Clone(shape), Data: buf}
}

// I64Tensor packs int64 values (token ids, labels) as an I64 tensor.
func I64Tensor(name string, shape []int, data []int64) Tensor {
	buf := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(buf[8*i:], uint64(v))
	}
	return Tensor{Name: name, DType: I64, Shape: slices.Clone(shape), Data: buf}
}
