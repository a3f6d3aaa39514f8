package tokenizer

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
)

// bpeJSON is the "model" object of tokenizer.json, decoded in the same pass as the rest of
// the file. vocab and merges are kept raw and read by the small scanners in bpe_jsonscan.go,
// several times faster than encoding/json on the 100k+ entries real files have; the other
// fields are raw too, so an unsupported model type is reported as such rather than as a
// field type mismatch.
type bpeJSON struct {
	Type                    *string         `json:"type"`
	Dropout                 json.RawMessage `json:"dropout"`
	UnkToken                json.RawMessage `json:"unk_token"`
	ContinuingSubwordPrefix json.RawMessage `json:"continuing_subword_prefix"`
	EndOfWordSuffix         json.RawMessage `json:"end_of_word_suffix"`
	FuseUnk                 json.RawMessage `json:"fuse_unk"`
	ByteFallback            json.RawMessage `json:"byte_fallback"`
	IgnoreMerges            json.RawMessage `json:"ignore_merges"`
	Vocab                   json.RawMessage `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
}

// maxIDSlack bounds how sparse ids may be: tables are indexed by id, so an id far beyond the
// number of tokens would cost memory for nothing (and is certainly a broken file).
const maxIDSlack = 1 << 16

func parseBPE(h *bpeJSON) (*bpeModel, error) {
	if h == nil {
		return nil, fmt.Errorf("missing model")
	}
	switch {
	case h.Type == nil && h.Merges == nil:
		return nil, fmt.Errorf("model has no type and no merges; only BPE models are supported")
	case h.Type != nil && *h.Type != "BPE":
		return nil, fmt.Errorf("unsupported model type %q (only BPE is supported)", *h.Type)
	case isNull(h.Vocab):
		return nil, fmt.Errorf("model.vocab is missing")
	case isNull(h.Merges):
		return nil, fmt.Errorf("model.merges is missing")
	}
	m := &bpeModel{unk: -1, cache: newWordCache()}
	var dropout *float64
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  any
	}{
		{"dropout", h.Dropout, &dropout}, {"unk_token", h.UnkToken, &m.unkToken},
		{"continuing_subword_prefix", h.ContinuingSubwordPrefix, &m.prefix},
		{"end_of_word_suffix", h.EndOfWordSuffix, &m.suffix}, {"fuse_unk", h.FuseUnk, &m.fuseUnk},
		{"byte_fallback", h.ByteFallback, &m.byteFallback}, {"ignore_merges", h.IgnoreMerges, &m.ignoreMerges},
	} {
		if f.raw != nil {
			if err := json.Unmarshal(f.raw, f.dst); err != nil {
				return nil, fmt.Errorf("model.%s: %w", f.name, err)
			}
		}
	}
	if dropout != nil && *dropout != 0 {
		return nil, fmt.Errorf("model.dropout %v: BPE dropout is random and not supported", *dropout)
	}
	m.affixes = (m.prefix != nil && *m.prefix != "") || (m.suffix != nil && *m.suffix != "")
	// The two big arrays are independent: scan them side by side.
	var (
		pairs            [][2]string
		asPairs          bool
		vocabErr, mrgErr error
		wg               sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		pairs, asPairs, mrgErr = scanMerges(h.Merges)
	}()
	m.vocab, vocabErr = scanVocab(h.Vocab)
	wg.Wait()
	if vocabErr != nil {
		return nil, fmt.Errorf("model.vocab: %w", vocabErr)
	}
	if err := m.indexVocab(); err != nil {
		return nil, err
	}
	if mrgErr != nil {
		return nil, fmt.Errorf("model.merges: %w", mrgErr)
	}
	m.mergesAsPairs = asPairs
	if err := m.setMerges(pairs); err != nil {
		return nil, err
	}
	if m.unkToken != nil {
		id, ok := m.vocab[*m.unkToken]
		if !ok {
			return nil, fmt.Errorf("model.unk_token %q is not in the vocabulary", *m.unkToken)
		}
		m.unk = id
	}
	return m, nil
}

// indexVocab builds the id tables and checks that ids are unique and in range.
func (m *bpeModel) indexVocab() error {
	maxID := int32(-1)
	for tok, id := range m.vocab {
		if id < 0 {
			return fmt.Errorf("model.vocab: token %q has negative id %d", tok, id)
		}
		maxID = max(maxID, id)
	}
	if int(maxID) >= len(m.vocab)+maxIDSlack {
		return fmt.Errorf("model.vocab: id %d out of range for %d tokens", maxID, len(m.vocab))
	}
	m.tokens = make([]string, maxID+1)
	m.present = make([]bool, maxID+1)
	for tok, id := range m.vocab {
		if m.present[id] {
			a, b := min(tok, m.tokens[id]), max(tok, m.tokens[id])
			return fmt.Errorf("model.vocab: tokens %q and %q share id %d", a, b, id)
		}
		m.tokens[id], m.present[id] = tok, true
	}
	for r := range m.charID {
		m.charID[r] = -1
		if id, ok := m.vocab[string(rune(r))]; ok {
			m.charID[r] = id
		}
	}
	for b := range m.byteIDs {
		m.byteIDs[b] = -1
		if id, ok := m.vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteIDs[b] = id
		}
	}
	return nil
}

// setMerges resolves merges to ids; the rank of a merge is its position (a later duplicate
// wins, as in HF's HashMap collect). The merged token is a + b without b's
// continuing_subword_prefix, and must be in the vocabulary too. The vocabulary lookups
// dominate loading (they miss the CPU cache), so they run on all cores.
func (m *bpeModel) setMerges(pairs [][2]string) error {
	resolved := make([][3]int32, len(pairs))
	workers := min(runtime.GOMAXPROCS(0), 8, len(pairs)/4096+1)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := len(pairs)*w/workers, len(pairs)*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = m.resolveMerges(pairs[lo:hi], resolved[lo:hi], lo)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	m.merges = make(map[uint64]uint64, len(pairs))
	for rank, r := range resolved {
		m.merges[pairKey(r[0], r[1])] = uint64(rank)<<32 | uint64(uint32(r[2]))
	}
	m.numMerges = len(pairs)
	return nil
}

// resolveMerges looks up the ids of the two halves and of the merged token of each pair;
// base is the rank of pairs[0], for error messages.
func (m *bpeModel) resolveMerges(pairs [][2]string, out [][3]int32, base int) error {
	prefixLen := 0
	if m.prefix != nil {
		prefixLen = len(*m.prefix)
	}
	var buf []byte
	for i, p := range pairs {
		a, okA := m.vocab[p[0]]
		b, okB := m.vocab[p[1]]
		switch {
		case !okA:
			return fmt.Errorf("model.merges[%d] (%q %q): %q is not in the vocabulary", base+i, p[0], p[1], p[0])
		case !okB:
			return fmt.Errorf("model.merges[%d] (%q %q): %q is not in the vocabulary", base+i, p[0], p[1], p[1])
		case len(p[1]) < prefixLen:
			return fmt.Errorf("model.merges[%d]: %q is shorter than continuing_subword_prefix", base+i, p[1])
		}
		buf = append(append(buf[:0], p[0]...), p[1][prefixLen:]...)
		id, ok := m.vocab[string(buf)]
		if !ok {
			return fmt.Errorf("model.merges[%d] (%q %q): merged token %q is not in the vocabulary", base+i, p[0], p[1], buf)
		}
		out[i] = [3]int32{a, b, id}
	}
	return nil
}

// splitLegacyMerge splits an "a b" merge line; HF requires exactly one space.
func splitLegacyMerge(s string) ([2]string, bool) {
	i := strings.IndexByte(s, ' ')
	if i < 0 || strings.IndexByte(s[i+1:], ' ') >= 0 {
		return [2]string{}, false
	}
	return [2]string{s[:i], s[i+1:]}, true
}
