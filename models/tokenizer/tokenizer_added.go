package tokenizer

import (
	"encoding/json"
	"fmt"
	"sort"
	"unicode"
	"unicode/utf8"
)

// AddedToken is an entry of tokenizer.json's added_tokens: a string matched as a whole
// before the model sees the text.
type AddedToken struct {
	ID      int    `json:"id"`
	Content string `json:"content"`
	// SingleWord: only match when not inside a word (no word character on either side).
	SingleWord bool `json:"single_word"`
	// LStrip, RStrip: the match swallows the whitespace on its left/right.
	LStrip bool `json:"lstrip"`
	RStrip bool `json:"rstrip"`
	// Normalized: matched in the normalized text rather than the raw input.
	Normalized bool `json:"normalized"`
	// Special: a control token (BOS, EOS, chat markers); DecodeSkipSpecial drops it.
	Special bool `json:"special"`
}

// UnmarshalJSON requires id and content; missing flags default as in HF's AddedToken::from
// (normalized unless special).
func (a *AddedToken) UnmarshalJSON(data []byte) error {
	var raw struct {
		ID         *int    `json:"id"`
		Content    *string `json:"content"`
		SingleWord bool    `json:"single_word"`
		LStrip     bool    `json:"lstrip"`
		RStrip     bool    `json:"rstrip"`
		Normalized *bool   `json:"normalized"`
		Special    bool    `json:"special"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if raw.ID == nil || raw.Content == nil {
		return fmt.Errorf("added token %s needs an id and a content", clipJSON(data))
	}
	*a = AddedToken{ID: *raw.ID, Content: *raw.Content, SingleWord: raw.SingleWord, LStrip: raw.LStrip,
		RStrip: raw.RStrip, Normalized: !raw.Special, Special: raw.Special}
	if raw.Normalized != nil {
		a.Normalized = *raw.Normalized
	}
	return nil
}

func clipJSON(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "..."
	}
	return string(b)
}

// addedMatcher finds added tokens leftmost-longest, like the aho-corasick automaton
// (MatchKind::LeftmostLongest) in HF's AddedVocabulary, with a byte trie: the texts are few
// and short, so walking the trie from each candidate start is cheap.
type addedMatcher struct {
	nodes []trieNode
	first [256]bool // bytes that can start a token: everything else is skipped at once
}

type trieNode struct {
	next  []trieEdge
	token int // index into Tokenizer.added, or -1
}

type trieEdge struct {
	b    byte
	node int32
}

func newAddedMatcher() *addedMatcher {
	return &addedMatcher{nodes: []trieNode{{token: -1}}}
}

func (m *addedMatcher) add(text string, token int) {
	n := 0
	for i := 0; i < len(text); i++ {
		child := -1
		for _, e := range m.nodes[n].next {
			if e.b == text[i] {
				child = int(e.node)
				break
			}
		}
		if child < 0 {
			child = len(m.nodes)
			m.nodes = append(m.nodes, trieNode{token: -1})
			m.nodes[n].next = append(m.nodes[n].next, trieEdge{text[i], int32(child)})
		}
		n = child
	}
	if m.nodes[n].token < 0 { // the first token with this text keeps it
		m.nodes[n].token = token
	}
	m.first[text[0]] = true
}

func (m *addedMatcher) empty() bool { return len(m.nodes) == 1 }

// find returns the leftmost-longest match in s at or after from: its span and token.
func (m *addedMatcher) find(s string, from int) (start, end, token int) {
	for i := from; i < len(s); i++ {
		if !m.first[s[i]] {
			continue
		}
		n, best, bestEnd := 0, -1, 0
		for j := i; j < len(s); j++ {
			child := int32(-1)
			for _, e := range m.nodes[n].next {
				if e.b == s[j] {
					child = e.node
					break
				}
			}
			if child < 0 {
				break
			}
			n = int(child)
			if m.nodes[n].token >= 0 {
				best, bestEnd = m.nodes[n].token, j+1
			}
		}
		if best >= 0 {
			return i, bestEnd, best
		}
	}
	return -1, -1, -1
}

// segment is a part of the input: plain text for the pipeline (token < 0) or an added token.
type segment struct {
	text  string
	token int
}

// splitAdded cuts s at the added tokens m finds, appending segments. It follows
// AddedVocabulary::find_matches: single_word matches with a word character beside them are
// dropped, lstrip/rstrip widen a match over neighbouring whitespace (never back over an
// earlier match), and the pieces between matches stay text.
func (t *Tokenizer) splitAdded(s string, m *addedMatcher, out []segment) []segment {
	if m.empty() {
		if s != "" {
			out = append(out, segment{s, -1})
		}
		return out
	}
	done := 0 // end of the last emitted match
	for from := 0; from < len(s); {
		start, end, tok := m.find(s, from)
		if tok < 0 {
			break
		}
		from = end
		a := &t.added[tok]
		if a.SingleWord && (endsWithWord(s[:start]) || startsWithWord(s[end:])) {
			continue
		}
		if a.LStrip {
			// min: after an overlap HF would slice backwards here and panic.
			start = min(max(spaceStartAtEnd(s[:start]), done), end)
		}
		if a.RStrip {
			end += spaceEndAtStart(s[end:])
		}
		if start > done {
			out = append(out, segment{s[done:start], -1})
		}
		// As in HF, the search resumes after the token itself even when rstrip took more;
		// a later token inside that whitespace then overlaps, as it does there.
		out = append(out, segment{s[start:end], tok})
		done = end
	}
	if done < len(s) {
		out = append(out, segment{s[done:], -1})
	}
	return out
}

// isWordRune is the Rust regex crate's Unicode \w: Alphabetic, marks, decimal digits,
// connector punctuation and the joiners.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) ||
		unicode.In(r, unicode.Nl, unicode.Other_Alphabetic, unicode.Pc) || r == 0x200C || r == 0x200D
}

func endsWithWord(s string) bool {
	r, n := utf8.DecodeLastRuneInString(s)
	return n > 0 && !(r == utf8.RuneError && n == 1) && isWordRune(r)
}

func startsWithWord(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && !(r == utf8.RuneError && n == 1) && isWordRune(r)
}

// spaceStartAtEnd returns where the trailing whitespace of s begins (Rust \s is White_Space).
func spaceStartAtEnd(s string) int {
	i := len(s)
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(s[:i])
		if (r == utf8.RuneError && n == 1) || !unicode.IsSpace(r) {
			break
		}
		i -= n
	}
	return i
}

// spaceEndAtStart returns the length of the leading whitespace of s.
func spaceEndAtStart(s string) int {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || !unicode.IsSpace(r) {
			break
		}
		i += n
	}
	return i
}

// buildAddedMatchers makes the raw-text and normalized-text matchers. Tokens marked
// normalized are matched by their normalized content, after normalization, as HF does.
func (t *Tokenizer) buildAddedMatchers() {
	t.rawMatch, t.normMatch = newAddedMatcher(), newAddedMatcher()
	// Insert in HF's order (special tokens, then the others) so equal texts resolve alike.
	order := make([]int, len(t.added))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return t.added[order[i]].Special && !t.added[order[j]].Special })
	for _, i := range order {
		a := t.added[i]
		if a.Normalized {
			if c := t.norm.normalize(a.Content); c != "" {
				t.normMatch.add(c, i)
			}
		} else {
			t.rawMatch.add(a.Content, i)
		}
	}
}
