package tokenizer

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// jsonScan reads the two big arrays of a tokenizer.json by hand. The input is already known
// to be valid JSON (encoding/json checked it), so only the shape needs checking; strings
// without escapes become substrings of one shared copy instead of separate allocations.
type jsonScan struct {
	s string
	i int
}

func (j *jsonScan) ws() {
	for j.i < len(j.s) && (j.s[j.i] == ' ' || j.s[j.i] == '\n' || j.s[j.i] == '\r' || j.s[j.i] == '\t') {
		j.i++
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (j *jsonScan) peek() byte {
	j.ws()
	if j.i >= len(j.s) {
		return 0
	}
	return j.s[j.i]
}

func (j *jsonScan) expect(c byte) error {
	if got := j.peek(); got != c {
		return fmt.Errorf("expected %q at offset %d, found %s", c, j.i, j.describe())
	}
	j.i++
	return nil
}

func (j *jsonScan) describe() string {
	if j.i >= len(j.s) {
		return "end of input"
	}
	end := min(j.i+20, len(j.s))
	return fmt.Sprintf("%q", j.s[j.i:end])
}

// str reads a JSON string.
func (j *jsonScan) str() (string, error) {
	if j.peek() != '"' {
		return "", fmt.Errorf("expected a string at offset %d, found %s", j.i, j.describe())
	}
	start := j.i + 1
	escaped := false
	for k := start; k < len(j.s); k++ {
		switch j.s[k] {
		case '\\':
			escaped = true
			k++
		case '"':
			j.i = k + 1
			if raw := j.s[start:k]; !escaped && utf8.ValidString(raw) {
				return raw, nil
			}
			var out string
			if err := json.Unmarshal([]byte(j.s[start-1:k+1]), &out); err != nil {
				return "", err
			}
			return out, nil
		}
	}
	return "", fmt.Errorf("unterminated string at offset %d", start-1)
}

// int32 reads a non-negative JSON integer id.
func (j *jsonScan) id() (int32, error) {
	j.ws()
	start := j.i
	if j.i < len(j.s) && j.s[j.i] == '-' {
		j.i++
	}
	v := int64(0)
	for j.i < len(j.s) && j.s[j.i] >= '0' && j.s[j.i] <= '9' {
		v = min(v*10+int64(j.s[j.i]-'0'), math.MaxInt32+1)
		j.i++
	}
	num := j.s[start:j.i]
	if j.i < len(j.s) && strings.IndexByte(".eE", j.s[j.i]) >= 0 || num == "" || num == "-" {
		j.i = start
		return 0, fmt.Errorf("expected an integer id at offset %d, found %s", start, j.describe())
	}
	if num[0] == '-' {
		return 0, fmt.Errorf("negative id %s", num)
	}
	if v > math.MaxInt32 {
		return 0, fmt.Errorf("id %s out of range", num)
	}
	return int32(v), nil
}

// scanVocab reads {"token": id, ...}.
func scanVocab(raw json.RawMessage) (map[string]int32, error) {
	j := &jsonScan{s: string(raw)}
	if err := j.expect('{'); err != nil {
		return nil, err
	}
	vocab := make(map[string]int32, len(raw)/12)
	if j.peek() == '}' {
		return vocab, nil
	}
	for {
		tok, err := j.str()
		if err != nil {
			return nil, err
		}
		if err := j.expect(':'); err != nil {
			return nil, err
		}
		id, err := j.id()
		if err != nil {
			return nil, fmt.Errorf("token %q: %w", tok, err)
		}
		if old, dup := vocab[tok]; dup && old != id {
			return nil, fmt.Errorf("token %q appears twice, with ids %d and %d", tok, old, id)
		}
		vocab[tok] = id
		switch j.peek() {
		case ',':
			j.i++
		case '}':
			return vocab, nil
		default:
			return nil, fmt.Errorf("expected ',' or '}' at offset %d, found %s", j.i, j.describe())
		}
	}
}

// scanMerges reads merges written as "a b" strings (legacy; "#version" lines are skipped as
// HF does) or as ["a", "b"] pairs. It reports which form the file used.
func scanMerges(raw json.RawMessage) ([][2]string, bool, error) {
	j := &jsonScan{s: string(raw)}
	if err := j.expect('['); err != nil {
		return nil, false, err
	}
	out := make([][2]string, 0, len(raw)/12) // ~ entry size in real files
	asPairs := false
	if j.peek() == ']' {
		return out, false, nil
	}
	for n := 0; ; n++ {
		switch j.peek() {
		case '"':
			s, err := j.str()
			if err != nil {
				return nil, false, err
			}
			if strings.HasPrefix(s, "#version") {
				break
			}
			p, ok := splitLegacyMerge(s)
			if !ok {
				return nil, false, fmt.Errorf("entry %d: %q is not two tokens separated by one space", n, s)
			}
			out = append(out, p)
		case '[':
			j.i++
			a, err := j.str()
			if err == nil {
				err = j.expect(',')
			}
			var b string
			if err == nil {
				b, err = j.str()
			}
			if err == nil {
				err = j.expect(']')
			}
			if err != nil {
				return nil, false, fmt.Errorf("entry %d is not a pair of strings: %w", n, err)
			}
			out, asPairs = append(out, [2]string{a, b}), true
		default:
			return nil, false, fmt.Errorf("entry %d: expected a string or a pair of strings, found %s", n, j.describe())
		}
		switch j.peek() {
		case ',':
			j.i++
		case ']':
			return out, asPairs, nil
		default:
			return nil, false, fmt.Errorf("expected ',' or ']' at offset %d, found %s", j.i, j.describe())
		}
	}
}
