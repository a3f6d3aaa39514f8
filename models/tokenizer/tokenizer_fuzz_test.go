package tokenizer

import (
	"slices"
	"testing"
)

// FuzzParse feeds Parse arbitrary documents: it must return a tokenizer or an error, never
// panic, and a tokenizer it returns must encode, decode and survive MarshalJSON unchanged.
func FuzzParse(f *testing.F) {
	f.Add(tinyDoc())
	f.Add(tinyDoc("MERGES", `[["a","b"]]`, "NORM", `{"type":"NFC"}`))
	f.Add(tinyDoc("ADDED", `[{"id":3,"content":"<s>","special":true,"lstrip":true},{"id":4,"content":"ab","normalized":true}]`,
		"POST", `{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"special_tokens":{"<s>":{"id":"<s>","ids":[3],"tokens":["<s>"]}}}`))
	f.Add(tinyDoc("PRE", `{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"`+jsonEscape(PatternLlama3)+`"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]}`))
	f.Add(tinyDoc("PRE", `{"type":"Split","pattern":{"Regex":"a|"},"behavior":"MergedWithNext","invert":true}`))
	f.Add(tinyDoc("PRE", `{"type":"Digits","individual_digits":false}`, "DEC", "null"))
	f.Add(`{"model":{"type":"BPE","unk_token":"<unk>","byte_fallback":true,"fuse_unk":true,"continuing_subword_prefix":"##","vocab":{"<unk>":0,"a":1,"##b":2,"ab":3,"<0x61>":4},"merges":["a ##b"]}}`)
	f.Add(tinyDoc("MERGES", `["a c"]`))
	f.Add(tinyDoc("VOCAB", `{"a":0,"b":0}`))
	f.Add(`{"model":`)
	f.Add(`{"model":{"type":"WordPiece"}}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, doc string) {
		tok, err := Parse([]byte(doc))
		if err != nil {
			return
		}
		inputs := []string{"", "ab", "a b ab!", "<s>ab 12\n\n", "\xffé\u0301中"}
		for _, in := range inputs {
			ids := tok.EncodeSpecial(in)
			for _, id := range ids {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("Encode(%q): id %d out of range %d", in, id, tok.VocabSize())
				}
			}
			if _, err := tok.Decode(ids); err != nil {
				t.Fatalf("Decode(Encode(%q)): %v", in, err)
			}
		}
		data, err := tok.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(data)
		if err != nil {
			t.Fatalf("Parse(MarshalJSON()) = %v\n%s", err, data)
		}
		for _, in := range inputs {
			if a, b := tok.EncodeSpecial(in), again.EncodeSpecial(in); !slices.Equal(a, b) {
				t.Fatalf("after MarshalJSON, Encode(%q) = %v, was %v", in, b, a)
			}
		}
	})
}

// FuzzEncode encodes arbitrary strings with the real Llama 3 and Qwen3 tokenizers: no panic,
// ids in range, and Decode(Encode(s)) gives s back (NFC-normalized for Qwen3).
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"Hello, world!", "  leading and trailing  ", "I'M 'S 'ſ", "1234567 3.14",
		"<|im_start|>user\nhi<|im_end|>", "<|begin_of_text|>x", "e\u0301 A\u030a \u212b", "中文 😀👨\u200d👩\u200d👧",
		"\xff\xfe\xe2\x82", "\t\n\r\v\f \u00a0\u3000\u0085\u2028", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} {
		f.Add(s)
	}
	llama, qwen := sharedTokenizer(f, "llama3"), sharedTokenizer(f, "qwen3")
	f.Fuzz(func(t *testing.T, s string) {
		checkRoundTrip(t, llama, s)
		checkRoundTrip(t, qwen, s)
	})
}

func jsonEscape(s string) string {
	b := appendJSONString(nil, s)
	return string(b[1 : len(b)-1])
}
