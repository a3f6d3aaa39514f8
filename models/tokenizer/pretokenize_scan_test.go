package tokenizer

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// refSplitter is an independent implementation of a known pattern: Go's regexp (after the
// Unicode rewriting of \s) runs every alternative except the lookahead ones, anchored at
// each position, and `\s+(?!\S)|\s+` is applied by hand when none matches.
type refSplitter struct {
	re *regexp.Regexp
}

func newRefSplitter(t testing.TB, head string) refSplitter {
	tr, err := translateRegex(`^(?:` + head + `)`)
	if err != nil {
		t.Fatal(err)
	}
	return refSplitter{regexp.MustCompile(tr)}
}

var (
	refLlama3     = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+`
	refQwen2      = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+`
	refLlama3Bare = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+`
	refQwen2Bare  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+`
	refGPT2       = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+`
)

func (r refSplitter) split(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		if loc := r.re.FindStringIndex(s[i:]); loc != nil && loc[1] > 0 {
			out = append(out, s[i:i+loc[1]])
			i += loc[1]
			continue
		}
		// Whitespace here: the run, minus its last character unless it ends the text.
		var starts []int
		j := i
		for j < len(s) {
			c, n := utf8.DecodeRuneInString(s[j:])
			if !unicode.IsSpace(c) || (c == utf8.RuneError && n == 1) {
				break
			}
			starts = append(starts, j)
			j += n
		}
		if j == i {
			panic("reference: no alternative matched at " + s[i:])
		}
		if j < len(s) && len(starts) > 1 {
			j = starts[len(starts)-1]
		}
		out = append(out, s[i:j])
		i = j
	}
	return out
}

func scanAll(scan scanner, s string) []string {
	var out []string
	for i := 0; i < len(s); {
		e := scan(s, i)
		out = append(out, s[i:e])
		i = e
	}
	return out
}

// splitAlphabet covers each class the patterns distinguish and the usual traps: Unicode
// spaces (NBSP, NEL, ideographic), CR/LF, long s (folds to s), apostrophes, numbers of the
// three N categories, combining marks, joiners, emoji and an invalid byte.
var splitAlphabet = []string{
	"a", "Z", "é", "中", "ſ", "s", "S", "t", "T", "r", "R", "e", "E", "v", "V", "m", "M", "l", "L", "d", "D",
	"0", "7", "٣", "Ⅻ", "½", " ", " ", " ", "\t", "\n", "\r", "\v", "\f", "\u00a0", "\u2003", "\u3000",
	"\u0085", "\u2028", "'", "'", "’", ".", ",", "!", "-", "\"", "\u0301", "\u200d", "\u200b", "😀", "\xff",
}

func randomSplitText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(splitAlphabet[r.IntN(len(splitAlphabet))])
	}
	return b.String()
}

func TestScannersMatchReference(t *testing.T) {
	cases := []struct {
		pattern, ref string
	}{{PatternLlama3, refLlama3}, {PatternQwen2, refQwen2}, {PatternLlama3Bare, refLlama3Bare}, {PatternQwen2Bare, refQwen2Bare}, {PatternGPT2, refGPT2}}
	r := rand.New(rand.NewPCG(7, 7))
	for _, c := range cases {
		scan, name, ok := knownScanner(c.pattern)
		if !ok {
			t.Fatal("pattern not recognised")
		}
		ref := newRefSplitter(t, c.ref)
		t.Run(name, func(t *testing.T) {
			for i := range 20000 {
				s := randomSplitText(r, 1+i%24)
				if got, want := scanAll(scan, s), ref.split(s); !slices.Equal(got, want) {
					t.Fatalf("split(%q)\n got %q\nwant %q", s, got, want)
				}
			}
		})
	}
}

// TestScannerExamples pins behaviour that the reference shares, so a slip in both shows.
func TestScannerExamples(t *testing.T) {
	llama, _, _ := knownScanner(PatternLlama3)
	qwen, _, _ := knownScanner(PatternQwen2)
	bare, _, _ := knownScanner(PatternLlama3Bare)
	for _, c := range []struct {
		scan scanner
		in   string
		want []string
	}{
		{llama, "Hello, world!", []string{"Hello", ",", " world", "!"}},
		{llama, "  leading and trailing spaces  ", []string{" ", " leading", " and", " trailing", " spaces", "  "}},
		{llama, "1234567890", []string{"123", "456", "789", "0"}},
		{qwen, "2015", []string{"2", "0", "1", "5"}},
		{llama, "I'm DON'T 'S 'ſ x'Ll", []string{"I", "'m", " DON", "'T", " '", "S", " '", "ſ", " x", "'Ll"}},
		{llama, "Tabs\tand\nnewlines\n\n\nmultiple", []string{"Tabs", "\tand", "\n", "newlines", "\n\n\n", "multiple"}},
		{llama, "x**2  # y", []string{"x", "**", "2", " ", " #", " y"}},
		{llama, "a \n\t b", []string{"a", " \n", "\t", " b"}},
		{llama, "end.\r\n", []string{"end", ".\r\n"}},
		{llama, "a\u00a0b", []string{"a", "\u00a0b"}},
		{bare, "Answer:\nAnbelby", []string{"Answer", ":\n", "Anbelby"}},
		{bare, "took place in Anbelby in 1867.", []string{"took", " ", "place", " ", "in", " ", "Anbelby", " ", "in", " ", "186", "7", "."}},
		{bare, "  x's (y)", []string{" ", " ", "x", "'s", " (", "y", ")"}},
		{scanGPT2, "Hello  world 2015's", []string{"Hello", " ", " world", " 2015", "'s"}},
		{scanGPT2, "I'M", []string{"I", "'", "M"}},
	} {
		if got := scanAll(c.scan, c.in); !slices.Equal(got, c.want) {
			t.Errorf("split(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func FuzzScanners(f *testing.F) {
	f.Add("Hello, world! It's 2024.\n\n  Done  ")
	f.Add("'S 'ſ\u00a0x\r\n\t ")
	llamaRef, qwenRef, gptRef := newRefSplitter(f, refLlama3), newRefSplitter(f, refQwen2), newRefSplitter(f, refGPT2)
	llamaBareRef, qwenBareRef := newRefSplitter(f, refLlama3Bare), newRefSplitter(f, refQwen2Bare)
	llama, _, _ := knownScanner(PatternLlama3)
	qwen, _, _ := knownScanner(PatternQwen2)
	llamaBare, _, _ := knownScanner(PatternLlama3Bare)
	qwenBare, _, _ := knownScanner(PatternQwen2Bare)
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []struct {
			scan scanner
			ref  refSplitter
		}{{llama, llamaRef}, {qwen, qwenRef}, {llamaBare, llamaBareRef}, {qwenBare, qwenBareRef}, {scanGPT2, gptRef}} {
			if got, want := scanAll(c.scan, s), c.ref.split(s); !slices.Equal(got, want) {
				t.Fatalf("split(%q)\n got %q\nwant %q", s, got, want)
			}
		}
	})
}
