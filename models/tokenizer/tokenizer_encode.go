package tokenizer

// encodeState is per-call scratch memory, pooled so Encode allocates little and concurrent
// calls never share it.
type encodeState struct {
	segs, normSegs []segment
	bufs           pieceBufs
	word, tmp      []byte
	syms           []symbol
	heap           []mergeCand
}

// Encode tokenizes text like HF's encode(text, add_special_tokens=False): added tokens in
// the text are matched as tokens, the rest is normalized, pre-tokenized and BPE-merged.
// In byte-level pipelines, bytes of text that are not valid UTF-8 become their own byte
// tokens (HF never sees such text: Python strings are always valid).
func (t *Tokenizer) Encode(text string) []int {
	st := t.pool.Get().(*encodeState)
	out := t.encode(text, st, make([]int, 0, len(text)/4+4))
	t.pool.Put(st)
	return out
}

// EncodeSpecial is HF's encode(text) with add_special_tokens=True: Encode, then the
// post-processor's template (for example a leading BOS).
func (t *Tokenizer) EncodeSpecial(text string) []int {
	ids := t.Encode(text)
	for _, p := range t.post {
		ids = p.apply(ids)
	}
	return ids
}

// encode follows TokenizerImpl::encode_single_sequence: AddedVocabulary::extract_and_normalize
// (raw-text added tokens, then normalization, then normalized added tokens), then the
// pre-tokenizer and the model on each remaining piece.
func (t *Tokenizer) encode(text string, st *encodeState, out []int) []int {
	st.segs = t.splitAdded(text, t.rawMatch, st.segs[:0])
	for _, seg := range st.segs {
		if seg.token >= 0 {
			out = append(out, t.added[seg.token].ID)
			continue
		}
		st.normSegs = t.splitAdded(t.norm.normalize(seg.text), t.normMatch, st.normSegs[:0])
		for _, ns := range st.normSegs {
			if ns.token >= 0 {
				out = append(out, t.added[ns.token].ID)
				continue
			}
			for _, p := range preTokenize(t.pre, ns.text, &st.bufs) {
				if p.mapped {
					st.word = appendByteLevel(st.word[:0], p.s)
				} else {
					st.word = append(st.word[:0], p.s...)
				}
				out = t.model.tokenize(st.word, st, out)
			}
		}
	}
	return out
}
