// Package tokenizer loads Hugging Face tokenizer.json files for byte-level BPE models
// (Llama 3, Qwen2/2.5/3, SmolLM, GPT-2 style) and encodes and decodes exactly as the
// Hugging Face tokenizers library does.
package tokenizer

import (
	"encoding/json"
	"fmt"
	"sync"

	"seal/models/sidefile"
)

// Tokenizer is a loaded tokenizer.json. It is immutable after loading, and all methods are
// safe for concurrent use.
type Tokenizer struct {
	model *bpeModel
	norm  normalizer
	pre   []preTokenizer
	post  []postStep
	dec   []decodeStep // nil: HF joins token strings with spaces

	added      []AddedToken   // in file order
	addedIndex map[string]int // content -> index in added
	rawMatch   *addedMatcher  // added tokens matched in the raw text
	normMatch  *addedMatcher  // added tokens matched after normalization

	idToken []string // by id: the added token's content, else the vocabulary string
	idFlags []uint8  // by id: idKnown, idSpecial

	raw  rawParts // component JSON, written back by MarshalJSON
	pool sync.Pool
}

const (
	idKnown = 1 << iota
	idSpecial
)

// rawParts keeps the JSON of the components that MarshalJSON writes back verbatim.
type rawParts struct {
	normalizer, preTokenizer, postProcessor, decoder, truncation, padding json.RawMessage
}

// fileJSON is the top level of tokenizer.json.
type fileJSON struct {
	Version       string          `json:"version"`
	Truncation    json.RawMessage `json:"truncation"`
	Padding       json.RawMessage `json:"padding"`
	AddedTokens   []AddedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         *bpeJSON        `json:"model"`
}

// Load reads a tokenizer.json file.
func Load(path string) (*Tokenizer, error) {
	data, err := sidefile.ReadFile(path, sidefile.TokenizerJSON)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse reads a tokenizer.json document. Anything this package cannot reproduce exactly
// (other model types, normalizers, pre-tokenizers, decoders, post-processors, truncation)
// is an error naming it, never a tokenizer that silently encodes differently.
func Parse(data []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	if !isNull(f.Truncation) {
		return nil, fmt.Errorf("truncation is set; truncating encodings is not supported")
	}
	if err := checkPadding(f.Padding); err != nil {
		return nil, err
	}
	t := &Tokenizer{raw: rawParts{f.Normalizer, f.PreTokenizer, f.PostProcessor, f.Decoder, f.Truncation, f.Padding}}
	var err error
	if t.model, err = parseBPE(f.Model); err != nil {
		return nil, err
	}
	if t.norm, err = parseNormalizer(f.Normalizer); err != nil {
		return nil, err
	}
	if t.pre, err = parsePreTokenizer(f.PreTokenizer); err != nil {
		return nil, err
	}
	if t.dec, err = parseDecoder(f.Decoder); err != nil {
		return nil, err
	}
	if err := t.setAdded(f.AddedTokens); err != nil {
		return nil, err
	}
	// The post-processor names tokens by id, so it comes after the id tables.
	if t.post, err = t.parsePostProcessor(f.PostProcessor); err != nil {
		return nil, err
	}
	t.buildAddedMatchers()
	t.pool.New = func() any { return new(encodeState) }
	return t, nil
}

// checkPadding accepts only padding that cannot change a single encoding.
func checkPadding(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var p struct {
		Strategy json.RawMessage `json:"strategy"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("padding: %w", err)
	}
	var s string
	if json.Unmarshal(p.Strategy, &s) == nil && s == "BatchLongest" {
		return nil // pads batches only
	}
	return fmt.Errorf("padding strategy %s is not supported", clipJSON(p.Strategy))
}

// setAdded checks the added tokens against the vocabulary and builds the id tables. Each
// id must be the one the tokenizers library itself would assign when loading the file
// (the vocabulary id for a token already in it, else the next free id after the vocabulary),
// so ids here and there never disagree.
func (t *Tokenizer) setAdded(added []AddedToken) error {
	m := t.model
	size := len(m.tokens)
	t.addedIndex = make(map[string]int, len(added))
	byID := make(map[int]int, len(added))
	maxAdded := -1
	for i, a := range added {
		switch {
		case a.Content == "":
			return fmt.Errorf("added_tokens[%d] (id %d) has empty content", i, a.ID)
		case a.ID < 0:
			return fmt.Errorf("added_tokens[%d] %q has negative id %d", i, a.Content, a.ID)
		}
		if j, dup := t.addedIndex[a.Content]; dup {
			return fmt.Errorf("added_tokens[%d] and [%d] both have content %q", j, i, a.Content)
		}
		if j, dup := byID[a.ID]; dup {
			return fmt.Errorf("added_tokens[%d] %q and [%d] %q share id %d", j, added[j].Content, i, a.Content, a.ID)
		}
		want, inVocab := 0, false
		if id, ok := m.vocab[a.Content]; ok {
			want, inVocab = int(id), true
		} else if maxAdded < 0 {
			want = len(m.vocab)
		} else if maxAdded >= len(m.vocab) {
			want = maxAdded + 1
		} else {
			want = len(m.vocab)
		}
		if a.ID != want {
			if inVocab {
				return fmt.Errorf("added_tokens[%d] %q has id %d but the vocabulary gives it id %d", i, a.Content, a.ID, want)
			}
			if a.ID < len(m.present) && m.present[a.ID] {
				return fmt.Errorf("added_tokens[%d] %q has id %d, which the vocabulary gives to %q", i, a.Content, a.ID, m.tokens[a.ID])
			}
			return fmt.Errorf("added_tokens[%d] %q has id %d out of range: the tokenizers library would give it id %d", i, a.Content, a.ID, want)
		}
		t.addedIndex[a.Content], byID[a.ID] = i, i
		maxAdded = max(maxAdded, a.ID)
		size = max(size, a.ID+1)
	}
	t.added = added
	t.idToken = make([]string, size)
	t.idFlags = make([]uint8, size)
	for id, tok := range m.tokens {
		if m.present[id] {
			t.idToken[id], t.idFlags[id] = tok, idKnown
		}
	}
	for _, a := range added {
		t.idToken[a.ID], t.idFlags[a.ID] = a.Content, idKnown
		if a.Special {
			t.idFlags[a.ID] |= idSpecial
		}
	}
	return nil
}

// VocabSize is the size of the id space: max id + 1 over the vocabulary and added tokens.
func (t *Tokenizer) VocabSize() int { return len(t.idToken) }

// TokenID returns the id of a token string (an added token's content, or a vocabulary
// entry in its stored spelling, e.g. "Ġthe" for byte-level models).
func (t *Tokenizer) TokenID(s string) (int, bool) {
	if i, ok := t.addedIndex[s]; ok {
		return t.added[i].ID, true
	}
	id, ok := t.model.vocab[s]
	return int(id), ok
}

// TokenString returns the stored string of id (see TokenID).
func (t *Tokenizer) TokenString(id int) (string, bool) {
	if !t.known(id) {
		return "", false
	}
	return t.idToken[id], true
}

// IsSpecial reports whether id is an added token marked special.
func (t *Tokenizer) IsSpecial(id int) bool {
	return t.known(id) && t.idFlags[id]&idSpecial != 0
}

// AddedTokens returns a copy of the added tokens, in file order.
func (t *Tokenizer) AddedTokens() []AddedToken {
	return append([]AddedToken(nil), t.added...)
}

func (t *Tokenizer) known(id int) bool {
	return id >= 0 && id < len(t.idFlags) && t.idFlags[id]&idKnown != 0
}
