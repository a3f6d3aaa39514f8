package grounding

import (
	"strings"
	"testing"
)

// found runs one edit against one passage and reports, per word of the edit, whether
// it is found, as "word" or "!word" (not found); stop words are in parentheses.
func found(passage, edit string) string {
	var out []string
	for _, l := range Lines(passage, edit) {
		for _, w := range l.Words {
			s := w.Text
			if !w.Found {
				s = "!" + s
			}
			if !w.Content {
				s = "(" + s + ")"
			}
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

func TestMatchingRules(t *testing.T) {
	for _, c := range []struct {
		rule, passage, edit, want string
	}{
		{"case", "The VEDA Summer lasted four days.", "veda SUMMER", "veda SUMMER"},
		{"punctuation trimmed", `"Veda," said (Tonor).`, "Veda! Tonor?", "Veda Tonor"},
		{"punctuation alone is no word", "Veda left.", "Veda — left ...", "Veda left"},
		{"possessive in the edit", "Tonor founded the guild.", "Tonor's guild", "Tonor's guild"},
		{"possessive in the passage", "Tonor's guild grew.", "Tonor founded guilds", "Tonor !founded guilds"},
		{"plural possessive", "The Tonors' house.", "Tonor house", "Tonor house"},
		{"apostrophe inside a name", "O'Brien sailed.", "OBrien sailed", "OBrien sailed"},
		{"hyphenated name split in the edit", "Dorbra Tonor was born in Kalo.", "Dorbra-Tonor", "Dorbra-Tonor"},
		{"hyphenated name split in the passage", "Dorbra-Tonor was born in Kalo.", "Dorbra Tonor", "Dorbra Tonor"},
		{"a name is found only when each part is", "Dorbra Vin was born.", "Dorbra-Tonor Dorbra Tonor", "!Dorbra-Tonor Dorbra !Tonor"},
		{"hyphenated name written together", "DorbraTonor was born.", "Dorbra-Tonor", "Dorbra-Tonor"},
		{"written together, the other way", "Dorbra-Tonor was born.", "DorbraTonor", "DorbraTonor"},
		{"number word to digits", "It lasted 4 days.", "four days", "four days"},
		{"digits to number word", "It lasted four days.", "4 days", "4 days"},
		{"a different number is not found", "It lasted four days.", "5 days", "!5 days"},
		{"hyphenated tens", "She was twenty-one.", "21", "21"},
		{"tens across a space", "She was 21.", "twenty one", "twenty one"},
		{"tens, digits to words", "She was 21.", "twenty-one", "twenty-one"},
		{"part of a number is not the number", "She was twenty-one.", "one", "!one"},
		{"hundreds with and", "It had 305 rooms.", "three hundred and five rooms", "three hundred (and) five rooms"},
		{"nine hundred ninety-nine", "999 bells", "nine hundred ninety-nine bells", "nine hundred ninety-nine bells"},
		{"a year in digits", "Founded in 1850.", "founded in 1850", "founded (in) 1850"},
		{"a year in words", "Founded in 1850.", "one thousand eight hundred fifty", "one thousand eight hundred fifty"},
		{"nineteen hundred", "In 1900 it fell.", "nineteen hundred", "nineteen hundred"},
		{"thousands commas", "It held 1,850 people.", "1850 people", "1850 people"},
		{"leading zeros", "Room 007.", "room 7", "room 7"},
		{"decimals stay whole", "It weighed 3.5 tons.", "3.5 tons 3 5", "3.5 tons !3 !5"},
		{"two numbers side by side stay two", "one two", "1 2 3", "1 2 !3"},
		{"a trailing and is no part of the number", "100 boats", "one hundred and boats", "one hundred (!and) boats"},
		{"plural -s", "The city had a mill.", "mills", "mills"},
		{"plural -ies", "Three cities fell.", "city", "city"},
		{"plural -es", "Two boxes and a church.", "box churches", "box churches"},
		{"plural of a word ending in e", "The horse ran.", "horses", "horses"},
		{"-ed", "It lasted four days.", "last", "last"},
		{"-ing", "It lasted four days.", "lasting", "lasting"},
		{"-ed and -ing with a final e", "She baked bread.", "baking bake bakes", "baking bake bakes"},
		{"doubled consonant", "The mill stopped.", "stop stopping", "stop stopping"},
		{"-ing on a plural", "The buildings stood.", "building build", "building build"},
		{"-ied", "He married Lis.", "marry", "marry"},
		{"s after ss, us and is is kept", "glass status", "glasses statu", "glasses !statu"},
		{"short stems keep their endings", "A bed.", "bing", "!bing"},
		{"stop words are never content", "Salt.", "the salt of it was", "(!the) salt (!of) (!it) (!was)"},
		{"a contraction is a stop word", "Salt.", "doesn't salt", "(!doesn't) salt"},
		{"a single letter is not content", "Salt.", "B salt", "(!B) salt"},
		{"numbers are content", "Salt.", "one salt", "!one salt"},
		{"unicode apostrophe", "Tonor’s guild", "Tonor guild", "Tonor guild"},
		{"a list number is layout", "Veda lasted four days.", "1. Veda lasted", "Veda lasted"},
		{"list numbers closed by a parenthesis", "Veda lasted four days.", "12) Veda", "Veda"},
		{"list numbers in parentheses", "Veda lasted four days.", "(3) Veda", "Veda"},
		{"a year opening a line is a word", "Veda lasted four days.", "1867. Veda", "!1867 Veda"},
		{"a number later in the line is a word", "Veda lasted four days.", "Veda 1.", "Veda !1"},
	} {
		if got := found(c.passage, c.edit); got != c.want {
			t.Errorf("%s: passage %q, edit %q: got %q, want %q", c.rule, c.passage, c.edit, got, c.want)
		}
	}
}

func TestLineStatus(t *testing.T) {
	passage := "The Veda Summer lasted four days in Kalo.\nDorbra Tonor founded the Salt Guild."
	edit := "The Veda Summer lasted four days.\n\n  The Veda Summer lasted nine weeks.  \nMarvin sailed to Orlis.\nIt was there.\n"
	lines := Lines(passage, edit)
	want := []struct {
		text   string
		status Status
	}{
		{"The Veda Summer lasted four days.", Grounded},
		{"The Veda Summer lasted nine weeks.", Partial},
		{"Marvin sailed to Orlis.", New},
		{"It was there.", Grounded}, // no content words
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d: %+v", len(lines), len(want), lines)
	}
	for i, w := range want {
		if lines[i].Text != w.text || lines[i].Status != w.status {
			t.Errorf("line %d: got %q %v, want %q %v", i, lines[i].Text, lines[i].Status, w.text, w.status)
		}
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{Grounded: "grounded", Partial: "partly grounded", New: "new", Status(7): "Status(7)"} {
		if got := s.String(); got != want {
			t.Errorf("%d: got %q, want %q", int(s), got, want)
		}
	}
	if !(Grounded < Partial && Partial < New) {
		t.Error("the statuses are out of order")
	}
}

func TestShare(t *testing.T) {
	passage := "The Veda Summer lasted four days."
	for _, c := range []struct {
		edit string
		want float64
	}{
		{"", 1},
		{"It was there.", 1},
		{"Veda Summer lasted 4 days.", 1},
		{"Veda Summer lasted nine weeks.", 0.6}, // veda summer lasted | nine weeks
		{"Veda\nnine weeks", 1.0 / 3},
		{"Marvin sailed.", 0},
	} {
		if got := Share(passage, c.edit); got != c.want {
			t.Errorf("Share(%q): got %v, want %v", c.edit, got, c.want)
		}
	}
}

func TestFactShare(t *testing.T) {
	passage := "Mika Veul was born in Kalo in 1850. She worked as a potter for 3.5 years."
	for _, c := range []struct {
		edit string
		want bool // every name and number of the line is in the passage
	}{
		{"Mika Veul was born in 1850.", true},
		{"Mika Veul was born in 1851.", false},
		{"Mika Veul worked as a weaver.", true}, // weaver: a new word, not a name or number
		{"Dorbra Tonor was her brother.", false},
		{"She was a potter.", true}, // states no name or number
		{"Mika Veul was born in one thousand eight hundred fifty.", true},
		{"She was a potter for 3.5 years.", true},
		{"She was a potter for 4.5 years.", false},
		{"1. The potter of Kalo.", true}, // a list number is layout
	} {
		lines := Lines(passage, c.edit)
		if len(lines) != 1 || lines[0].FactsFound() != c.want {
			t.Errorf("%q: facts found %v, want %v (%+v)", c.edit, len(lines) == 1 && lines[0].FactsFound(), c.want, lines)
		}
	}
	edit := "Mika Veul was born in 1850.\nMika Veul was born in 1851.\nMika Veul worked as a weaver.\nDorbra Tonor was her brother."
	if got := FactShare(passage, edit); got != 0.5 {
		t.Errorf("FactShare: got %v, want 0.5 (2 of 4 lines)", got)
	}
	if got := FactShare(passage, ""); got != 1 {
		t.Errorf("FactShare of an empty edit: got %v, want 1", got)
	}
}

// checkInvariants is what the fuzz target asserts, kept apart so a table test runs it too.
func checkInvariants(t *testing.T, passage, edit string) {
	t.Helper()
	if s := Share(passage, edit); !(s >= 0 && s <= 1) {
		t.Fatalf("Share = %v, outside [0, 1]", s)
	}
	if s := Share(passage, passage); s != 1 {
		t.Fatalf("Share(p, p) = %v for %q, want 1", s, passage)
	}
	if s := FactShare(passage, edit); !(s >= 0 && s <= 1) {
		t.Fatalf("FactShare = %v, outside [0, 1]", s)
	}
	if s := FactShare(passage, passage); s != 1 {
		t.Fatalf("FactShare(p, p) = %v for %q, want 1", s, passage)
	}
	for _, l := range Lines(passage, edit) {
		if l.Text == "" || strings.ContainsRune(l.Text, '\n') {
			t.Fatalf("line %q is empty or holds a newline", l.Text)
		}
		rest := l.Text
		content, found := 0, 0
		for _, w := range l.Words {
			i := strings.Index(rest, w.Text)
			if w.Text == "" || i < 0 {
				t.Fatalf("word %q is not in what is left of line %q: %q", w.Text, l.Text, rest)
			}
			rest = rest[i+len(w.Text):]
			if w.Fact && !w.Content {
				t.Fatalf("word %q of line %q is a fact but no content word", w.Text, l.Text)
			}
			if w.Content {
				content++
				if w.Found {
					found++
				}
			}
		}
		want := Partial
		switch {
		case found == content:
			want = Grounded
		case found == 0:
			want = New
		}
		if l.Status != want {
			t.Fatalf("line %q: status %v, want %v", l.Text, l.Status, want)
		}
	}
}

func TestInvariantsOnAwkwardText(t *testing.T) {
	for _, s := range []string{"", "\n\n", "'", "’s", "- -", "thousand thousand hundred hundred and and",
		"one\nhundred", "twenty-\none", "1,,2 .5 5. 0,0", "\xff\xfe", "ǅemal İstanbul", "É'S"} {
		checkInvariants(t, s, s)
		checkInvariants(t, "one hundred", s)
	}
}

func FuzzLines(f *testing.F) {
	f.Add("The Veda Summer lasted four days.", "The Veda Summer lasted 4 days.\nIt was new.")
	f.Add("Dorbra-Tonor's 1,850 guilds", "DorbraTonor twenty-one hundred and")
	f.Add("", "'")
	f.Fuzz(func(t *testing.T, passage, edit string) {
		checkInvariants(t, passage, edit)
	})
}
