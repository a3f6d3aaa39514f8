package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
)

// decodeStep is one decoder of the chain; ByteLevel is the only kind byte-level BPE needs.
type decodeStep int

const decodeByteLevel decodeStep = iota

// parseDecoder reads "decoder": ByteLevel, or a Sequence of it. null is allowed (HF then
// joins the token strings with spaces).
func parseDecoder(raw json.RawMessage) ([]decodeStep, error) {
	if isNull(raw) {
		return nil, nil
	}
	var h struct {
		Type     string            `json:"type"`
		Decoders []json.RawMessage `json:"decoders"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	switch h.Type {
	case "ByteLevel":
		return []decodeStep{decodeByteLevel}, nil
	case "Sequence":
		out := []decodeStep{}
		for _, sub := range h.Decoders {
			d, err := parseDecoder(sub)
			if err != nil {
				return nil, err
			}
			out = append(out, d...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported decoder %q (supported: ByteLevel, Sequence)", h.Type)
}

// Decode turns ids back into text like HF's decode(ids, skip_special_tokens=False):
// special tokens appear as their text. Bytes that do not form valid UTF-8 (a sequence cut
// inside a character) become U+FFFD as Rust's String::from_utf8_lossy makes them.
//
// Neither Decode nor DecodeSkipSpecial applies transformers' clean_up_tokenization_spaces,
// although llama3's tokenizer_config.json sets it: the goldens were made by the tokenizers
// library, which never does, and their "'s 're 've 'm 'll 'd" case decodes with the spaces
// kept (the cleanup would have produced "'s're've'm'll'd").
func (t *Tokenizer) Decode(ids []int) (string, error) { return decodeIDs(t, ids, false) }

// DecodeSkipSpecial is Decode without the special tokens, like HF's decode(ids,
// skip_special_tokens=True), which is the tokenizers library's default and what the
// goldens' "decoded" field holds.
func (t *Tokenizer) DecodeSkipSpecial(ids []int) (string, error) { return decodeIDs(t, ids, true) }

// decodeIDs is Decode for either id type: int, or the model's int32 (Decode32).
func decodeIDs[ID int | int32](t *Tokenizer, ids []ID, skipSpecial bool) (string, error) {
	tokens := make([]string, 0, len(ids))
	for _, i := range ids {
		id := int(i)
		if !t.known(id) {
			return "", fmt.Errorf("tokenizer: decode: id %d is not in the vocabulary (size %d)", id, len(t.idToken))
		}
		if skipSpecial && t.idFlags[id]&idSpecial != 0 {
			continue
		}
		tokens = append(tokens, t.idToken[id])
	}
	if t.dec == nil {
		return strings.Join(tokens, " "), nil
	}
	for _, d := range t.dec {
		if d == decodeByteLevel {
			var buf []byte
			for _, tok := range tokens {
				buf = byteLevelDecode(buf, tok)
			}
			tokens = []string{lossyUTF8(buf)}
		}
	}
	return strings.Join(tokens, ""), nil
}

// TokenBytes returns the raw bytes one token stands for, or nil for an unknown id. A
// character split across tokens yields partial UTF-8 here, so a streaming decoder can hold
// bytes back until they form whole characters.
func (t *Tokenizer) TokenBytes(id int) []byte {
	if !t.known(id) {
		return nil
	}
	tok := t.idToken[id]
	if t.dec == nil {
		return []byte(tok)
	}
	out := []byte(tok)
	for _, d := range t.dec {
		if d == decodeByteLevel {
			out = byteLevelDecode(nil, string(out))
		}
	}
	return out
}
