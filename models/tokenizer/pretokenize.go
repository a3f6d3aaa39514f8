package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// piece is one pre-token on its way to the model. While mapped is set the real text is the
// byte-level spelling of s: the mapping is deferred so the hot path never builds that string.
type piece struct {
	s      string
	mapped bool
}

// text returns the piece's real text, building the byte-level spelling if needed.
func (p piece) text() string {
	if p.mapped {
		return byteLevelString(p.s)
	}
	return p.s
}

// preTokenizer is one stage of HF pre-tokenization: it appends the splits of each piece of
// in to out. Each stage sees every split of the previous one, as in HF's Sequence.
type preTokenizer interface {
	apply(in, out []piece) []piece
	kind() string
}

// pieceBufs are two reusable piece buffers for ping-ponging between stages.
type pieceBufs struct{ a, b []piece }

// preTokenize runs the stages (an HF Sequence, flattened) over text. Stages work split by
// split, so a nested Sequence is the same as its flattened stages.
func preTokenize(stages []preTokenizer, text string, bufs *pieceBufs) []piece {
	cur := append(bufs.a[:0], piece{s: text})
	bufs.a = cur
	for _, st := range stages {
		next := st.apply(cur, bufs.b[:0])
		bufs.a, bufs.b = next, cur
		cur = next
	}
	return cur
}

func stageKinds(stages []preTokenizer) []string {
	out := make([]string, len(stages))
	for i, st := range stages {
		out[i] = st.kind()
	}
	return out
}

// Split behaviours, named as in HF's SplitDelimiterBehavior.
const (
	behaviorIsolated = iota
	behaviorRemoved
	behaviorMergedWithPrevious
	behaviorMergedWithNext
	behaviorContiguous
)

var behaviorNames = map[string]int{
	"Isolated": behaviorIsolated, "Removed": behaviorRemoved, "MergedWithPrevious": behaviorMergedWithPrevious,
	"MergedWithNext": behaviorMergedWithNext, "Contiguous": behaviorContiguous,
}

// span is a part of a piece's text, flagged when a pattern matched it.
type span struct {
	start, end int
	match      bool
}

// splitSpans applies an HF split behaviour to spans that tile s, appending non-empty pieces.
// This mirrors NormalizedString::split in tokenizers/src/tokenizer/normalizer.rs.
func splitSpans(s string, spans []span, behavior int, invert bool, out []piece) []piece {
	if invert {
		for i := range spans {
			spans[i].match = !spans[i].match
		}
	}
	var merged []span
	switch behavior {
	case behaviorIsolated:
		merged = spans
	case behaviorRemoved:
		merged = spans[:0]
		for _, sp := range spans {
			if !sp.match {
				merged = append(merged, sp)
			}
		}
	case behaviorContiguous, behaviorMergedWithPrevious:
		prev := false
		for _, sp := range spans {
			join := sp.match == prev
			if behavior == behaviorMergedWithPrevious {
				join = sp.match && !prev
			}
			if join && len(merged) > 0 {
				merged[len(merged)-1].end = sp.end
			} else {
				merged = append(merged, sp)
			}
			prev = sp.match
		}
	case behaviorMergedWithNext:
		prev := false
		for i := len(spans) - 1; i >= 0; i-- {
			sp := spans[i]
			if sp.match && !prev && len(merged) > 0 {
				merged[len(merged)-1].start = sp.start
			} else {
				merged = append(merged, sp)
			}
			prev = sp.match
		}
		for i, j := 0, len(merged)-1; i < j; i, j = i+1, j-1 {
			merged[i], merged[j] = merged[j], merged[i]
		}
	}
	for _, sp := range merged {
		if sp.end > sp.start {
			out = append(out, piece{s: s[sp.start:sp.end]})
		}
	}
	return out
}

// tileMatches turns match positions into spans that tile s, like HF's Pattern::find_matches.
func tileMatches(s string, matches [][2]int, spans []span) []span {
	prev := 0
	for _, m := range matches {
		if m[0] > prev {
			spans = append(spans, span{prev, m[0], false})
		}
		spans = append(spans, span{m[0], m[1], true})
		prev = m[1]
	}
	if prev < len(s) {
		spans = append(spans, span{prev, len(s), false})
	}
	return spans
}

