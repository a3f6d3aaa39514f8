package tokenizer

import (
	"encoding/json"
	"fmt"
)

// parsePreTokenizer reads the "pre_tokenizer" field into a flat list of stages.
func parsePreTokenizer(raw json.RawMessage) ([]preTokenizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	var h struct {
		Type           string            `json:"type"`
		PreTokenizers  []json.RawMessage `json:"pretokenizers"`
		Pattern        map[string]string `json:"pattern"`
		Behavior       string            `json:"behavior"`
		Invert         bool              `json:"invert"`
		AddPrefixSpace *bool             `json:"add_prefix_space"`
		UseRegex       *bool             `json:"use_regex"`
		Individual     bool              `json:"individual_digits"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	switch h.Type {
	case "Sequence":
		var out []preTokenizer
		for _, sub := range h.PreTokenizers {
			st, err := parsePreTokenizer(sub)
			if err != nil {
				return nil, err
			}
			out = append(out, st...)
		}
		return out, nil
	case "Split":
		st, err := parseSplit(h.Pattern, h.Behavior, h.Invert)
		if err != nil {
			return nil, err
		}
		return []preTokenizer{st}, nil
	case "ByteLevel":
		// Missing flags take the values of HF's ByteLevel::default().
		st := &preByteLevel{addPrefixSpace: true, useRegex: true}
		if h.AddPrefixSpace != nil {
			st.addPrefixSpace = *h.AddPrefixSpace
		}
		if h.UseRegex != nil {
			st.useRegex = *h.UseRegex
		}
		return []preTokenizer{st}, nil
	case "Digits":
		return []preTokenizer{&preDigits{individual: h.Individual}}, nil
	}
	return nil, fmt.Errorf("unsupported pre_tokenizer %q (supported: Sequence, Split, ByteLevel, Digits)", h.Type)
}

func parseSplit(pattern map[string]string, behavior string, invert bool) (*preSplit, error) {
	b, ok := behaviorNames[behavior]
	if !ok {
		return nil, fmt.Errorf("pre_tokenizer Split: unknown behavior %q", behavior)
	}
	st := &preSplit{behavior: b, invert: invert}
	re, isRegex := pattern["Regex"]
	lit, isString := pattern["String"]
	switch {
	case len(pattern) != 1:
		return nil, fmt.Errorf(`pre_tokenizer Split: pattern must be {"Regex": ...} or {"String": ...}`)
	case isString:
		if lit == "" {
			return nil, fmt.Errorf("pre_tokenizer Split: empty String pattern")
		}
		st.re, st.name = literalMatcher(lit), fmt.Sprintf("%q", lit)
	case isRegex:
		if scan, name, ok := knownScanner(re); ok {
			st.scan, st.name = scan, name
			break
		}
		compiled, err := compileSplitRegex(re)
		if err != nil {
			return nil, fmt.Errorf("pre_tokenizer Split: %w", err)
		}
		st.re, st.name = compiled, "regexp "+fmt.Sprintf("%q", re)
	default:
		return nil, fmt.Errorf(`pre_tokenizer Split: pattern must be {"Regex": ...} or {"String": ...}`)
	}
	return st, nil
}
