package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"seal/internal/shareddata"
)

// goldenTokenizer is the "cases" part of a tokenizer_<name>_<set>.json golden: ids are HF
// encode(text) (no special tokens added by these files' post-processors), decoded is HF
// decode(ids) with the tokenizers library's default skip_special_tokens=True.
type goldenTokenizer struct {
	Tokenizer string `json:"tokenizer"`
	Cases     []struct {
		Text    string `json:"text"`
		IDs     []int  `json:"ids"`
		Decoded string `json:"decoded"`
	} `json:"cases"`
}

var (
	sharedToks   = map[string]*Tokenizer{}
	sharedTokErr = map[string]error{}
	sharedTokMu  sync.Mutex
)

// sharedTokenizer loads data/tokenizers/<name>/tokenizer.json once per test binary; a test
// skips when the shared folder lacks it (shareddata.PathOrSkip).
func sharedTokenizer(tb testing.TB, name string) *Tokenizer {
	tb.Helper()
	sharedTokMu.Lock()
	defer sharedTokMu.Unlock()
	if t, ok := sharedToks[name]; ok || sharedTokErr[name] != nil {
		if sharedTokErr[name] != nil {
			tb.Fatal(sharedTokErr[name])
		}
		return t
	}
	dir := shareddata.PathOrSkip(tb, "data", "tokenizers", name)
	t, err := Load(filepath.Join(dir, "tokenizer.json"))
	sharedToks[name], sharedTokErr[name] = t, err
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// TestGoldenTokenizers checks every tokenizer_*_*.json golden found (a golden dropped in
// later is picked up): Encode gives the ids exactly, DecodeSkipSpecial the decoded text,
// and Decode (special tokens kept) the original text.
func TestGoldenTokenizers(t *testing.T) {
	dir, err := shareddata.Golden()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "tokenizer_*_*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no tokenizer_*_*.json goldens in %s (%v)", dir, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var g goldenTokenizer
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &g); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if g.Tokenizer == "" || len(g.Cases) == 0 {
				t.Skipf("%s has no tokenizer cases", f)
			}
			tok := sharedTokenizer(t, g.Tokenizer)
			for i, c := range g.Cases {
				t.Run(fmt.Sprintf("%02d_%s", i, caseName(c.Text)), func(t *testing.T) {
					if got := tok.Encode(c.Text); !slices.Equal(got, c.IDs) {
						t.Errorf("Encode(%q)\n got %v\nwant %v", c.Text, got, c.IDs)
					}
					if got, err := tok.DecodeSkipSpecial(c.IDs); err != nil || got != c.Decoded {
						t.Errorf("DecodeSkipSpecial(%v) = %q, %v; want %q", c.IDs, got, err, c.Decoded)
					}
					if got, err := tok.Decode(c.IDs); err != nil || got != c.Text {
						t.Errorf("Decode(%v) = %q, %v; want the text %q", c.IDs, got, err, c.Text)
					}
				})
			}
		})
	}
}

// caseName makes a short subtest name from a case's text.
func caseName(s string) string {
	r := []rune(s)
	if len(r) > 24 {
		r = r[:24]
	}
	return string(r)
}
