package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// randomText draws valid UTF-8 mixing ASCII prose, whitespace of every kind, combining
// marks, CJK, emoji with joiners, and runes from anywhere in Unicode (unassigned included).
func randomText(r *rand.Rand, n int) string {
	pieces := []string{"the", " cat", "'s", "'S", " ", "  ", "\n", "\r\n", "\t", "\u00a0", "\u3000", "123", "4567",
		".", "!?", "\"", "e\u0301", "\u0301", "中文", "日本語", "👨\u200d👩\u200d👧", "😀", "\u200b", "<|", "|>", "<|im_start|>",
		"<|begin_of_text|>", "Ω", "\u212b", "ﬁ", "ſ"}
	var b strings.Builder
	for range n {
		if r.IntN(3) == 0 {
			c := rune(r.IntN(0x110000))
			if !utf8.ValidRune(c) {
				c = 'x'
			}
			b.WriteRune(c)
			continue
		}
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// checkRoundTrip is the property both the tests and FuzzEncode check: ids are in range and
// Decode gives the text back (NFC-normalized where the tokenizer normalizes).
func checkRoundTrip(t *testing.T, tok *Tokenizer, s string) {
	t.Helper()
	ids := tok.Encode(s)
	for _, id := range ids {
		if id < 0 || id >= tok.VocabSize() {
			t.Fatalf("Encode(%q): id %d out of range", s, id)
		}
	}
	got, err := tok.Decode(ids)
	if err != nil {
		t.Fatalf("Decode(Encode(%q)): %v", s, err)
	}
	want := s
	if tok.Summary().Normalizer == "NFC" {
		// NFC applies between the added tokens found in the raw text, as in HF: a token's
		// last character never composes with a mark after it (">" + U+0338 stays apart).
		var b strings.Builder
		for _, seg := range tok.splitAdded(s, tok.rawMatch, nil) {
			if seg.token >= 0 {
				b.WriteString(seg.text)
			} else {
				b.WriteString(norm.NFC.String(seg.text))
			}
		}
		want = b.String()
	}
	want = lossyUTF8([]byte(want)) // invalid input bytes come back as U+FFFD, as HF decodes them
	if got != want {
		t.Fatalf("Decode(Encode(%q)) = %q, want %q (ids %v)", s, got, want, ids)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"llama3", "qwen3"} {
		t.Run(name, func(t *testing.T) {
			tok := sharedTokenizer(t, name)
			r := rand.New(rand.NewPCG(3, uint64(len(name))))
			for i := range 3000 {
				checkRoundTrip(t, tok, randomText(r, 1+i%40))
			}
			checkRoundTrip(t, tok, "A\u030a\u212b and \xff\xfe broken \xe2\x82")
			checkRoundTrip(t, tok, "<|im_end|>\u0338 <|begin_of_text|>\u0338")
		})
	}
}
