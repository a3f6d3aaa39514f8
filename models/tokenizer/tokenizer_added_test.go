package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

// part is an expected piece of an encoding: plain text (encoded on its own) or an added token.
type part struct {
	text  string
	token string
}

func txt(s string) part { return part{text: s} }
func tk(s string) part  { return part{token: s} }

// expectParts is what Encode should give when the added tokens cut text into parts: the
// text parts as plain (the same tokenizer without added tokens) encodes them.
func expectParts(t *testing.T, plain, tok *Tokenizer, parts []part) []int {
	t.Helper()
	var ids []int
	for _, p := range parts {
		if p.token == "" {
			ids = append(ids, plain.Encode(p.text)...)
			continue
		}
		id, ok := tok.TokenID(p.token)
		if !ok {
			t.Fatalf("no added token %q", p.token)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestAddedTokenMatching(t *testing.T) {
	plain := newTiny(t, Options{Pattern: PatternLlama3})
	tok := newTiny(t, Options{Pattern: PatternLlama3},
		AddedToken{Content: "<s>", Special: true},
		AddedToken{Content: "</s>", Special: true},
		AddedToken{Content: "<mask>", Special: true, LStrip: true, RStrip: true},
		AddedToken{Content: "<tool>", SingleWord: true},
		AddedToken{Content: "<sep>", Normalized: true},
		AddedToken{Content: "<s>xy"},
	)
	for _, c := range []struct {
		in   string
		want []part
	}{
		{"hello<s>world", []part{txt("hello"), tk("<s>"), txt("world")}},
		{"<s></s>", []part{tk("<s>"), tk("</s>")}},
		{"<s>xyz", []part{tk("<s>xy"), txt("z")}}, // longest match wins
		{"<s>x", []part{tk("<s>"), txt("x")}},
		{"a <mask> b", []part{txt("a"), tk("<mask>"), txt("b")}}, // lstrip and rstrip swallow spaces
		{"a  \t<mask>\n b", []part{txt("a"), tk("<mask>"), txt("b")}},
		{"  <mask>  ", []part{tk("<mask>")}},
		{"<s> <mask>", []part{tk("<s>"), tk("<mask>")}},
		{"<s> <mask><s>", []part{tk("<s>"), tk("<mask>"), tk("<s>")}},
		{"x <tool> y", []part{txt("x "), tk("<tool>"), txt(" y")}},
		{"<tool>.", []part{tk("<tool>"), txt(".")}},
		{"x<tool>y", []part{txt("x<tool>y")}},                   // single_word: inside a word
		{"é<tool>", []part{txt("é<tool>")}},                     // a letter is a word character
		{"<tool>_", []part{txt("<tool>_")}},                     // so is connector punctuation
		{"1<tool>", []part{txt("1<tool>")}},                     // and a digit
		{"x<tool><tool>", []part{txt("x<tool>"), tk("<tool>")}}, // a rejected match is skipped whole
		{"a<sep>b", []part{txt("a"), tk("<sep>"), txt("b")}},
		{"<s><sep>", []part{tk("<s>"), tk("<sep>")}},
		{"<s", []part{txt("<s")}},
		{"", nil},
	} {
		got := tok.Encode(c.in)
		if want := expectParts(t, plain, tok, c.want); !slices.Equal(got, want) {
			t.Errorf("Encode(%q) = %v, want %v", c.in, got, want)
		}
		// Decoding with the special tokens kept gives the text back, minus what strip ate.
		if dec, err := tok.Decode(got); err != nil || (dec != c.in && !strings.Contains(c.in, "<mask>")) {
			t.Errorf("Decode(Encode(%q)) = %q, %v", c.in, dec, err)
		}
	}
}

// TestAddedTokenNormalized: with an NFC normalizer, a normalized token matches text that
// only becomes its content after normalization, while a raw one needs the exact bytes.
func TestAddedTokenNormalized(t *testing.T) {
	plain := newTiny(t, Options{Pattern: PatternQwen2, NFC: true})
	tok := newTiny(t, Options{Pattern: PatternQwen2, NFC: true},
		AddedToken{Content: "ế", Normalized: true},
		AddedToken{Content: "Å<", Normalized: false},
	)
	for _, c := range []struct {
		in   string
		want []part
	}{
		{"cafe\u0302\u0301!", []part{txt("caf"), tk("ế"), txt("!")}},
		{"cafế!", []part{txt("caf"), tk("ế"), txt("!")}},
		{"Å<x", []part{tk("Å<"), txt("x")}},
		{"A\u030a<x", []part{txt("A\u030a<x")}}, // decomposed: the raw token does not match
	} {
		got := tok.Encode(c.in)
		if want := expectParts(t, plain, tok, c.want); !slices.Equal(got, want) {
			t.Errorf("Encode(%q) = %v, want %v", c.in, got, want)
		}
	}
}

func TestEncodeSpecialTemplate(t *testing.T) {
	tok := newTiny(t, Options{Pattern: PatternLlama3, BOS: "<s>", EOS: "</s>"},
		AddedToken{Content: "<s>", Special: true},
		AddedToken{Content: "</s>", Special: true},
		AddedToken{Content: "<tool>"},
	)
	bos, _ := tok.TokenID("<s>")
	eos, _ := tok.TokenID("</s>")
	tool, _ := tok.TokenID("<tool>")
	body := tok.Encode("hello world")
	if got, want := tok.EncodeSpecial("hello world"), append(append([]int{bos}, body...), eos); !slices.Equal(got, want) {
		t.Errorf("EncodeSpecial = %v, want %v", got, want)
	}
	if got := tok.EncodeSpecial(""); !slices.Equal(got, []int{bos, eos}) {
		t.Errorf("EncodeSpecial(\"\") = %v", got)
	}
	ids := append([]int{bos, tool}, body...)
	ids = append(ids, eos)
	if s, err := tok.Decode(ids); err != nil || s != "<s><tool>hello world</s>" {
		t.Errorf("Decode = %q, %v", s, err)
	}
	if s, err := tok.DecodeSkipSpecial(ids); err != nil || s != "<tool>hello world" {
		t.Errorf("DecodeSkipSpecial = %q, %v", s, err)
	}
	if !tok.IsSpecial(bos) || tok.IsSpecial(tool) || tok.IsSpecial(body[0]) {
		t.Error("IsSpecial is wrong")
	}
	if sum := tok.Summary(); sum.PostProcessor != "ByteLevel, TemplateProcessing(<s> $A </s>)" || sum.SpecialTokens != 2 || sum.AddedTokens != 3 {
		t.Errorf("Summary = %+v", sum)
	}
}
