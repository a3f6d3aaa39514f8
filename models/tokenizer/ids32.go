package tokenizer

// The model takes and samples token ids as int32 (models/llama); these are the
// tokenizer's entry points in that type, so no caller converts slices back and forth.

// Encode32 is Encode with the model's id type.
func (t *Tokenizer) Encode32(text string) []int32 { return ids32(t.Encode(text)) }

// EncodeSpecial32 is EncodeSpecial with the model's id type.
func (t *Tokenizer) EncodeSpecial32(text string) []int32 { return ids32(t.EncodeSpecial(text)) }

// Decode32 is Decode for the model's ids.
func (t *Tokenizer) Decode32(ids []int32) (string, error) { return decodeIDs(t, ids, false) }

// DecodeSkipSpecial32 is DecodeSkipSpecial for the model's ids.
func (t *Tokenizer) DecodeSkipSpecial32(ids []int32) (string, error) { return decodeIDs(t, ids, true) }

// ids32 narrows encoded ids, which always fit: a vocabulary is indexed by int32 when
// it loads (bpe_jsonscan.go).
func ids32(ids []int) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}
