package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// The split patterns real byte-level tokenizers use, recognised by their exact text and run by
// hand-written scanners: Go's regexp has no lookahead for `\s+(?!\S)`, and a scanner is much
// faster than a regexp engine in the encode hot path.
const (
	// PatternLlama3 is the Llama 3 (tiktoken cl100k) split pattern.
	PatternLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// PatternQwen2 is the Qwen2/2.5/3 pattern: PatternLlama3 with single digits.
	PatternQwen2 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// PatternLlama3Bare and PatternQwen2Bare are those patterns with bare words: a letter run
	// never takes the space or mark before it, so a word is the same tokens at the start of
	// a line as inside a sentence (as a number already is). A small model trained on a
	// passage then learns the very tokens a question's answer starts with.
	PatternLlama3Bare = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	PatternQwen2Bare  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// PatternGPT2 is the pattern HF's ByteLevel pre-tokenizer uses when use_regex is true.
	PatternGPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
)

// A scanner returns the end of the pattern's match that starts at i (< len(s)). The known
// patterns match at every position (each character is a letter, number, whitespace or
// "other", and each class has an alternative), so matches tile the input with no gaps.
type scanner func(s string, i int) int

// knownScanner returns the scanner for one of the known patterns and how Summary names it.
func knownScanner(pattern string) (scanner, string, bool) {
	switch pattern {
	case PatternLlama3:
		return func(s string, i int) int { return scanCL100K(s, i, 3, false) }, "llama3 pattern", true
	case PatternQwen2:
		return func(s string, i int) int { return scanCL100K(s, i, 1, false) }, "qwen2 pattern", true
	case PatternLlama3Bare:
		return func(s string, i int) int { return scanCL100K(s, i, 3, true) }, "llama3 bare-words pattern", true
	case PatternQwen2Bare:
		return func(s string, i int) int { return scanCL100K(s, i, 1, true) }, "qwen2 bare-words pattern", true
	case PatternGPT2:
		return scanGPT2, "gpt2 pattern", true
	}
	return nil, "", false
}

// KnownPatternName is how Summary names a known split pattern ("llama3 pattern"), so a
// caller can tell which one a loaded tokenizer runs; "" for any other pattern.
func KnownPatternName(pattern string) string {
	_, name, _ := knownScanner(pattern)
	return name
}

// Character classes as the onig engine HF uses sees them: \p{L}, \p{N} are Unicode general
// categories, \s is Unicode White_Space (the same set as Go's unicode.IsSpace).
const (
	clsOther   = 0
	clsLetter  = 1
	clsNumber  = 2
	clsSpace   = 4
	clsNewline = 8 // \r or \n; always together with clsSpace
)

var asciiClass = func() (t [128]uint8) {
	for c := 0; c < 128; c++ {
		t[c] = runeClass(rune(c))
	}
	return t
}()

func runeClass(r rune) uint8 {
	switch {
	case r == '\r' || r == '\n':
		return clsSpace | clsNewline
	case unicode.IsLetter(r):
		return clsLetter
	case unicode.IsNumber(r):
		return clsNumber
	case unicode.IsSpace(r):
		return clsSpace
	}
	return clsOther
}

// classAt classifies the character at s[i]. A byte that is not valid UTF-8 counts as one
// "other" character, so arbitrary Go strings scan without panics.
func classAt(s string, i int) (uint8, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n == 1 {
		return clsOther, 1
	}
	return runeClass(r), n
}

// runOf returns the end of the run of characters of class cls starting at i.
func runOf(s string, i int, cls uint8) int {
	for i < len(s) {
		c, n := classAt(s, i)
		if c != cls {
			break
		}
		i += n
	}
	return i
}

// contraction matches the contraction suffix after an apostrophe at s[i:] (s, t, re, ve, m,
// ll, d) and returns its end, or -1. With fold, letters match case-insensitively under
// Unicode simple case folding, which adds U+017F LATIN SMALL LETTER LONG S for "s".
func contraction(s string, i int, fold bool) int {
	at := func(j int, want byte) bool {
		if j >= len(s) {
			return false
		}
		c := s[j]
		return c == want || (fold && c == want-'a'+'A')
	}
	switch {
	case at(i, 's') || at(i, 't') || at(i, 'm') || at(i, 'd'):
		return i + 1
	case fold && i+1 < len(s) && s[i] == 0xC5 && s[i+1] == 0xBF: // ſ folds to s
		return i + 2
	case (at(i, 'r') || at(i, 'v')) && at(i+1, 'e'):
		return i + 2
	case at(i, 'l') && at(i+1, 'l'):
		return i + 2
	}
	return -1
}

// whitespaceTail applies the alternatives shared by both patterns to the whitespace run at i:
// `\s+(?!\S)` (the whole run at the end of the input, else all of it but its last character,
// which then prefixes the next word) and finally `\s+`. crlf also applies `\s*[\r\n]+`, which
// ends just after the run's last CR or LF.
func whitespaceTail(s string, i int, crlf bool) int {
	end, last, lastNL := i, i, -1
	for end < len(s) {
		c, n := classAt(s, end)
		if c&clsSpace == 0 {
			break
		}
		if c&clsNewline != 0 {
			lastNL = end
		}
		last = end
		end += n
	}
	switch {
	case crlf && lastNL >= 0:
		return lastNL + 1
	case end == len(s):
		return end
	case last > i:
		return last
	}
	return end
}

// scanCL100K implements PatternLlama3 (maxDigits 3) and PatternQwen2 (maxDigits 1), and
// with bare their bare-words forms (`\p{L}+` for `[^\r\n\p{L}\p{N}]?\p{L}+`).
func scanCL100K(s string, i int, maxDigits int, bare bool) int {
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if s[i] == '\'' {
		if e := contraction(s, i+1, true); e > 0 {
			return e
		}
	}
	c, n := classAt(s, i)
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c == clsLetter {
		return runOf(s, i+n, clsLetter)
	}
	if (c == clsOther || c == clsSpace) && !bare {
		if j := i + n; j < len(s) {
			if c2, n2 := classAt(s, j); c2 == clsLetter {
				return runOf(s, j+n2, clsLetter)
			}
		}
	}
	// \p{N}{1,maxDigits}
	if c == clsNumber {
		j := i + n
		for k := 1; k < maxDigits && j < len(s); k++ {
			c2, n2 := classAt(s, j)
			if c2 != clsNumber {
				break
			}
			j += n2
		}
		return j
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	j := -1
	if c == clsOther {
		j = i + n
	} else if s[i] == ' ' && i+1 < len(s) {
		if c2, n2 := classAt(s, i+1); c2 == clsOther {
			j = i + 1 + n2
		}
	}
	if j >= 0 {
		j = runOf(s, j, clsOther)
		for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
			j++
		}
		return j
	}
	// \s*[\r\n]+ | \s+(?!\S) | \s+
	return whitespaceTail(s, i, true)
}

// scanGPT2 implements PatternGPT2 (case-sensitive contractions, unbounded digit runs).
func scanGPT2(s string, i int) int {
	if s[i] == '\'' {
		if e := contraction(s, i+1, false); e > 0 {
			return e
		}
	}
	// ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space then a run of one class.
	p := i
	if s[i] == ' ' && i+1 < len(s) {
		p = i + 1
	}
	c, n := classAt(s, p)
	if c == clsLetter || c == clsNumber || c == clsOther {
		return runOf(s, p+n, c)
	}
	// \s+(?!\S) | \s+
	return whitespaceTail(s, i, false)
}
