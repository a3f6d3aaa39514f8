package knowledge

import (
	"slices"
	"testing"
)

func TestTrainSequencesRules(t *testing.T) {
	p := Passage{Title: "Super Bowl 50", Context: "  \u00a0The game was played in Santa Clara.\r\n\u2028"}
	const T = "Super Bowl 50\n"
	const P = T + "The game was played in Santa Clara."
	cases := []struct {
		name  string
		edit  string
		split bool
		want  []string
	}{
		{"empty edit, split: passage only", "", true, []string{P}},
		{"blank edit, split: passage only", " \n\u2028\u00a0 ", true, []string{P}},
		{"empty edit, no split: title-only then passage", "", false, []string{T, P}},
		{"no split: the edit is one trimmed sequence", "\n1. A.\n2. B.\n", false, []string{T + "1. A.\n2. B.", P}},
		{"no split: --- segments", "A\n---\nB\n\n---\n \n---C", false, []string{T + "A", T + "B", T + "C", P}},
		{"no split: only dashes keeps the trimmed edit", " --- ", false, []string{T + "---", P}},
		{"split: every non-empty trimmed line", "1. A.\n\n  2. B.  \n3. C.", true, []string{T + "1. A.", T + "2. B.", T + "3. C.", P}},
		{"split: preamble dropped when the second line starts with 1.", "Sure, here is a list:\n1. A.\n2. B.", true, []string{T + "1. A.", T + "2. B.", P}},
		{"split: preamble found after blank lines", "Here you go:\n\n\n   1. A.", true, []string{T + "1. A.", P}},
		{"split: a list starting with 1. is left intact", "1. A.\n2. B.\n3. C.", true, []string{T + "1. A.", T + "2. B.", T + "3. C.", P}},
		{"split: the rule reads only the second line, even after a 1.", "1. A.\n1. B.\n2. C.", true, []string{T + "1. B.", T + "2. C.", P}},
		{"split: only the second line is checked", "Intro\nMore intro\n1. A.", true, []string{T + "Intro", T + "More intro", T + "1. A.", P}},
		{"split: 10. is not 1.", "Intro\n10. A.", true, []string{T + "Intro", T + "10. A.", P}},
		{"split: a single line is kept", "Only line", true, []string{T + "Only line", P}},
		{"split: --- then lines", "Sure:\n---\n1. A.\n2. B.\n---\nSources: x", true, []string{T + "1. A.", T + "2. B.", T + "Sources: x", P}},
		{"split: Unicode line breaks end lines", "A\u2028B\u2029C\x0bD\x0cE\x1cF\x1dG\x1eH\u0085I\rJ\r\nK", true,
			[]string{T + "A", T + "B", T + "C", T + "D", T + "E", T + "F", T + "G", T + "H", T + "I", T + "J", T + "K", P}},
		{"split: a stray byte 0x85 (invalid UTF-8, not U+0085) is not a line break", "A\x85B", true, []string{T + "A\x85B", P}},
		{"split: \\x1f is whitespace but not a line break", "A\x1fB\x1f", true, []string{T + "A\x1fB", P}},
		{"split: NBSP and ideographic space are trimmed", "\u00a0A\u3000\n\u2003", true, []string{T + "A", P}},
		{"split: zero-width space is not whitespace", "\u200b\n", true, []string{T + "\u200b", P}},
		{"self-QA: split before each Question N:, repaired first piece",
			"Who won?\nAnswer: Denver.\nQuestion 2: Where?\nAnswer: Santa Clara.\n\nQuestion 3: When?\nAnswer: 2016.", true,
			[]string{T + "Question 1: Who won?\nAnswer: Denver.", T + "Question 2: Where?\nAnswer: Santa Clara.\n", T + "Question 3: When?\nAnswer: 2016.", P}},
		{"self-QA: first piece already a question is not repaired",
			"  Question 1: Who?\nAnswer: D.\nQuestion 2: Where?\nAnswer: S.", true,
			[]string{T + "Question 1: Who?\nAnswer: D.", T + "Question 2: Where?\nAnswer: S.", P}},
		{"self-QA: the repair trims the first piece",
			" \u00a0Who?  \nAnswer: D.\nQuestion 2: Where? Answer: S.", true,
			[]string{T + "Question 1: Who?  \nAnswer: D.", T + "Question 2: Where? Answer: S.", P}},
		{"self-QA: --- is ignored and pieces keep their spaces",
			"Who?\nAnswer: D.\n---\nQuestion 2:   Where?  \nAnswer : S. ", true,
			[]string{T + "Question 1: Who?\nAnswer: D.\n---", T + "Question 2:   Where?  \nAnswer : S.", P}},
		{"self-QA: no split without a newline right before Question",
			"Who? Answer: D. Question 2: Where? \n Question 3: x", true,
			[]string{T + "Question 1: Who? Answer: D. Question 2: Where? \n Question 3: x", P}},
		{"self-QA: \\r\\n keeps its \\r in the piece",
			"Question 1: Who?\r\nAnswer: D.\r\nQuestion 2: Where?\r\nAnswer: S.", true,
			[]string{T + "Question 1: Who?\r\nAnswer: D.\r", T + "Question 2: Where?\r\nAnswer: S.", P}},
		{"self-QA: Unicode space and digits as Python's \\s and \\d",
			"Who?\nAnswer: D.\nQuestion\u00a0\u0663: Where?\nAnswer: S.", true,
			[]string{T + "Question 1: Who?\nAnswer: D.", T + "Question\u00a0\u0663: Where?\nAnswer: S.", P}},
		{"self-QA: Question needs whitespace before the number",
			"Who?\nAnswer: D.\nQuestion2: Where?", true,
			[]string{T + "Who?", T + "Answer: D.", T + "Question2: Where?", P}},
		{"not self-QA without an Answer: line", "Question 1: Who?\nQuestion 2: Where?", true,
			[]string{T + "Question 1: Who?", T + "Question 2: Where?", P}},
		{"not self-QA when lowercase", "question 1: Who?\nanswer: D.", true,
			[]string{T + "question 1: Who?", T + "answer: D.", P}},
		{"self-QA only when splitting", "Who?\nAnswer: D.\nQuestion 2: Where?\nAnswer: S.", false,
			[]string{T + "Who?\nAnswer: D.\nQuestion 2: Where?\nAnswer: S.", P}},
	}
	for _, c := range cases {
		got := TrainSequences(c.edit, p, c.split)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

func TestPassageSequences(t *testing.T) {
	p := Passage{Title: "T", Context: "C"}
	if got := PassageSequences(nil, p, false); !slices.Equal(got, []string{"T\n", "T\nC"}) {
		t.Errorf("no edits (CPT naive): %q", got)
	}
	got := PassageSequences([]string{"a\nb", "c"}, p, false)
	if want := []string{"T\na\nb", "T\nC", "T\nc", "T\nC"}; !slices.Equal(got, want) {
		t.Errorf("CPT: the passage once per edit: got %q want %q", got, want)
	}
	if got := PassageSequences([]string{"a\nb"}, p, true); !slices.Equal(got, []string{"T\na", "T\nb", "T\nC"}) {
		t.Errorf("split: %q", got)
	}
}

func TestPythonTextHelpers(t *testing.T) {
	// Python 3.11: [c for c in range(0x110000) if chr(c).isspace()]
	pySpaces := []rune{0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680,
		0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
		0x2028, 0x2029, 0x202f, 0x205f, 0x3000}
	var got []rune
	for r := rune(0); r <= 0x10ffff; r++ {
		if pyIsSpace(r) {
			got = append(got, r)
		}
	}
	if !slices.Equal(got, pySpaces) {
		t.Errorf("pyIsSpace set differs from Python's str.isspace:\n got %U\nwant %U", got, pySpaces)
	}
	lines := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"\n", []string{""}},
		{"a\n", []string{"a"}},
		{"a\r\nb\rc\n\nd", []string{"a", "b", "c", "", "d"}},
		{"a\r\r\nb", []string{"a", "", "b"}},
		{"a\u2028b\u0085c\x1fd", []string{"a", "b", "c\x1fd"}},
	}
	for _, c := range lines {
		if got := pySplitLines(c.in); !slices.Equal(got, c.want) {
			t.Errorf("pySplitLines(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestRepeatedPassage: the step-matched baseline is exactly the passage-only
// sequence, n times (at least once).
func TestRepeatedPassage(t *testing.T) {
	p := Passage{Title: "Super Bowl 50", Context: "  \u00a0The game was played in Santa Clara.\r\n\u2028"}
	one := TrainSequences("", p, true)
	if got := RepeatedPassage(p, 1); !slices.Equal(got, one) {
		t.Errorf("once: %q, want the passage-only sequences %q", got, one)
	}
	got := RepeatedPassage(p, 4)
	if len(got) != 4 {
		t.Fatalf("4 repeats gave %d sequences", len(got))
	}
	for i, s := range got {
		if s != one[0] {
			t.Errorf("repeat %d is %q, want %q", i, s, one[0])
		}
	}
	if got := RepeatedPassage(p, 0); !slices.Equal(got, one) {
		t.Errorf("0 repeats: %q, want one", got)
	}
}
