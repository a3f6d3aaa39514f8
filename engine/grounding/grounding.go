// Package grounding marks which words of a knowledge self-edit appear in the passage it was
// written from: a reading aid for the person reviewing the edit, not a verdict on it. A line
// whose every content word is found is grounded, one with none found is new, and the rest
// are partly grounded.
//
// The matching rules, each tested in grounding_test.go:
//
//   - A line's leading list number ("1.", "2)", "(3)": one to three digits) is layout, not a
//     word: the model's edits are numbered lists, and the numbers state nothing.
//   - Words are the line's whitespace-separated tokens with leading and trailing punctuation
//     trimmed; a token of punctuation alone is no word. A token splits into parts at
//     hyphens and other inner punctuation ("Dorbra-Tonor" is dorbra + tonor), except a
//     number such as "1,850" or "3.5", which stays whole.
//   - Case is ignored, and so are possessives and apostrophes: "Tonor's" and "Tonors'" are
//     tonor, "O'Brien" is obrien.
//   - A word is found when each of its parts is found in the passage, so a name split
//     across tokens or hyphens is found when each part is. A hyphenated word is also found
//     when its parts written together are ("Dorbra-Tonor" and "DorbraTonor").
//   - Numbers written as words match digits and back: "four" is 4, "twenty-one" and
//     "twenty one" are 21, "three hundred and five" is 305, "one thousand eight hundred
//     fifty" is 1850 (up to 999,999). Digits lose thousands commas and leading zeros.
//   - A light stemmer joins simple inflections: a plural -s or -es ("cities" is city,
//     "boxes" is box), -ed and -ing ("lasted", "lasting" are last); then a final e is
//     dropped and a final doubled letter undoubled, so "baked", "bakes" and "bake" meet, as
//     do "stopped" and "stop". It is applied to passage and edit alike.
//   - Stop words, a fixed English list of determiners, pronouns, auxiliaries, prepositions
//     and conjunctions (stopWords), are never content, nor is a single letter. Every other
//     word is content: names, numbers and content words.
//
// Numbers and hyphenated words are read within one line, in the passage as in the edit,
// so a passage is always fully grounded in itself: Share(p, p) is 1.
package grounding

import (
	"strconv"
	"strings"
	"unicode"
)

// Status is how much of a line the passage supports.
type Status int

const (
	Grounded Status = iota // every content word found (or the line has none)
	Partial                // some content words found, some not
	New                    // no content word found
)

