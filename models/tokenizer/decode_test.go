package tokenizer

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestLossyUTF8 pins Rust's String::from_utf8_lossy: one U+FFFD per maximal invalid subpart.
func TestLossyUTF8(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"abc", "abc"},
		{"\xe2\x82\xac", "€"},
		{"\xe2\x82", "\ufffd"},                 // a cut 3-byte sequence: one replacement
		{"\xe2\x82x", "\ufffdx"},               // ... followed by ASCII
		{"\xff\xfe", "\ufffd\ufffd"},           // bytes that never start a sequence: one each
		{"\xc0\xaf", "\ufffd\ufffd"},           // overlong
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"}, // surrogate: E0..9F rule for ED
		{"\xf0\x9f\x98", "\ufffd"},
		{"\xf0\x9f\x98\x80\xf0", "😀\ufffd"},
		{"\xf4\x90\x80\x80", "\ufffd\ufffd\ufffd\ufffd"}, // beyond U+10FFFF
		{"\x80", "\ufffd"},
	} {
		if got := lossyUTF8([]byte(c.in)); got != c.want {
			t.Errorf("lossyUTF8(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDecodeErrorsAndBytes(t *testing.T) {
	tok := sharedTokenizer(t, "llama3")
	for _, ids := range [][]int{{-1}, {tok.VocabSize()}, {9906, 1 << 40}} {
		if _, err := tok.Decode(ids); err == nil || !strings.Contains(err.Error(), "not in the vocabulary") {
			t.Errorf("Decode(%v) error = %v", ids, err)
		}
	}
	if tok.TokenBytes(-1) != nil || tok.TokenBytes(tok.VocabSize()) != nil {
		t.Error("TokenBytes of unknown ids should be nil")
	}
	// A streaming decoder concatenating TokenBytes gets the exact UTF-8, even when a
	// character is split over tokens (the emoji here are).
	text := "Emoji 😀🎉👍🏽 family 👨\u200d👩\u200d👧 ok"
	var buf []byte
	ids := tok.Encode(text)
	for _, id := range ids {
		buf = append(buf, tok.TokenBytes(id)...)
	}
	if string(buf) != text {
		t.Errorf("TokenBytes concatenation = %q", buf)
	}
	partial := false
	for _, id := range ids {
		partial = partial || !utf8.Valid(tok.TokenBytes(id))
	}
	if !partial {
		t.Error("expected some token to hold partial UTF-8")
	}
	// Decoding a prefix that cuts a character gives U+FFFD, as HF does.
	for i := 1; i < len(ids); i++ {
		s, err := tok.Decode(ids[:i])
		if err != nil || !utf8.ValidString(s) {
			t.Fatalf("Decode(prefix %d) = %q, %v", i, s, err)
		}
	}
	bot, _ := tok.TokenID("<|begin_of_text|>")
	if b := tok.TokenBytes(bot); !bytes.Equal(b, []byte("<|begin_of_text|>")) {
		t.Errorf("TokenBytes(bos) = %q", b)
	}
	if s, ok := tok.TokenString(9906); !ok || s != "Hello" {
		t.Errorf("TokenString(9906) = %q, %v", s, ok)
	}
	if id, ok := tok.TokenID("Ġworld"); !ok || id != 1917 {
		t.Errorf("TokenID(Ġworld) = %d, %v", id, ok)
	}
	if _, ok := tok.TokenString(-5); ok {
		t.Error("TokenString(-5) should fail")
	}
}

// TestDecodeWithoutDecoder: with "decoder": null HF joins token strings with spaces.
func TestDecodeWithoutDecoder(t *testing.T) {
	tok, err := Parse([]byte(`{"added_tokens":[{"id":3,"content":"<x y>","special":true}],"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]},"decoder":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := tok.Decode([]int{2, 0, 3}); err != nil || s != "ab a <x y>" {
		t.Errorf("Decode = %q, %v", s, err)
	}
	if s, err := tok.DecodeSkipSpecial([]int{2, 0, 3}); err != nil || s != "ab a" {
		t.Errorf("DecodeSkipSpecial = %q, %v", s, err)
	}
	if b := tok.TokenBytes(3); string(b) != "<x y>" {
		t.Errorf("TokenBytes = %q", b)
	}
}

// TestDecodeAddedTokenOutsideAlphabet: an added token whose text is not all byte-level
// runes is decoded as its own UTF-8 (HF's ByteLevel decoder falls back per token).
func TestDecodeAddedTokenOutsideAlphabet(t *testing.T) {
	tok := newTiny(t, Options{}, AddedToken{Content: "<a b>", Special: true}, AddedToken{Content: "ĠĠx"})
	sp, _ := tok.TokenID("<a b>")
	nx, _ := tok.TokenID("ĠĠx")
	if s, err := tok.Decode([]int{sp, nx}); err != nil || s != "<a b>  x" {
		t.Errorf("Decode = %q, %v", s, err)
	}
}
