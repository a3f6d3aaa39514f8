package tokenizer

import (
	"testing"
)

// tinyVocab is a byte-level vocabulary: the 256 alphabet runes (id = byte value), then the
// tokens the merges make, in merge order.
func tinyVocab(merges [][2]string) map[string]int {
	vocab := make(map[string]int, 256+len(merges))
	for b := 0; b < 256; b++ {
		vocab[string(byteRune[b])] = b
	}
	for _, m := range merges {
		if _, ok := vocab[m[0]+m[1]]; !ok {
			vocab[m[0]+m[1]] = len(vocab)
		}
	}
	return vocab
}

var tinyMerges = [][2]string{
	{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "w"}, {"o", "r"}, {"Ġw", "or"},
	{"l", "d"}, {"Ġwor", "ld"}, {"Ġ", "h"}, {"Ġh", "ell"}, {"e", "ll"}, {"Ġhell", "o"}, {"w", "or"}, {"wor", "ld"},
}

// tinyAdded builds added tokens numbered after the vocabulary, as the tokenizers library
// numbers them.
func tinyAdded(base int, toks ...AddedToken) []AddedToken {
	for i := range toks {
		toks[i].ID = base + i
	}
	return toks
}

// newTiny builds a tiny byte-level tokenizer with New.
func newTiny(t testing.TB, opts Options, added ...AddedToken) *Tokenizer {
	t.Helper()
	vocab := tinyVocab(tinyMerges)
	tok, err := New(vocab, tinyMerges, tinyAdded(len(vocab), added...), opts)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
