package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
)

// postStep is one post-processor, reduced to what it does to a single sequence's ids:
// a template of fixed ids around (or between) the encoded sequence.
type postStep struct {
	name     string
	template []templateItem // nil: ids unchanged (ByteLevel only fixes offsets)
}

// templateItem is a run of special token ids, or (seq) the encoded sequence itself.
type templateItem struct {
	ids []int
	seq bool
}

func (p postStep) apply(ids []int) []int {
	if p.template == nil {
		return ids
	}
	out := make([]int, 0, len(ids)+4)
	for _, it := range p.template {
		if it.seq {
			out = append(out, ids...)
		} else {
			out = append(out, it.ids...)
		}
	}
	return out
}

// parsePostProcessor reads "post_processor": ByteLevel, TemplateProcessing, RobertaProcessing,
// BertProcessing and Sequences of them.
func (t *Tokenizer) parsePostProcessor(raw json.RawMessage) ([]postStep, error) {
	if isNull(raw) {
		return nil, nil
	}
	var h struct {
		Type          string            `json:"type"`
		Processors    []json.RawMessage `json:"processors"`
		Single        []json.RawMessage `json:"single"`
		SpecialTokens map[string]struct {
			IDs []int `json:"ids"`
		} `json:"special_tokens"`
		Cls []json.RawMessage `json:"cls"`
		Sep []json.RawMessage `json:"sep"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("post_processor: %w", err)
	}
	switch h.Type {
	case "ByteLevel":
		return []postStep{{name: "ByteLevel"}}, nil
	case "Sequence":
		var out []postStep
		for _, sub := range h.Processors {
			st, err := t.parsePostProcessor(sub)
			if err != nil {
				return nil, err
			}
			out = append(out, st...)
		}
		return out, nil
	case "TemplateProcessing":
		st := postStep{name: "TemplateProcessing"}
		var names []string
		for _, item := range h.Single {
			var it struct {
				SpecialToken *struct{ ID string } `json:"SpecialToken"`
				Sequence     *struct{ ID string } `json:"Sequence"`
			}
			if err := json.Unmarshal(item, &it); err != nil {
				return nil, fmt.Errorf("post_processor TemplateProcessing: %w", err)
			}
			switch {
			case it.Sequence != nil && it.Sequence.ID == "A":
				st.template = append(st.template, templateItem{seq: true})
				names = append(names, "$A")
			case it.Sequence != nil:
				return nil, fmt.Errorf("post_processor TemplateProcessing: single template uses sequence %q", it.Sequence.ID)
			case it.SpecialToken != nil:
				sp, ok := h.SpecialTokens[it.SpecialToken.ID]
				if !ok {
					return nil, fmt.Errorf("post_processor TemplateProcessing: missing special token %q", it.SpecialToken.ID)
				}
				if err := t.checkIDs(sp.IDs, it.SpecialToken.ID); err != nil {
					return nil, err
				}
				st.template = append(st.template, templateItem{ids: sp.IDs})
				names = append(names, it.SpecialToken.ID)
			default:
				return nil, fmt.Errorf("post_processor TemplateProcessing: unknown template item %s", clipJSON(item))
			}
		}
		if st.template == nil {
			return nil, fmt.Errorf("post_processor TemplateProcessing: empty single template")
		}
		st.name += "(" + strings.Join(names, " ") + ")"
		return []postStep{st}, nil
	case "RobertaProcessing", "BertProcessing":
		cls, err := t.pairToken(h.Type, "cls", h.Cls)
		if err != nil {
			return nil, err
		}
		sep, err := t.pairToken(h.Type, "sep", h.Sep)
		if err != nil {
			return nil, err
		}
		return []postStep{{name: h.Type, template: []templateItem{{ids: []int{cls}}, {seq: true}, {ids: []int{sep}}}}}, nil
	}
	return nil, fmt.Errorf("unsupported post_processor %q (supported: ByteLevel, TemplateProcessing, RobertaProcessing, BertProcessing, Sequence)", h.Type)
}

// pairToken reads a ["token", id] pair of Roberta/BertProcessing.
func (t *Tokenizer) pairToken(typ, field string, raw []json.RawMessage) (int, error) {
	var id int
	if len(raw) != 2 || json.Unmarshal(raw[1], &id) != nil {
		return 0, fmt.Errorf("post_processor %s: %s must be [token, id]", typ, field)
	}
	return id, t.checkIDs([]int{id}, field)
}

func (t *Tokenizer) checkIDs(ids []int, name string) error {
	for _, id := range ids {
		if !t.known(id) {
			return fmt.Errorf("post_processor: special token %q has id %d, which is not in the vocabulary", name, id)
		}
	}
	return nil
}
