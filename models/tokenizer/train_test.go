package tokenizer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func mustTrain(t testing.TB, texts []string, cfg TrainConfig) *Tokenizer {
	t.Helper()
	tok, err := Train(texts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func repeatTexts(pairs ...any) []string {
	var out []string
	for i := 0; i < len(pairs); i += 2 {
		for range pairs[i+1].(int) {
			out = append(out, pairs[i].(string))
		}
	}
	return out
}

// TestTrainHandExamples checks merges worked out by hand.
func TestTrainHandExamples(t *testing.T) {
	// One word "aaabdaaabac": a+a (4: the runs aaa count twice each), then a tie at 2 between
	// (aa,a) and (a,b): "a" has a smaller id than "aa", so a+b, then aa+ab (2). All pairs left
	// occur once: (a,c) has the smallest left id, then (d,aaab) (d < aaab).
	tok := mustTrain(t, []string{"aaabdaaabac"}, TrainConfig{VocabSize: 256 + 5})
	want := [][2]string{{"a", "a"}, {"a", "b"}, {"aa", "ab"}, {"a", "c"}, {"d", "aaab"}}
	if got := tok.model.mergeList(); !reflect.DeepEqual(got, want) {
		t.Errorf("merges = %q, want %q", got, want)
	}
	for i, s := range []string{"aa", "ab", "aaab", "ac", "daaab"} {
		if id, ok := tok.TokenID(s); !ok || id != 256+i {
			t.Errorf("TokenID(%q) = %d, %v, want %d", s, id, ok, 256+i)
		}
	}
	if got, want := tok.Encode("aaabdaaabac"), []int{258, 260, 259}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	// MinFrequency 2 stops after the three merges that occur twice.
	tok = mustTrain(t, []string{"aaabdaaabac"}, TrainConfig{VocabSize: 1000, MinFrequency: 2})
	if got := tok.model.mergeList(); !reflect.DeepEqual(got, want[:3]) {
		t.Errorf("MinFrequency 2: merges = %q, want %q", got, want[:3])
	}

	// HF's own trainer test (models/bpe/trainer.rs test_train): r+e (3), then a tie at 2
	// between a+re and i+s, which a (0x61 < 0x69) wins.
	texts := repeatTexts("roses", 1, "are", 2, "red", 1, "voilets", 1, "blue", 1, "BERT", 1, "is", 2, "big", 1,
		"and", 1, "so", 1, "GPT-2", 1)
	tok = mustTrain(t, texts, TrainConfig{VocabSize: 30000, MinFrequency: 2})
	if got, want := tok.model.mergeList(), [][2]string{{"r", "e"}, {"a", "re"}, {"i", "s"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("HF test_train: merges = %q, want %q", got, want)
	}

	// Ties go by id, not by string: "zz" (id 256) is older than "aa" (257), so zz+q beats
	// aa+q although "aa" < "zz".
	texts = repeatTexts("zz", 5, "aa", 4, "zzq", 1, "aaq", 1)
	tok = mustTrain(t, texts, TrainConfig{VocabSize: 256 + 3})
	if got, want := tok.model.mergeList(), [][2]string{{"z", "z"}, {"a", "a"}, {"zz", "q"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("id tie-break: merges = %q, want %q", got, want)
	}

	// Words are the pre-tokenizer's pieces: " the" keeps its space (Ġ), and pairs never span
	// two pieces. Words "the" x1, " the" x3: h+e and t+h tie at 4 (h < t), then t+he (4),
	// then Ġ+the (3); (e, Ġ) and (e, .) are never counted.
	tok = mustTrain(t, []string{"the the the. the"}, TrainConfig{VocabSize: 256 + 10})
	if got, want := tok.model.mergeList(), [][2]string{{"h", "e"}, {"t", "he"}, {"Ġ", "the"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("pieces: merges = %q, want %q", got, want)
	}
}

// TestTrainAlphabetAndAdded checks the id layout: the byte alphabet sorted by code point, the
// merges, then the added tokens.
func TestTrainAlphabetAndAdded(t *testing.T) {
	added := []string{"<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>"}
	cfg := TrainConfig{VocabSize: 600, Added: added, BOS: "<|begin_of_text|>", EOS: "<|end_of_text|>"}
	tok := mustTrain(t, []string{benchProse(50 << 10)}, cfg)
	for s, want := range map[string]int{"!": 0, "a": 64, "Ġ": 220, "Ā": 188, "ÿ": 187} { // as in GPT-2's vocab.json
		if id, ok := tok.TokenID(s); !ok || id != want {
			t.Errorf("TokenID(%q) = %d, %v, want %d", s, id, ok, want)
		}
	}
	for id := range 255 {
		a, _ := tok.TokenString(id)
		b, _ := tok.TokenString(id + 1)
		ra, _ := utf8.DecodeRuneInString(a)
		rb, _ := utf8.DecodeRuneInString(b)
		if ra >= rb || utf8.RuneCountInString(a) != 1 {
			t.Fatalf("alphabet not sorted at id %d: %q, %q", id, a, b)
		}
	}
	if tok.VocabSize() != cfg.VocabSize {
		t.Errorf("VocabSize = %d, want %d", tok.VocabSize(), cfg.VocabSize)
	}
	if n := len(tok.model.vocab); n != cfg.VocabSize-len(added) || tok.model.numMerges != n-256 {
		t.Errorf("model vocab %d, merges %d", n, tok.model.numMerges)
	}
	for i, a := range added {
		id, ok := tok.TokenID(a)
		if !ok || id != cfg.VocabSize-len(added)+i || !tok.IsSpecial(id) {
			t.Errorf("added %q: id %d, %v, special %v", a, id, ok, tok.IsSpecial(id))
		}
	}
	bos, _ := tok.TokenID("<|begin_of_text|>")
	eos, _ := tok.TokenID("<|end_of_text|>")
	start, _ := tok.TokenID("<|im_start|>")
	ids := tok.EncodeSpecial("<|im_start|>the people")
	if len(ids) < 4 || ids[0] != bos || ids[1] != start || ids[len(ids)-1] != eos {
		t.Errorf("EncodeSpecial = %v", ids)
	}
	if s, err := tok.DecodeSkipSpecial(ids); err != nil || s != "the people" {
		t.Errorf("DecodeSkipSpecial = %q, %v", s, err)
	}

	for _, bad := range []TrainConfig{
		{VocabSize: 255},
		{VocabSize: 259, Added: added},
		{VocabSize: 300, Added: []string{"x", "x"}},
		{VocabSize: 300, Added: []string{""}},
		{VocabSize: 300, BOS: "<s>"},
		{VocabSize: 300, MinFrequency: -1},
		{VocabSize: 300, Pattern: `(?=x)`},
	} {
		if _, err := Train([]string{"text"}, bad); err == nil {
			t.Errorf("Train accepted %+v", bad)
		}
	}
	// An added token that is an alphabet character needs no id of its own.
	tok = mustTrain(t, []string{"abab"}, TrainConfig{VocabSize: 257, Added: []string{"!"}})
	if id, _ := tok.TokenID("!"); id != 0 || tok.VocabSize() != 257 {
		t.Errorf("added %q: id %d, VocabSize %d", "!", id, tok.VocabSize())
	}
}

// TestTrainPatterns trains with each known pattern and with a pattern Go's regexp runs, and
// checks that the words counted are the pieces the tokenizer's own pre-tokenizer makes.
func TestTrainPatterns(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	texts := []string{benchProse(30 << 10), "x\xff\xfe  \n\n y"}
	for i := range 300 {
		texts = append(texts, randomText(r, 1+i%25))
	}
	custom := `\p{L}+|\p{N}+|[^\p{L}\p{N}]+` // no scanner: the generic pre-tokenizer path
	for _, pattern := range []string{PatternLlama3, PatternQwen2, PatternGPT2, custom} {
		tok := mustTrain(t, texts, TrainConfig{VocabSize: 700, Pattern: pattern})
		words, err := trainCountWords(tok, texts)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{}
		var bufs pieceBufs
		for _, s := range texts {
			for _, p := range preTokenize(tok.pre, s, &bufs) {
				want[p.s]++
			}
		}
		if !reflect.DeepEqual(words, want) {
			t.Errorf("pattern %q: counted words differ from the pre-tokenizer's pieces", pattern)
		}
		if (trainScanner(tok) != nil) != (pattern != custom) {
			t.Errorf("pattern %q: scanner fast path %v", pattern, trainScanner(tok) != nil)
		}
		for _, s := range texts[1:50] {
			checkRoundTrip(t, tok, s)
		}
	}
}

// zipfProse generates about n bytes of text whose words follow a Zipf law over tens of
// thousands of pseudo-words, so that, like real text, it has many distinct rare words.
func zipfProse(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 7))
	syll := strings.Fields("ka to re mi sa an der ing the ous ver pre con tion al lo ne ri ta me se ur fa pho bi gen st")
	words := make([]string, 40000)
	for i := range words {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			b.WriteString(syll[r.IntN(len(syll))])
		}
		words[i] = b.String()
	}
	z := rand.NewZipf(r, 1.1, 2, uint64(len(words)-1))
	var b strings.Builder
	for b.Len() < n {
		w := words[z.Uint64()]
		switch x := r.IntN(100); {
		case x < 5:
			w = strings.ToUpper(w[:1]) + w[1:]
		case x < 7:
			w = fmt.Sprint(r.IntN(10000))
		}
		b.WriteString(w)
		switch x := r.IntN(100); {
		case x < 8:
			b.WriteString(". ")
		case x < 9:
			b.WriteString(",\n")
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func TestTrainDeterministic(t *testing.T) {
	lines := strings.SplitAfter(benchProse(100<<10)+zipfProse(100<<10, 1), "\n")
	cfg := TrainConfig{VocabSize: 1500, MinFrequency: 2, Added: []string{"<|end_of_text|>"}, EOS: "<|end_of_text|>"}
	a, err := mustTrain(t, lines, cfg).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := mustTrain(t, lines, cfg).MarshalJSON()
	shuffled := slices.Clone(lines)
	rand.New(rand.NewPCG(9, 9)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	c, _ := mustTrain(t, shuffled, cfg).MarshalJSON()
	if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
		t.Error("training is not deterministic (or depends on the order of the texts)")
	}
}

// TestTrainRoundTrip: the trained tokenizer encodes and decodes anything, including bytes it
// never saw and invalid UTF-8, and re-parses from its own MarshalJSON into one that encodes
// identically.
func TestTrainRoundTrip(t *testing.T) {
	cfg := TrainConfig{VocabSize: 1200, Added: []string{"<|begin_of_text|>", "<|im_start|>", "<|im_end|>"}, BOS: "<|begin_of_text|>"}
	tok := mustTrain(t, []string{benchProse(200 << 10), zipfProse(100<<10, 2)}, cfg)
	data, err := tok.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if data2, _ := again.MarshalJSON(); !bytes.Equal(data, data2) {
		t.Error("MarshalJSON is not stable")
	}
	if a, b := tok.Summary(), again.Summary(); !reflect.DeepEqual(a, b) {
		t.Errorf("Summary changed:\n%+v\n%+v", a, b)
	}
	r := rand.New(rand.NewPCG(4, 4))
	texts := []string{"\x00\x01\xff\xfe broken \xe2\x82", "日本語 😀 e\u0301", benchProse(2000), "<|im_start|>user\nhi<|im_end|>"}
	for i := range 2000 {
		texts = append(texts, randomText(r, 1+i%30))
	}
	for _, s := range texts {
		checkRoundTrip(t, tok, s)
		if a, b := tok.EncodeSpecial(s), again.EncodeSpecial(s); !slices.Equal(a, b) {
			t.Fatalf("EncodeSpecial(%q) = %v after the round trip, was %v", s, b, a)
		}
	}
}

// TestTrainCompression: encoding the training corpus takes far fewer tokens than bytes.
func TestTrainCompression(t *testing.T) {
	for _, c := range []struct {
		name   string
		text   string
		vocab  int
		minRat float64
	}{
		{"prose", benchProse(1 << 20), 2000, 4},
		{"zipf", zipfProse(1<<20, 3), 4000, 3},
	} {
		tok := mustTrain(t, []string{c.text}, TrainConfig{VocabSize: c.vocab})
		n := len(tok.Encode(c.text))
		ratio := float64(len(c.text)) / float64(n)
		t.Logf("%s: %d bytes -> %d tokens with %d-token vocabulary: %.2f bytes/token", c.name, len(c.text), n, c.vocab, ratio)
		if ratio < c.minRat {
			t.Errorf("%s: compression %.2f bytes/token, want at least %v", c.name, ratio, c.minRat)
		}
	}
}

// refTrain is the definition, slowly: before each merge count every adjacent pair in every
// word (weighted by the word's count), take the highest count (ties: the smallest pair of
// ids), merge it left to right everywhere.
func refTrain(words map[string]int64, room int, minFreq int64) ([]trainMerge, []string) {
	alphabet, byteID := trainAlphabet()
	tokens := slices.Clone(alphabet)
	ids := map[string]int32{}
	for i, s := range tokens {
		ids[s] = int32(i)
	}
	type word struct {
		syms  []int32
		count int64
	}
	var ws []word
	for s, c := range words {
		w := word{count: c}
		for i := 0; i < len(s); i++ {
			w.syms = append(w.syms, byteID[s[i]])
		}
		ws = append(ws, w)
	}
	var merges []trainMerge
	for grown := 0; grown < room; {
		counts := map[[2]int32]int64{}
		for _, w := range ws {
			for i := 0; i+1 < len(w.syms); i++ {
				counts[[2]int32{w.syms[i], w.syms[i+1]}] += w.count
			}
		}
		best, bestCount := [2]int32{}, int64(0)
		for p, c := range counts {
			if c > bestCount || (c == bestCount && (p[0] < best[0] || (p[0] == best[0] && p[1] < best[1]))) {
				best, bestCount = p, c
			}
		}
		if bestCount < 1 || bestCount < minFreq {
			break
		}
		s := tokens[best[0]] + tokens[best[1]]
		z, ok := ids[s]
		if !ok {
			z = int32(len(tokens))
			tokens = append(tokens, s)
			ids[s] = z
			grown++
		}
		merges = append(merges, trainMerge{best[0], best[1], z, bestCount})
		for k := range ws {
			out := ws[k].syms[:0]
			syms := ws[k].syms
			for i := 0; i < len(syms); i++ {
				if i+1 < len(syms) && syms[i] == best[0] && syms[i+1] == best[1] {
					out = append(out, z)
					i++
				} else {
					out = append(out, syms[i])
				}
			}
			ws[k].syms = out
		}
	}
	return merges, tokens
}

// TestTrainMatchesReference checks the incremental trainer against refTrain, merge by merge
// (pair, new id and count), on small random corpora with few distinct characters: many ties,
// runs like "aaa" whose occurrences overlap, and long merge chains.
func TestTrainMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	base, err := New(tinyVocab(nil), nil, nil, Options{Pattern: PatternLlama3})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for iter := range 300 {
		chars := []rune([]string{"ab", "abc", "ab c", "abcde .", "aé中"}[iter%5])
		var texts []string
		for range 1 + r.IntN(30) {
			var b strings.Builder
			for range 1 + r.IntN(12) {
				b.WriteRune(chars[r.IntN(len(chars))])
			}
			texts = append(texts, b.String())
		}
		words, err := trainCountWords(base, texts)
		if err != nil {
			t.Fatal(err)
		}
		room, minFreq := 5+r.IntN(60), int64(r.IntN(3))
		alphabet, byteID := trainAlphabet()
		tr := newBPETrainer(words, alphabet, byteID)
		tr.train(room, minFreq, nil)
		want, tokens := refTrain(words, room, minFreq)
		if !slices.Equal(tr.merges, want) {
			t.Fatalf("corpus %q (room %d, min %d):\n got %v\nwant %v", texts, room, minFreq, tr.merges, want)
		}
		checked += len(want)
		// End to end: Train learns the same merges.
		tok := mustTrain(t, texts, TrainConfig{VocabSize: 256 + room, MinFrequency: int(minFreq)})
		got := tok.model.mergeList()
		if len(got) != len(want) {
			t.Fatalf("Train learned %d merges, want %d", len(got), len(want))
		}
		for i, m := range want {
			if got[i] != [2]string{tokens[m.a], tokens[m.b]} {
				t.Fatalf("Train merge %d = %q, want %q %q", i, got[i], tokens[m.a], tokens[m.b])
			}
		}
	}
	t.Logf("%d merges checked", checked)
}

// BenchmarkTrain trains a 4,000-token vocabulary on about 2 MB of generated text.
// go test -run=XXX -bench=Train ./models/tokenizer/
func BenchmarkTrain(b *testing.B) {
	text := benchProse(1<<20) + zipfProse(1<<20, 5)
	lines := strings.SplitAfter(text, "\n")
	cfg := TrainConfig{VocabSize: 4000, Added: []string{"<|begin_of_text|>", "<|end_of_text|>"}, BOS: "<|begin_of_text|>"}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := Train(lines, cfg); err != nil {
			b.Fatal(err)
		}
	}
}
