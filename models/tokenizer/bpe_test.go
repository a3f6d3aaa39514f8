package tokenizer

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unicode/utf8"
)

// naiveMerge is the textbook BPE loop: repeatedly merge the adjacent pair of lowest rank,
// the leftmost on ties. HF's heap must agree with it.
func naiveMerge(m *bpeModel, ids []int32) []int32 {
	ids = slices.Clone(ids)
	for {
		best, bestRank, bestID := -1, uint32(0), int32(0)
		for i := 0; i+1 < len(ids); i++ {
			if v, ok := m.merges[pairKey(ids[i], ids[i+1])]; ok && (best < 0 || uint32(v>>32) < bestRank) {
				best, bestRank, bestID = i, uint32(v>>32), int32(uint32(v))
			}
		}
		if best < 0 {
			return ids
		}
		ids = slices.Replace(ids, best, best+2, bestID)
	}
}

func charIDs(t *testing.T, m *bpeModel, word string) []int32 {
	var ids []int32
	for _, r := range word {
		id, ok := m.vocab[string(r)]
		if !ok {
			t.Fatalf("no token for %q", r)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestMergeMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, name := range []string{"llama3", "qwen3"} {
		m := sharedTokenizer(t, name).model
		st := new(encodeState)
		for i := range 5000 {
			word := byteLevelString(randomText(r, 1+i%6))
			got := m.mergeWord([]byte(word), st)
			if want := naiveMerge(m, charIDs(t, m, word)); !slices.Equal(got, want) {
				t.Fatalf("%s: merge(%q) = %v, want %v", name, word, got, want)
			}
		}
		// Long runs exercise many queued stale entries.
		for _, word := range []string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠĠ", "abababababababababababa"} {
			if got, want := m.mergeWord([]byte(word), st), naiveMerge(m, charIDs(t, m, word)); !slices.Equal(got, want) {
				t.Fatalf("%s: merge(%q) = %v, want %v", name, word, got, want)
			}
		}
	}
}

// TestIgnoreMerges: Llama 3 has vocabulary tokens the merges would cut differently; with
// ignore_merges a pre-token equal to one of them is emitted whole.
func TestIgnoreMerges(t *testing.T) {
	tok := sharedTokenizer(t, "llama3")
	m := tok.model
	st := new(encodeState)
	found := 0
	for id, s := range m.tokens {
		if !m.present[id] || utf8.RuneCountInString(s) < 2 {
			continue
		}
		merged := m.mergeWord([]byte(s), st)
		if len(merged) == 1 && merged[0] == int32(id) {
			continue
		}
		if got := m.tokenize([]byte(s), st, nil); !slices.Equal(got, []int{id}) {
			t.Fatalf("tokenize(%q) = %v, want [%d] (merges give %v)", s, got, id, merged)
		}
		found++
	}
	if found == 0 {
		t.Fatal("expected llama3 tokens that merging alone does not produce")
	}
	t.Logf("%d llama3 tokens rely on ignore_merges", found)
}

// TestUnknownAndByteFallback covers characters missing from the vocabulary: dropped without
// unk_token, unk (fused or not) with it, and <0xXX> tokens with byte_fallback.
func TestUnknownAndByteFallback(t *testing.T) {
	doc := func(model string) string {
		return `{"added_tokens":[],"normalizer":null,"pre_tokenizer":null,"post_processor":null,"decoder":null,"model":` + model + `}`
	}
	vocab := `{"<unk>":0,"a":1,"b":2,"ab":3,"<0xC3>":4,"<0xA9>":5}`
	for _, c := range []struct {
		model string
		in    string
		want  []int
	}{
		{`{"type":"BPE","vocab":` + vocab + `,"merges":["a b"]}`, "xabyz", []int{3}},
		{`{"type":"BPE","unk_token":"<unk>","vocab":` + vocab + `,"merges":["a b"]}`, "xabyz", []int{0, 3, 0, 0}},
		{`{"type":"BPE","unk_token":"<unk>","fuse_unk":true,"vocab":` + vocab + `,"merges":["a b"]}`, "xabyz", []int{0, 3, 0}},
		{`{"type":"BPE","unk_token":"<unk>","byte_fallback":true,"vocab":` + vocab + `,"merges":["a b"]}`, "éab", []int{4, 5, 3}},
		{`{"type":"BPE","unk_token":"<unk>","byte_fallback":true,"vocab":` + vocab + `,"merges":["a b"]}`, "aé€", []int{1, 4, 5, 0}},
		{`{"type":"BPE","continuing_subword_prefix":"##","vocab":{"a":0,"##b":1,"a##b":2,"ab":3},"merges":["a ##b"]}`, "ab", []int{3}},
		{`{"type":"BPE","end_of_word_suffix":"</w>","vocab":{"a":0,"b</w>":1,"ab</w>":2},"merges":["a b</w>"]}`, "ab", []int{2}},
	} {
		tok, err := Parse([]byte(doc(c.model)))
		if err != nil {
			t.Fatalf("%s: %v", c.model, err)
		}
		if got := tok.Encode(c.in); !slices.Equal(got, c.want) {
			t.Errorf("%s\nEncode(%q) = %v, want %v", c.model, c.in, got, c.want)
		}
	}
}
