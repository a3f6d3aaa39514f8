package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// normalizer is a chain of Unicode normalization forms (HF NFC/NFD/NFKC/NFKD and Sequence).
// An empty chain is HF's null normalizer.
type normalizer []norm.Form

var normForms = map[string]norm.Form{"NFC": norm.NFC, "NFD": norm.NFD, "NFKC": norm.NFKC, "NFKD": norm.NFKD}

func (n normalizer) normalize(s string) string {
	for _, f := range n {
		s = f.String(s) // returns s itself, without copying, when already normalized
	}
	return s
}

func (n normalizer) kind() string {
	if len(n) == 0 {
		return "none"
	}
	names := make([]string, len(n))
	for i, f := range n {
		for k, v := range normForms {
			if v == f {
				names[i] = k
			}
		}
	}
	return strings.Join(names, ", ")
}

// parseNormalizer reads the "normalizer" field; anything but the Unicode forms and Sequences
// of them is an error rather than a tokenizer that would silently encode differently.
func parseNormalizer(raw json.RawMessage) (normalizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	var h struct {
		Type        string            `json:"type"`
		Normalizers []json.RawMessage `json:"normalizers"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	if f, ok := normForms[h.Type]; ok {
		return normalizer{f}, nil
	}
	if h.Type != "Sequence" {
		return nil, fmt.Errorf("unsupported normalizer %q (supported: NFC, NFD, NFKC, NFKD, Sequence)", h.Type)
	}
	var out normalizer
	for _, sub := range h.Normalizers {
		n, err := parseNormalizer(sub)
		if err != nil {
			return nil, err
		}
		out = append(out, n...)
	}
	return out, nil
}

// isNull reports whether a JSON value is absent or null.
func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}
