package tokenizer

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// TestMarshalRoundTrip: MarshalJSON of a loaded tokenizer parses back into one that encodes
// identically, and marshalling that gives the same bytes.
func TestMarshalRoundTrip(t *testing.T) {
	for _, name := range []string{"llama3", "qwen3"} {
		t.Run(name, func(t *testing.T) {
			tok := sharedTokenizer(t, name)
			data, err := tok.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			again, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := tok.Summary(), again.Summary(); !reflect.DeepEqual(a, b) {
				t.Errorf("Summary changed:\n%+v\n%+v", a, b)
			}
			r := rand.New(rand.NewPCG(5, 5))
			for range 300 {
				s := randomText(r, 30)
				if a, b := tok.EncodeSpecial(s), again.EncodeSpecial(s); !slices.Equal(a, b) {
					t.Fatalf("Encode(%q) = %v after the round trip, was %v", s, b, a)
				}
			}
			data2, _ := again.MarshalJSON()
			if !bytes.Equal(data, data2) {
				t.Error("MarshalJSON is not stable")
			}
			var doc map[string]any
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			model := doc["model"].(map[string]any)
			if model["type"] != "BPE" || len(model["vocab"].(map[string]any)) != len(tok.model.vocab) || len(model["merges"].([]any)) != tok.model.numMerges {
				t.Error("model section incomplete")
			}
		})
	}
}

// TestNew builds a tokenizer from parts and checks it against the same parts loaded through
// a hand-written tokenizer.json.
func TestNew(t *testing.T) {
	tok := newTiny(t, Options{Pattern: PatternLlama3, IgnoreMerges: true, BOS: "<s>"}, AddedToken{Content: "<s>", Special: true})
	if got := tok.Encode("hello world"); len(got) != 2 {
		t.Errorf("Encode(hello world) = %v, want [hello Ġworld]", got)
	}
	if s, err := tok.Decode(tok.EncodeSpecial("hello world, hi")); err != nil || s != "<s>hello world, hi" {
		t.Errorf("round trip = %q, %v", s, err)
	}
	sum := tok.Summary()
	if sum.VocabSize != tok.VocabSize() || sum.Merges != len(tinyMerges) || !sum.IgnoreMerges || sum.Normalizer != "none" ||
		!slices.Equal(sum.PreTokenizers, []string{"Split(llama3 pattern, Isolated)", "ByteLevel"}) || sum.Decoder != "ByteLevel" {
		t.Errorf("Summary = %+v", sum)
	}
	if _, err := New(map[string]int{"a": 0, "b": 0}, nil, nil, Options{}); err == nil {
		t.Error("New accepted duplicate ids")
	}
	if _, err := New(tinyVocab(nil), [][2]string{{"a", "q"}}, nil, Options{}); err == nil {
		t.Error("New accepted a merge whose result is not in the vocabulary")
	}
	if _, err := New(tinyVocab(nil), nil, nil, Options{BOS: "<s>"}); err == nil {
		t.Error("New accepted a BOS that is not an added token")
	}
	// GPT-2 style: ByteLevel's own split and a prefix space.
	gpt := newTiny(t, Options{AddPrefixSpace: true})
	if a, b := gpt.Encode("hello"), gpt.Encode(" hello"); !slices.Equal(a, b) || len(a) != 2 { // Ġ hello: no merge joins them
		t.Errorf("add_prefix_space: %v vs %v", a, b)
	}
}
