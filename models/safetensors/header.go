package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxHeaderSize is the largest JSON header accepted; the Rust reader uses the
// same bound so a corrupt length cannot make us allocate gigabytes.
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key for the string->string metadata.
const metadataKey = "__metadata__"

// TensorInfo locates one tensor. Begin and End are byte offsets relative to
// the start of the data region, as written in "data_offsets".
type TensorInfo struct {
	Name       string
	DType      DType
	Shape      []int
	Begin, End int64
}

// NumElements is the product of the shape (1 for a scalar), or -1 when a
// dimension is negative or the product overflows an int.
func (t TensorInfo) NumElements() int {
	n, ok := numElements(t.Shape)
	if !ok {
		return -1
	}
	return n
}

// ByteLen is the tensor's size in the data region.
func (t TensorInfo) ByteLen() int64 { return t.End - t.Begin }

func numElements(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > math.MaxInt/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// Header is a parsed and validated file header.
type Header struct {
	Metadata  map[string]string // nil when the file has no "__metadata__"
	Tensors   []TensorInfo      // sorted by Begin: the file's own order
	DataStart int64             // file offset of the data region (8 + N)
	DataSize  int64             // bytes in the data region

	metaKeys []string // metadata keys in file order, for byte-exact rewrites
}

// ParseHeader parses and validates the header at the start of a file of
// fileSize bytes. b must hold at least the 8-byte length and the JSON that
// follows; the tensor bytes themselves are not needed. It checks everything
// the Rust reader checks: the tensors must tile the data region exactly, with
// no gaps, overlaps or trailing bytes.
func ParseHeader(b []byte, fileSize int64) (Header, error) {
	if fileSize < 8 {
		return Header{}, errf("", "file is %d bytes, shorter than the 8-byte header length", fileSize)
	}
	if len(b) < 8 {
		return Header{}, errf("", "need the first 8 bytes of the file, got %d", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeaderSize {
		return Header{}, errf("", "header length %d exceeds the %d-byte limit", n, MaxHeaderSize)
	}
	if int64(n) > fileSize-8 {
		return Header{}, errf("", "header length %d runs past the end of the %d-byte file", n, fileSize)
	}
	if uint64(len(b)-8) < n {
		return Header{}, errf("", "header is %d bytes but only %d were given", n, len(b)-8)
	}
	h, err := parseJSON(b[8 : 8+n])
	if err != nil {
		return Header{}, err
	}
	h.DataStart = 8 + int64(n)
	h.DataSize = fileSize - h.DataStart
	if err := validate(h.Tensors, h.DataSize); err != nil {
		return Header{}, err
	}
	return h, nil
}

// parseJSON reads the header object with a token stream so that duplicate
// keys are caught (encoding/json maps silently keep the last) and the
// metadata key order survives.
func parseJSON(hb []byte) (Header, error) {
	var h Header
	if !utf8.Valid(hb) {
		return h, errf("", "header is not valid UTF-8")
	}
	if len(hb) == 0 || hb[0] != '{' {
		return h, errf("", "header does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(hb))
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return h, badJSON(err)
	}
	seen := map[string]bool{}
	for dec.More() {
		key, err := stringToken(dec)
		if err != nil {
			return h, badJSON(err)
		}
		if seen[key] {
			if key == metadataKey {
				return h, errf("", "header has %q twice", metadataKey)
			}
			return h, errf(key, "listed twice in the header")
		}
		seen[key] = true
		if key == metadataKey {
			if h.Metadata, h.metaKeys, err = parseMetadata(dec); err != nil {
				return h, err
			}
			continue
		}
		t, err := parseTensor(dec, key)
		if err != nil {
			return h, err
		}
		h.Tensors = append(h.Tensors, t)
	}
	if err := expectDelim(dec, '}'); err != nil {
		return h, badJSON(err)
	}
	// Only JSON whitespace (the writer pads with spaces) may follow.
	if rest := hb[dec.InputOffset():]; len(bytes.Trim(rest, " \t\r\n")) != 0 {
		return h, errf("", "header has trailing data after the JSON object")
	}
	return h, nil
}

func badJSON(err error) error {
	if e, ok := err.(*Error); ok {
		return e
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errf("", "header is not valid JSON: unexpected end")
	}
	return &Error{Msg: "header is not valid JSON", Err: err}
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("expected %q, found %v", d, tokenKind(tok))
	}
	return nil
}

func stringToken(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected a string, found %v", tokenKind(tok))
	}
	return s, nil
}

// tokenKind names a token for error messages without echoing huge values.
func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		return strconv.Quote(v.String())
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// parseMetadata reads "__metadata__": a string->string object, or null,
// which the Rust reader treats as absent.
func parseMetadata(dec *json.Decoder) (map[string]string, []string, error) {
	bad := func(format string, args ...any) error {
		return errf("", "%s "+format, append([]any{metadataKey}, args...)...)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, badJSON(err)
	}
	if tok == nil {
		return nil, nil, nil
	}
	if tok != json.Delim('{') {
		return nil, nil, bad("is %s, not a string->string object", tokenKind(tok))
	}
	m := map[string]string{}
	var keys []string
	for dec.More() {
		k, err := stringToken(dec)
		if err != nil {
			return nil, nil, badJSON(err)
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, badJSON(err)
		}
		v, ok := tok.(string)
		if !ok {
			return nil, nil, bad("value for %q is %s, not a string", k, tokenKind(tok))
		}
		if _, dup := m[k]; dup {
			return nil, nil, bad("has key %q twice", k)
		}
		m[k] = v
		keys = append(keys, k)
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, nil, badJSON(err)
	}
	return m, keys, nil
}

// parseTensor reads one {"dtype","shape","data_offsets"} entry. Unknown
// fields are skipped, as serde does for the Rust reader.
func parseTensor(dec *json.Decoder, name string) (TensorInfo, error) {
	t := TensorInfo{Name: name}
	tok, err := dec.Token()
	if err != nil {
		return t, badJSON(err)
	}
	if tok != json.Delim('{') {
		return t, errf(name, "entry is %s, not an object", tokenKind(tok))
	}
	var haveDType, haveShape, haveOffsets bool
	for dec.More() {
		field, err := stringToken(dec)
		if err != nil {
			return t, badJSON(err)
		}
		dup := false
		switch field {
		case "dtype":
			dup, haveDType = haveDType, true
			tok, err := dec.Token()
			if err != nil {
				return t, badJSON(err)
			}
			s, ok := tok.(string)
			if !ok {
				return t, errf(name, "dtype is %s, not a string", tokenKind(tok))
			}
			t.DType = DType(s)
		case "shape":
			dup, haveShape = haveShape, true
			dims, err := uintArray(dec, name, "shape")
			if err != nil {
				return t, err
			}
			t.Shape = make([]int, len(dims))
			for i, d := range dims {
				if d > math.MaxInt {
					return t, errf(name, "shape dimension %d is too large", d)
				}
				t.Shape[i] = int(d)
			}
		case "data_offsets":
			dup, haveOffsets = haveOffsets, true
			offs, err := uintArray(dec, name, "data_offsets")
			if err != nil {
				return t, err
			}
			if len(offs) != 2 {
				return t, errf(name, "data_offsets has %d numbers, want [begin,end]", len(offs))
			}
			if offs[0] > math.MaxInt64 || offs[1] > math.MaxInt64 {
				return t, errf(name, "data_offsets [%d,%d] out of range", offs[0], offs[1])
			}
			t.Begin, t.End = int64(offs[0]), int64(offs[1])
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return t, badJSON(err)
			}
		}
		if dup {
			return t, errf(name, "field %q given twice", field)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return t, badJSON(err)
	}
	switch {
	case !haveDType:
		return t, errf(name, "missing dtype")
	case !haveShape:
		return t, errf(name, "missing shape")
	case !haveOffsets:
		return t, errf(name, "missing data_offsets")
	}
	return t, nil
}

// uintArray reads a JSON array of non-negative integers.
func uintArray(dec *json.Decoder, name, field string) ([]uint64, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, badJSON(err)
	}
	if tok != json.Delim('[') {
		return nil, errf(name, "%s is %s, not an array", field, tokenKind(tok))
	}
	var out []uint64
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, badJSON(err)
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, errf(name, "%s holds %s, not an integer", field, tokenKind(tok))
		}
		v, err := strconv.ParseUint(string(num), 10, 64)
		if err != nil {
			switch {
			case strings.HasPrefix(string(num), "-"):
				return nil, errf(name, "%s holds negative number %s", field, num)
			case strings.ContainsAny(string(num), ".eE"):
				return nil, errf(name, "%s holds %s, not an integer", field, num)
			}
			return nil, errf(name, "%s holds %s, which is too large", field, num)
		}
		out = append(out, v)
	}
	if err := expectDelim(dec, ']'); err != nil {
		return nil, badJSON(err)
	}
	return out, nil
}