func (s Status) String() string {
	switch s {
	case Grounded:
		return "grounded"
	case Partial:
		return "partly grounded"
	case New:
		return "new"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Word is one word of a self-edit line.
type Word struct {
	Text    string // the word as written in the line, leading and trailing punctuation trimmed
	Content bool   // a name, number or content word (not a stop word)
	Fact    bool   // a name (a capitalised content word) or a number (in digits or words)
	Found   bool   // it appears in the passage under the matching rules
}

// Line is one non-empty line of a self-edit, its words and its status.
type Line struct {
	Text   string // the line, surrounding space trimmed
	Words  []Word
	Status Status
}

// Lines marks each non-empty line of edit against passage.
func Lines(passage, edit string) []Line {
	known := vocabulary(passage)
	var out []Line
	for _, text := range splitLines(edit) {
		out = append(out, markLine(text, known))
	}
	return out
}

// Share is the fraction of the edit's content words found in the passage: 1 when the edit
// has no content words.
func Share(passage, edit string) float64 { return ShareOf(Lines(passage, edit)) }

// FactShare is the fraction of the edit's lines whose names and numbers (Word.Fact) all
// appear in the passage: the facts a reader can check, where Share also weighs the other
// words. A line that states no name or number counts as grounded; an edit with no lines
// is 1.
func FactShare(passage, edit string) float64 { return FactShareOf(Lines(passage, edit)) }

// FactShareOf is FactShare of lines Lines already made.
func FactShareOf(lines []Line) float64 {
	if len(lines) == 0 {
		return 1
	}
	grounded := 0
	for _, l := range lines {
		if l.FactsFound() {
			grounded++
		}
	}
	return float64(grounded) / float64(len(lines))
}

// FactsFound says whether every name and number of the line appears in the passage.
func (l Line) FactsFound() bool {
	for _, w := range l.Words {
		if w.Fact && !w.Found {
			return false
		}
	}
	return true
}

// ShareOf is Share of lines Lines already made, for a caller that shows them too.
func ShareOf(lines []Line) float64 {
	content, found := 0, 0
	for _, l := range lines {
		for _, w := range l.Words {
			if w.Content {
				content++
				if w.Found {
					found++
				}
			}
		}
	}
	if content == 0 {
		return 1
	}
	return float64(found) / float64(content)
}

// splitLines returns the non-empty lines of s, trimmed.
func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// vocabulary is every key the passage contains, read line by line as an edit is.
func vocabulary(passage string) map[string]bool {
	known := map[string]bool{}
	for _, l := range splitLines(passage) {
		for _, t := range readLine(l) {
			for _, p := range t.parts {
				known[p.key] = true
			}
			if t.joined != "" {
				known[t.joined] = true
			}
		}
	}
	return known
}

// markLine marks one edit line's words against the passage's keys.
func markLine(text string, known map[string]bool) Line {
	line := Line{Text: text}
	content, found := 0, 0
	for _, t := range readLine(text) {
		w := Word{Text: t.text, Found: true}
		for _, p := range t.parts {
			w.Content = w.Content || p.content
			w.Fact = w.Fact || p.content && isNumberKey(p.key)
			w.Found = w.Found && known[p.key]
		}
		w.Fact = w.Fact || w.Content && startsUpper(t.text)
		if !w.Found && t.joined != "" && known[t.joined] {
			w.Found = true
		}
		if w.Content {
			content++
			if w.Found {
				found++
			}
		}
		line.Words = append(line.Words, w)
	}
	switch {
	case found == content:
		line.Status = Grounded
	case found == 0:
		line.Status = New
	default:
		line.Status = Partial
	}
	return line
}

// token is one word of a line as the matcher reads it.
type token struct {
	text   string // as written, punctuation trimmed
	parts  []part
	joined string // a hyphenated word's parts written together ("dorbratonor"); "" otherwise
}

// part is one piece of a token with the key it matches by.
type part struct {
	norm    string // lower case, apostrophes and possessive removed
	key     string // stemmed word, or a number's digits
	content bool
}

// readLine splits a line into tokens and gives each part its key; numbers written as
// words are read across parts and tokens here, which is why keys need the whole line.
func readLine(line string) []token {
	var toks []token
	for i, f := range strings.Fields(line) {
		if i == 0 && isListMarker(f) {
			continue // "1." or "2)" numbers a list: layout, not a fact the passage must state
		}
		text := strings.TrimFunc(f, isPunct)
		if text == "" {
			continue
		}
		t := token{text: text}
		for _, n := range splitParts(text) {
			t.parts = append(t.parts, part{norm: n})
		}
		if len(t.parts) == 0 {
			continue // only apostrophes: nothing to match
		}
		toks = append(toks, t)
	}
	readNumbers(toks)
	for i := range toks {
		t := &toks[i]
		for j := range t.parts {
			p := &t.parts[j]
			if p.key == "" {
				p.key = stem(p.norm)
			}
			p.content = !stopWords[p.norm] && !isSingleLetter(p.norm)
		}
		if len(t.parts) > 1 {
			t.joined = stem(strings.Join(norms(t.parts), ""))
		}
	}
	return toks
}

// isListMarker is a list item's number as edits write it: one to three digits closed by
// "." or ")", optionally opened by "(". A year ("1867.") has four digits and stays a word.
func isListMarker(f string) bool {
	f = strings.TrimPrefix(f, "(")
	if len(f) < 2 || (f[len(f)-1] != '.' && f[len(f)-1] != ')') {
		return false
	}
	n := f[:len(f)-1]
	return len(n) <= 3 && allDigits(n)
}

func norms(ps []part) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.norm
	}
	return out
}

func isPunct(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

func isApostrophe(r rune) bool { return r == '\'' || r == '’' || r == '‘' }

func isSingleLetter(s string) bool {
	rs := []rune(s)
	return len(rs) == 1 && unicode.IsLetter(rs[0])
}

// splitParts lowers a trimmed token and splits it at inner punctuation, keeping a written
// number ("1,850", "3.5") whole and removing possessives and apostrophes.
func splitParts(text string) []string {
	lower := strings.ToLower(text)
	if n, ok := digits(lower); ok {
		return []string{n}
	}
	var out []string
	for _, p := range strings.FieldsFunc(lower, func(r rune) bool { return isPunct(r) && !isApostrophe(r) }) {
		p = strings.TrimFunc(p, isApostrophe)
		for _, suffix := range []string{"'s", "’s"} {
			p = strings.TrimSuffix(p, suffix)
		}
		p = strings.Map(func(r rune) rune {
			if isApostrophe(r) {
				return -1
			}
			return r
		}, p)
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// digits reads a number written in digits with optional thousands commas and decimals,
// and returns it without commas or leading zeros.
func digits(s string) (string, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return "", false
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	intPart = strings.ReplaceAll(intPart, ",", "")
	if intPart == "" || !allDigits(intPart) || (hasFrac && (frac == "" || !allDigits(frac))) {
		return "", false
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	if hasFrac {
		return intPart + "." + frac, true
	}
	return intPart, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isNumberKey says whether a part's key is a number: digits, with at most one decimal point.
func isNumberKey(k string) bool {
	i := strings.IndexByte(k, '.')
	if i >= 0 {
		return i > 0 && allDigits(k[:i]) && i+1 < len(k) && allDigits(k[i+1:])
	}
	return k != "" && allDigits(k)
}

// startsUpper says whether s begins with an upper-case letter, as names are written.
func startsUpper(s string) bool {
	for _, r := range s {
		return unicode.IsUpper(r)
	}
	return false
}
