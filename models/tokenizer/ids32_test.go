package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"seal/internal/shareddata"
)

// TestInt32APIOnGoldenCases: on every golden tokenizer case, the int32 entry points give
// the golden ids and texts exactly as the int ones do, and round-trip.
func TestInt32APIOnGoldenCases(t *testing.T) {
	dir, err := shareddata.Golden()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "tokenizer_*_*.json"))
	if len(files) == 0 {
		t.Fatalf("no tokenizer_*_*.json goldens in %s", dir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var g goldenTokenizer
			data, err := os.ReadFile(f)
			if err == nil {
				err = json.Unmarshal(data, &g)
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if g.Tokenizer == "" || len(g.Cases) == 0 {
				t.Skipf("%s has no tokenizer cases", f)
			}
			tok := sharedTokenizer(t, g.Tokenizer)
			for _, c := range g.Cases {
				want := make([]int32, len(c.IDs))
				for i, id := range c.IDs {
					want[i] = int32(id)
				}
				if got := tok.Encode32(c.Text); !slices.Equal(got, want) {
					t.Errorf("Encode32(%q)\n got %v\nwant %v", c.Text, got, want)
				}
				if got, err := tok.DecodeSkipSpecial32(want); err != nil || got != c.Decoded {
					t.Errorf("DecodeSkipSpecial32(%v) = %q, %v; want %q", want, got, err, c.Decoded)
				}
				if got, err := tok.Decode32(tok.Encode32(c.Text)); err != nil || got != c.Text {
					t.Errorf("Decode32(Encode32(%q)) = %q, %v", c.Text, got, err)
				}
				special := tok.EncodeSpecial(c.Text)
				if got := tok.EncodeSpecial32(c.Text); len(got) != len(special) || !slices.EqualFunc(got, special, func(a int32, b int) bool { return int(a) == b }) {
					t.Errorf("EncodeSpecial32(%q) = %v, EncodeSpecial %v", c.Text, got, special)
				}
			}
		})
	}
}

// TestDecode32RefusesUnknownIDs: an id outside the vocabulary is an error naming it, as
// with Decode, also for a negative int32.
func TestDecode32RefusesUnknownIDs(t *testing.T) {
	tok, err := Train([]string{"abc abd"}, TrainConfig{VocabSize: 300})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int32{int32(tok.VocabSize()), -1} {
		if _, err := tok.Decode32([]int32{id}); err == nil {
			t.Errorf("Decode32(%d) decoded an id outside the vocabulary", id)
		}
	}
	ids := tok.EncodeSpecial32("abc abd")
	if s, err := tok.Decode32(ids); err != nil || s != "abc abd" {
		t.Errorf("Decode32(%v) = %q, %v", ids, s, err)
	}
}
