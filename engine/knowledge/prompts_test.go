package knowledge

import (
	"strings"
	"testing"
)

var sb50 = Passage{
	Title:     "Super Bowl 50",
	Context:   "Super Bowl 50 was an American football game.",
	Questions: []Question{{"Which NFL team won Super Bowl 50?", "Denver Broncos"}},
}

func TestStyles(t *testing.T) {
	want := []Style{"implications", "implications-long", "implications-very-long", "rewrite", "self-qa", "passage"}
	got := Styles()
	if len(got) != len(want) {
		t.Fatalf("Styles() = %v", got)
	}
	for i, s := range want {
		if got[i] != s {
			t.Errorf("Styles()[%d] = %q, want %q", i, got[i], s)
		}
		if p, err := ParseStyle(" " + strings.ToUpper(string(s)) + " "); err != nil || p != s {
			t.Errorf("ParseStyle(%q) = %q, %v", s, p, err)
		}
		if s.Generates() != (s != StylePassage) {
			t.Errorf("%q.Generates() = %v", s, s.Generates())
		}
	}
	if _, err := ParseStyle("implication"); err == nil || !strings.Contains(err.Error(), "self-qa") {
		t.Errorf("unknown style: %v (should list the valid ones)", err)
	}
}

func TestSelfEditPromptSkeleton(t *testing.T) {
	labels := map[Style]string{
		StyleImplications:         "Implications:\n",
		StyleImplicationsLong:     "Implications:\n",
		StyleImplicationsVeryLong: "Implications:\n",
		StyleRewrite:              "Rewritten passages:\n",
		StyleSelfQA:               "Question 1: ",
	}
	seen := map[string]Style{}
	for style, label := range labels {
		prompt := SelfEditPrompt(style, sb50)
		instruction, rest, ok := strings.Cut(prompt, "\n\n")
		if !ok || instruction == "" || strings.Contains(instruction, "\n") || !strings.HasPrefix(instruction, "Let us read the passage") {
			t.Errorf("%s: instruction sentence: %q", style, instruction)
		}
		if other, dup := seen[instruction]; dup {
			t.Errorf("%s and %s share an instruction", style, other)
		}
		seen[instruction] = style
		want := "Passage:\nSuper Bowl 50\nSuper Bowl 50 was an American football game.\n\n" + label
		if rest != want {
			t.Errorf("%s: after the instruction\n got %q\nwant %q", style, rest, want)
		}
	}
	if !strings.Contains(SelfEditPrompt(StyleImplicationsLong, sb50), " long ") ||
		!strings.Contains(SelfEditPrompt(StyleImplicationsVeryLong, sb50), " very long ") {
		t.Error("the long variants should ask for a long / very long list")
	}
	if got := SelfEditPrompt(StylePassage, sb50); got != "" {
		t.Errorf("passage style generates nothing, got %q", got)
	}
	if got := SelfEditPrompt("nope", sb50); got != "" {
		t.Errorf("unknown style: %q", got)
	}
}

func TestQAPrompt(t *testing.T) {
	q := sb50.Questions[0]
	got := QAPrompt(sb50, q)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if !strings.HasSuffix(got, "\n") || len(lines) != 4 {
		t.Fatalf("want 4 lines ending with a newline, got %q", got)
	}
	if lines[1] != "Question: Topic: Super Bowl 50" || lines[2] != q.Question || lines[3] != "Answer:" {
		t.Errorf("QAPrompt lines: %q", lines)
	}
	if strings.Contains(got, sb50.Context) {
		t.Error("the closed-book prompt must not show the passage")
	}
	in := InContextPrompt(sb50, q)
	if !strings.HasPrefix(in, "Passage:\nSuper Bowl 50\n"+sb50.Context+"\n\n") || !strings.HasSuffix(in, got) {
		t.Errorf("InContextPrompt: %q", in)
	}
}
