package tokenizer

import (
	"fmt"
	"regexp"
	"strings"
)

// Character sets that onig (HF's regex engine) gives \s and \w on UTF-8 text. Go's own \s and
// \w are ASCII-only, so they are rewritten before compiling.
const (
	uniSpaceSet = `\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`
	uniWordSet  = `\p{L}\p{M}\p{Nd}\p{Pc}`
)

// compileSplitRegex compiles a Split pattern that is not one of the known ones with Go's
// regexp, after giving \s, \S, \d, \D, \w, \W their Unicode meaning. Go's leftmost-first
// alternation and greedy repetition agree with onig for patterns without lookaround,
// backreferences or possessive forms; those fail here with an error instead of silently
// splitting differently.
func compileSplitRegex(pattern string) (*regexp.Regexp, error) {
	tr, err := translateRegex(pattern)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(tr)
	if err != nil {
		return nil, fmt.Errorf("split pattern %q is not supported by Go's regexp: %v", pattern, err)
	}
	return re, nil
}

func translateRegex(p string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return "", fmt.Errorf("split pattern %q ends with a lone backslash", p)
			}
			i++
			e := p[i]
			switch {
			case e == 's' || e == 'w':
				set := uniSpaceSet
				if e == 'w' {
					set = uniWordSet
				}
				if inClass {
					b.WriteString(set)
				} else {
					b.WriteString("[" + set + "]")
				}
			case e == 'S' || e == 'W':
				if inClass {
					return "", fmt.Errorf("split pattern %q: \\%c inside a character class is not supported", p, e)
				}
				set := uniSpaceSet
				if e == 'W' {
					set = uniWordSet
				}
				b.WriteString("[^" + set + "]")
			case e == 'd':
				b.WriteString(`\p{Nd}`)
			case e == 'D':
				b.WriteString(`\P{Nd}`)
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' { // a leading ] is a literal
				b.WriteByte(']')
				i++
			}
		case c == '[' && inClass:
			if i+1 < len(p) && p[i+1] == ':' { // POSIX class such as [:alpha:]
				end := strings.Index(p[i:], ":]")
				if end < 0 {
					return "", fmt.Errorf("split pattern %q: unterminated POSIX class", p)
				}
				b.WriteString(p[i : i+end+2])
				i += end + 1
				continue
			}
			return "", fmt.Errorf("split pattern %q: nested character classes are not supported", p)
		case c == ']' && inClass:
			inClass = false
			b.WriteByte(c)
		case c == '(' && !inClass && (strings.HasPrefix(p[i:], "(?=") || strings.HasPrefix(p[i:], "(?!") ||
			strings.HasPrefix(p[i:], "(?<=") || strings.HasPrefix(p[i:], "(?<!")):
			return "", fmt.Errorf("split pattern %q uses lookaround, which only the known Llama 3, Qwen2 and GPT-2 patterns support", p)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
