package knowledge

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The reference builds its sequences and grades its answers with Python string methods,
// which know more whitespace and more line breaks than Go's strings package. These helpers
// reproduce them so that a self-edit is cut exactly where the reference cuts it.

// pyIsSpace is Python's str.isspace (also str.strip, str.split and re's \s): Go's
// unicode.IsSpace plus the information separators U+001C..U+001F, which Python counts
// as whitespace (bidi classes B and S) and Go does not.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pyStrip is Python's str.strip() with no argument.
func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

// pyLStrip is Python's str.lstrip() with no argument.
func pyLStrip(s string) string { return strings.TrimLeftFunc(s, pyIsSpace) }

// pyFields is Python's str.split() with no argument.
func pyFields(s string) []string { return strings.FieldsFunc(s, pyIsSpace) }

// isLineBreak reports the line boundaries of Python's str.splitlines. "\r\n" is one
// boundary; splitLines handles that pair.
func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// pySplitLines is Python's str.splitlines() (keepends=False): no trailing empty line,
// and "" gives no lines at all.
func pySplitLines(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isLineBreak(r) {
			i += size
			continue
		}
		lines = append(lines, s[start:i])
		i += size
		if r == '\r' && i < len(s) && s[i] == '\n' {
			i++
		}
		start = i
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// isWordRune is re's \w for str patterns (letters, numbers, underscore): Python's \b,
// and so the article and yes/no word tests, depend on it. Combining marks are not word
// characters in Python either.
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// wordRuns calls f with every maximal run of word characters in s, with its byte span.
func wordRuns(s string, f func(word string, start, end int)) {
	start := -1
	for i, r := range s {
		w := isWordRune(r) // U+FFFD (also what a bad byte decodes to) is a symbol, not a word rune
		switch {
		case w && start < 0:
			start = i
		case !w && start >= 0:
			f(s[start:i], start, i)
			start = -1
		}
	}
	if start >= 0 {
		f(s[start:], start, len(s))
	}
}