// preSplit is HF's Split pre-tokenizer.
type preSplit struct {
	scan     scanner // for the known patterns; else re
	re       matcher
	name     string
	behavior int
	invert   bool
}

// matcher finds all non-overlapping matches (Go regexp or a literal string).
type matcher interface {
	FindAllStringIndex(s string, n int) [][]int
}

func (p *preSplit) kind() string {
	for k, v := range behaviorNames {
		if v == p.behavior {
			inv := ""
			if p.invert {
				inv = ", inverted"
			}
			return "Split(" + p.name + ", " + k + inv + ")"
		}
	}
	return "Split(" + p.name + ")"
}

func (p *preSplit) apply(in, out []piece) []piece {
	for _, pc := range in {
		s := pc.text()
		if len(s) == 0 {
			continue
		}
		if p.scan != nil && p.behavior == behaviorIsolated && !p.invert {
			// Hot path: the known patterns tile the text, so every match is a piece.
			for i := 0; i < len(s); {
				e := p.scan(s, i)
				out = append(out, piece{s: s[i:e]})
				i = e
			}
			continue
		}
		var spans []span
		if p.scan != nil {
			for i := 0; i < len(s); {
				e := p.scan(s, i)
				spans = append(spans, span{i, e, true})
				i = e
			}
		} else {
			idx := p.re.FindAllStringIndex(s, -1)
			ms := make([][2]int, len(idx))
			for i, m := range idx {
				ms[i] = [2]int{m[0], m[1]}
			}
			spans = tileMatches(s, ms, nil)
		}
		out = splitSpans(s, spans, p.behavior, p.invert, out)
	}
	return out
}

// literalMatcher finds a literal string (Split with a String pattern).
type literalMatcher string

func (l literalMatcher) FindAllStringIndex(s string, n int) [][]int {
	var out [][]int
	for i := 0; len(l) > 0 && i <= len(s); {
		j := strings.Index(s[i:], string(l))
		if j < 0 {
			break
		}
		out = append(out, []int{i + j, i + j + len(l)})
		i += j + len(l)
	}
	return out
}

// preByteLevel is HF's ByteLevel pre-tokenizer: optional leading space on every split,
// optional GPT-2 split, then the byte-level mapping (deferred through piece.mapped).
type preByteLevel struct {
	addPrefixSpace bool
	useRegex       bool
}

func (p *preByteLevel) kind() string {
	k := "ByteLevel"
	if p.useRegex {
		k += "(gpt2 split)"
	}
	if p.addPrefixSpace {
		k += "(prefix space)"
	}
	return k
}

func (p *preByteLevel) apply(in, out []piece) []piece {
	for _, pc := range in {
		s := pc.text()
		if p.addPrefixSpace && !strings.HasPrefix(s, " ") {
			s = " " + s
		}
		if !p.useRegex {
			if s != "" {
				out = append(out, piece{s: s, mapped: true})
			}
			continue
		}
		for i := 0; i < len(s); {
			e := scanGPT2(s, i)
			out = append(out, piece{s: s[i:e], mapped: true})
			i = e
		}
	}
	return out
}

// preDigits is HF's Digits pre-tokenizer: numbers (Rust char::is_numeric, category N) split
// off, one per piece or as runs.
type preDigits struct{ individual bool }

func (p *preDigits) kind() string {
	if p.individual {
		return "Digits(individual)"
	}
	return "Digits"
}

func (p *preDigits) apply(in, out []piece) []piece {
	behavior := behaviorContiguous
	if p.individual {
		behavior = behaviorIsolated
	}
	for _, pc := range in {
		s := pc.text()
		var spans []span
		prev := 0
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			if n == 1 && r == utf8.RuneError {
				r = -1
			}
			if r >= 0 && unicode.IsNumber(r) {
				if i > prev {
					spans = append(spans, span{prev, i, false})
				}
				spans = append(spans, span{i, i + n, true})
				prev = i + n
			}
			i += n
		}
		if prev < len(s) {
			spans = append(spans, span{prev, len(s), false})
		}
		out = splitSpans(s, spans, behavior, false, out)
	}
	return out
}
