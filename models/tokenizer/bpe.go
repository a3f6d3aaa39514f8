package tokenizer

import (
	"unicode/utf8"
)

// bpeModel is HF's BPE model (tokenizers/src/models/bpe): a vocabulary, merges ranked by
// their order in the file, and the options that change how a word is cut into symbols.
type bpeModel struct {
	vocab   map[string]int32
	tokens  []string // by id; valid where present is set
	present []bool
	// merges maps a pair of symbol ids (a<<32 | b) to rank<<32 | id of the merged token.
	merges        map[uint64]uint64
	mergesAsPairs bool // the file wrote merges as ["a","b"] rather than "a b"

	unk            int32 // -1 without unk_token
	unkToken       *string
	fuseUnk        bool
	byteFallback   bool
	ignoreMerges   bool
	prefix, suffix *string // continuing_subword_prefix, end_of_word_suffix (kept for MarshalJSON)
	affixes        bool    // a non-empty prefix or suffix changes how characters are looked up

	charID    [0x200]int32 // id of the one-rune token for small runes (the byte-level alphabet); -1 if none
	byteIDs   [256]int32   // byte_fallback tokens "<0xAB>"; -1 if none
	cache     *wordCache
	numMerges int // merge rules in the file, a repeated one counted each time
}

// pairKey packs two symbol ids for the merges map.
func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// tokenize appends the ids of one pre-token. word is its real text (already byte-level
// mapped where the pipeline maps); it lives in scratch memory and is not retained.
func (m *bpeModel) tokenize(word []byte, st *encodeState, out []int) []int {
	if len(word) == 0 {
		return out
	}
	// ignore_merges (Llama 3): a pre-token that is itself in the vocabulary is emitted whole,
	// even where the merges would have cut it differently.
	if m.ignoreMerges {
		if id, ok := m.vocab[string(word)]; ok {
			return append(out, int(id))
		}
	}
	if ids, ok := m.cache.get(word); ok {
		for _, id := range ids {
			out = append(out, int(id))
		}
		return out
	}
	ids := m.mergeWord(word, st)
	m.cache.put(word, ids)
	for _, id := range ids {
		out = append(out, int(id))
	}
	return out
}

// mergeWord cuts word into characters, maps them to ids (with byte fallback and unk as HF's
// BPE::merge_word does) and applies the merges. The result is a fresh slice.
func (m *bpeModel) mergeWord(word []byte, st *encodeState) []int32 {
	syms := st.syms[:0]
	add := func(id int32) {
		n := int32(len(syms))
		syms = append(syms, symbol{id: id, prev: n - 1, next: n + 1})
	}
	unkPending := false // HF holds back an unk so fuse_unk can widen it
	unkFlush := func() {
		if unkPending {
			add(m.unk)
			unkPending = false
		}
	}
	for i := 0; i < len(word); {
		r, n := utf8.DecodeRune(word[i:])
		id := int32(-1)
		ch := word[i : i+n]
		if !m.affixes && r < rune(len(m.charID)) && !(r == utf8.RuneError && n == 1) {
			id = m.charID[r]
		} else {
			if m.affixes {
				buf := st.tmp[:0]
				if i > 0 && m.prefix != nil {
					buf = append(buf, *m.prefix...)
				}
				buf = append(buf, ch...)
				if i+n == len(word) && m.suffix != nil {
					buf = append(buf, *m.suffix...)
				}
				st.tmp, ch = buf, buf
			}
			if v, ok := m.vocab[string(ch)]; ok {
				id = v
			}
		}
		i += n
		if id >= 0 {
			unkFlush()
			add(id)
			continue
		}
		if m.byteFallback && m.fallbackAll(ch) {
			// HF adds these without flushing a pending unk first; keep its order.
			for _, b := range ch {
				add(m.byteIDs[b])
			}
			continue
		}
		if m.unk >= 0 {
			if unkPending && !m.fuseUnk {
				add(m.unk)
			}
			unkPending = true
		}
		// Without unk_token HF drops the character.
	}
	unkFlush()
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	syms = m.mergeAll(syms, st)
	st.syms = syms
	out := make([]int32, 0, len(syms))
	for i := 0; i >= 0 && i < len(syms); i = int(syms[i].next) {
		out = append(out, syms[i].id)
	}
	return out
}

func (m *bpeModel) fallbackAll(ch []byte) bool {
	for _, b := range ch {
		if m.byteIDs[b] < 0 {
			return false
		}
	}
	return true
}