// validate checks each tensor's size, then sorts by offset and checks that
// the tensors tile [0, dataSize) exactly.
func validate(ts []TensorInfo, dataSize int64) error {
	for _, t := range ts {
		n, ok := numElements(t.Shape)
		if !ok {
			return errf(t.Name, "element count of shape %s overflows", fmtShape(t.Shape))
		}
		if t.Begin > t.End {
			return errf(t.Name, "data_offsets [%d,%d] begin after end", t.Begin, t.End)
		}
		if t.End > dataSize {
			return errf(t.Name, "data_offsets [%d,%d] run past the %d-byte data region", t.Begin, t.End, dataSize)
		}
		if !t.DType.Known() {
			continue // listed, but unreadable; its extent is still checked below
		}
		need, err := t.DType.byteLen(int64(n))
		if err != nil {
			return errf(t.Name, "%s %s: %v", t.DType, fmtShape(t.Shape), err)
		}
		if t.End-t.Begin != need {
			return errf(t.Name, "data_offsets [%d,%d] but %s %s needs %d bytes", t.Begin, t.End, t.DType, fmtShape(t.Shape), need)
		}
	}
	slices.SortFunc(ts, func(a, b TensorInfo) int {
		if c := compareInt64(a.Begin, b.Begin); c != 0 {
			return c
		}
		if c := compareInt64(a.End, b.End); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	var pos int64
	prev := "the start of the data region"
	for _, t := range ts {
		if t.Begin < pos {
			return errf(t.Name, "data_offsets [%d,%d] overlap %s", t.Begin, t.End, prev)
		}
		if t.Begin > pos {
			return errf(t.Name, "data_offsets [%d,%d] leave a gap of %d bytes after %s", t.Begin, t.End, t.Begin-pos, prev)
		}
		pos = t.End
		prev = fmt.Sprintf("tensor %q [%d,%d]", t.Name, t.Begin, t.End)
	}
	if pos != dataSize {
		return errf("", "%d unused bytes at the end of the data region (tensors end at %d of %d)", dataSize-pos, pos, dataSize)
	}
	return nil
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fmtShape prints a shape the way the header does: [5,6].
func fmtShape(shape []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(']')
	return b.String()
}
