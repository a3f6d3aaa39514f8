package knowledge

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// TrainSequences turns one self-edit into the inner loop's training sequences, as the
// reference's build_train_sequences does (docs/seal-method.md §1.4). Whitespace and line breaks
// are Python's (see pytext.go): "\u2028" ends a line and "\u00a0" is trimmed, as there.
//
// The edit is first cut on the literal "---" into trimmed non-empty segments; with none,
// the single segment is the trimmed edit (possibly ""). Without splitNewlines (CPT) each
// segment is one sequence. With splitNewlines (single-passage and continual runs):
//
//   - A self-QA edit (it contains `Question\s+\d+:` and `Answer\s*:` anywhere) is cut
//     instead, whole and ignoring "---", at each "\n" immediately followed by
//     `Question\s+\d+:`. The pieces are not trimmed. A first piece that does not start
//     with "Question" (the primed self-qa prompt already wrote "Question 1: ") becomes
//     "Question 1: " + the trimmed piece.
//   - Otherwise every non-empty trimmed line of every segment is a sequence, and when the
//     second line starts with "1." the first is dropped as a preamble ("Sure, here is a
//     list:"). Only the second line is read: "1. a" then "2. b" keeps both, while "1. a"
//     then "1. b" loses the first.
//
// Every sequence is prefixed with the title line, and title + "\n" + trimmed passage is
// always appended last: the passage itself is always trained on. So an empty edit gives
// only title+passage when splitting, and a title-only sequence ("title\n") plus
// title+passage when not, as the reference's CPT naive run has.
func TrainSequences(edit string, p Passage, splitNewlines bool) []string {
	segs := dashSegments(edit)
	if splitNewlines {
		if isSelfQA(edit) {
			segs = selfQAPieces(edit)
		} else {
			segs = nonEmptyLines(segs)
			if len(segs) > 1 && strings.HasPrefix(segs[1], "1.") {
				segs = segs[1:]
			}
		}
	}
	prefix := p.Title + "\n"
	out := make([]string, 0, len(segs)+1)
	for _, s := range segs {
		out = append(out, prefix+s)
	}
	return append(out, prefix+pyStrip(p.Context))
}

// RepeatedPassage is the passage-only update made n times over: n copies of the
// sequence TrainSequences always appends (title line + trimmed passage). It is the
// step-matched baseline, which takes as many optimizer steps as the self-edits it is
// compared with, so that their gain over it is not more gradient steps alone.
func RepeatedPassage(p Passage, n int) []string {
	out := make([]string, max(n, 1))
	for i := range out {
		out[i] = p.Title + "\n" + pyStrip(p.Context)
	}
	return out
}

// PassageSequences builds the sequences of several self-edits about one passage, the
// passage once per edit (CPT repeats it 5 times for 5 edits, §1.11). No edits means one
// empty edit: the passage-only baseline.
func PassageSequences(edits []string, p Passage, splitNewlines bool) []string {
	if len(edits) == 0 {
		edits = []string{""}
	}
	var out []string
	for _, e := range edits {
		out = append(out, TrainSequences(e, p, splitNewlines)...)
	}
	return out
}

func dashSegments(edit string) []string {
	var segs []string
	for _, part := range strings.Split(edit, "---") {
		if t := pyStrip(part); t != "" {
			segs = append(segs, t)
		}
	}
	if len(segs) == 0 {
		return []string{pyStrip(edit)}
	}
	return segs
}

func nonEmptyLines(segs []string) []string {
	var lines []string
	for _, s := range segs {
		for _, l := range pySplitLines(s) {
			if t := pyStrip(l); t != "" {
				lines = append(lines, t)
			}
		}
	}
	return lines
}

// isSelfQA is the reference's test for a question/answer edit: re.search of
// `Question\s+\d+:` and of `Answer\s*:` (Python's Unicode \s and \d).
func isSelfQA(edit string) bool {
	return containsMatch(edit, "Question", questionNumberAt) && containsMatch(edit, "Answer", answerColonAt)
}

// containsMatch looks for lit at every position and asks match whether the pattern
// continues there.
func containsMatch(s, lit string, match func(s string, i int) bool) bool {
	for off := 0; ; {
		j := strings.Index(s[off:], lit)
		if j < 0 {
			return false
		}
		if match(s, off+j) {
			return true
		}
		off += j + 1
	}
}

// questionNumberAt reports whether `Question\s+\d+:` matches at byte i of s.
func questionNumberAt(s string, i int) bool {
	if !strings.HasPrefix(s[i:], "Question") {
		return false
	}
	i += len("Question")
	i, n := skipRunes(s, i, pyIsSpace)
	if n == 0 {
		return false
	}
	i, n = skipRunes(s, i, unicode.IsDigit) // Python's \d is any Unicode decimal digit (Nd)
	return n > 0 && strings.HasPrefix(s[i:], ":")
}

// answerColonAt reports whether `Answer\s*:` matches at byte i of s.
func answerColonAt(s string, i int) bool {
	if !strings.HasPrefix(s[i:], "Answer") {
		return false
	}
	i, _ = skipRunes(s, i+len("Answer"), pyIsSpace)
	return strings.HasPrefix(s[i:], ":")
}

// skipRunes advances past runes that satisfy f and says how many it passed.
func skipRunes(s string, i int, f func(rune) bool) (int, int) {
	n := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !f(r) {
			break
		}
		i += size
		n++
	}
	return i, n
}

// selfQAPieces is the reference's re.split(r"\n(?=Question\s+\d+:)", edit.strip()), scanned
// by hand because Go's regexp has no lookahead; each "\n" split on is dropped.
func selfQAPieces(edit string) []string {
	t := pyStrip(edit)
	var pieces []string
	start := 0
	for i := 0; i < len(t); i++ {
		if t[i] == '\n' && questionNumberAt(t, i+1) {
			pieces = append(pieces, t[start:i])
			start = i + 1
		}
	}
	pieces = append(pieces, t[start:])
	if !strings.HasPrefix(pyLStrip(pieces[0]), "Question") {
		pieces[0] = "Question 1: " + pyStrip(pieces[0])
	}
	return pieces
}
