package knowledge

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

// Cases worked by hand with the semantics of the official SQuAD v1.1 evaluate-v1.1.py.
func TestNormalizeSQuAD(t *testing.T) {
	cases := []struct{ in, want string }{
		{"The Cat Sat.", "cat sat"},
		{"  a  cat,  an  apple; the end!  ", "cat apple end"},
		{"Denver Broncos", "denver broncos"},
		{"theory of anarchy", "theory of anarchy"}, // articles only as whole words
		{"The-the", "thethe"},                      // punctuation goes first, then articles
		{"A.B.", "ab"},
		{"24–10", "24–10"}, // the en dash is not in string.punctuation
		{"\u201cquoted\u201d", "\u201cquoted\u201d"},
		{"ça a été", "ça été"}, // Unicode word boundaries: the "a" inside "ça" stays
		{"café the", "café"},
		{"ΟΔΟΣ", "οδος"}, // Python's final sigma
		{"ΣΑ", "σα"},
		{"İ", "i\u0307"},
		{"a\u00a0the\u2003an\u3000b", "b"}, // Unicode whitespace collapses
		{"$1,000", "1000"},
		{"", ""},
	}
	for _, c := range cases {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestExactMatchAndF1(t *testing.T) {
	cases := []struct {
		pred, gold string
		em         bool
		f1         float64
	}{
		{"the cat sat", "a cat sat down", false, 0.8},      // P=2/2, R=2/3
		{"Denver Broncos", "the Denver Broncos.", true, 1}, // normalization makes them equal
		{"Broncos", "Denver Broncos", false, 2.0 / 3},      // P=1, R=1/2
		{"Santa Clara, California", "Santa Clara", false, 0.8},
		{"cat cat cat", "cat", false, 0.5},                 // counts clip: common=1, P=1/3, R=1
		{"a cat and a cat", "cat cat dog", false, 2.0 / 3}, // P=2/3, R=2/3
		{"Carolina Panthers", "Denver Broncos", false, 0},
		{"the", "a", true, 0}, // both normalize to nothing: EM, but v1.1 F1 is 0
		{"", "gold", false, 0},
	}
	for _, c := range cases {
		if got := ExactMatch(c.pred, c.gold); got != c.em {
			t.Errorf("ExactMatch(%q, %q) = %v", c.pred, c.gold, got)
		}
		if got := F1(c.pred, c.gold); math.Abs(got-c.f1) > 1e-12 {
			t.Errorf("F1(%q, %q) = %v, want %v", c.pred, c.gold, got, c.f1)
		}
	}
}

func TestContains(t *testing.T) {
	cases := []struct {
		pred, gold string
		want       bool
	}{
		{"The Denver Broncos won Super Bowl 50, defeating...", "Denver Broncos", true},
		{"It was the denver broncos.", "The Denver Broncos", true},
		{"Broncos", "Denver Broncos", false},
		{"In 2016 there were 100 teams", "10", true}, // plain substring, as measured in §1.7
		{"Santa Clara California", "Santa Clara, California", true},
		{"nothing here", "The", false}, // gold that normalizes to nothing is not found everywhere
		{"It was the one", "The", true},
		{"anything", " ", false},
	}
	for _, c := range cases {
		if got := Contains(c.pred, c.gold); got != c.want {
			t.Errorf("Contains(%q, %q) = %v, want %v", c.pred, c.gold, got, c.want)
		}
	}
}

func TestParseVerdict(t *testing.T) {
	cases := []struct {
		reply string
		want  bool
	}{
		{"Yes.", true},
		{"yes", true},
		{"YES", true},
		{" Yes, the student is right.", true},
		{"yes, but no", false},
		{"No", false},
		{"no.", false},
		{"eyes", false},
		{"yesterday", false},
		{"yes_", false}, // underscore is a word character, as in Python's \b
		{"(yes)", true},
		{"Yes\u2014correct", true},
		{"nope", false},
		{"Not sure; yes", true}, // "Not" is not the word "no"
		{"", false},
	}
	for _, c := range cases {
		if got := ParseVerdict(c.reply); got != c.want {
			t.Errorf("ParseVerdict(%q) = %v, want %v", c.reply, got, c.want)
		}
	}
}

func TestJudgePrompt(t *testing.T) {
	q := Question{"Which NFL team won Super Bowl 50?", "Denver Broncos"}
	p := JudgePrompt(q, "Super Bowl 50", "The Broncos.")
	for _, want := range []string{
		"Question: Topic: Super Bowl 50\nWhich NFL team won Super Bowl 50?\n",
		"Gold answer: Denver Broncos\n",
		"Student answer: The Broncos.\n",
		"only against the gold answer", "extra material is fine", "conflicts", "yes or no",
	} {
		if !strings.Contains(p, want) {
			t.Errorf("JudgePrompt lacks %q:\n%s", want, p)
		}
	}
	if strings.Contains(JudgePrompt(q, "", "x"), "Topic:") {
		t.Error("no topic, no Topic line")
	}
}

// fakeJudge records prompts and answers with a fixed reply.
type fakeJudge struct {
	reply   string
	err     error
	prompts []string
}

func (f *fakeJudge) complete(_ context.Context, prompt string) (string, error) {
	f.prompts = append(f.prompts, prompt)
	return f.reply, f.err
}

func TestGraders(t *testing.T) {
	ctx := context.Background()
	q := Question{"Which NFL team won Super Bowl 50?", "Denver Broncos"}

	g, err := ContainmentGrader().Grade(ctx, q, "Super Bowl 50", "  The Denver Broncos won.\n")
	if err != nil || !g.Correct || g.EM || g.F1 == 0 || g.Grader != "containment" {
		t.Errorf("containment hit: %+v %v", g, err)
	}
	if g, _ := ContainmentGrader().Grade(ctx, q, "", "Carolina"); g.Correct {
		t.Errorf("containment miss: %+v", g)
	}

	yes := &fakeJudge{reply: " Yes."}
	jg := JudgeGrader(yes.complete)
	g, err = jg.Grade(ctx, q, "Super Bowl 50", "  Broncos \n")
	if err != nil || !g.Correct || g.Grader != "judge" || !strings.Contains(g.Detail, "Yes.") {
		t.Errorf("judge yes: %+v %v", g, err)
	}
	if len(yes.prompts) != 1 || !strings.Contains(yes.prompts[0], "Student answer: Broncos\n") {
		t.Errorf("the judge sees the trimmed prediction: %q", yes.prompts)
	}

	// Empty or whitespace-only predictions are wrong without asking anyone, for every grader.
	for name, gr := range map[string]Grader{"containment": ContainmentGrader(), "judge": jg, "hybrid": HybridGrader(jg)} {
		g, err := gr.Grade(ctx, Question{"Q?", "\u00a0"}, "T", " \u2028\n\t")
		if err != nil || g.Correct || g.Detail != "empty prediction" {
			t.Errorf("%s: empty prediction: %+v %v", name, g, err)
		}
	}
	if len(yes.prompts) != 1 {
		t.Errorf("judge asked about empty predictions: %d calls", len(yes.prompts))
	}

	no := &fakeJudge{reply: "No, it conflicts."}
	hy := HybridGrader(JudgeGrader(no.complete))
	g, err = hy.Grade(ctx, q, "Super Bowl 50", "It was the Denver Broncos.")
	if err != nil || !g.Correct || g.Grader != "hybrid/containment" || len(no.prompts) != 0 {
		t.Errorf("hybrid: a containment hit needs no judge: %+v %v %d", g, err, len(no.prompts))
	}
	g, err = hy.Grade(ctx, q, "Super Bowl 50", "The Broncos from Denver.")
	if err != nil || g.Correct || g.Grader != "hybrid/judge" || len(no.prompts) != 1 {
		t.Errorf("hybrid: a miss goes to the judge: %+v %v %d", g, err, len(no.prompts))
	}

	broken := &fakeJudge{err: errors.New("model crashed")}
	if _, err := JudgeGrader(broken.complete).Grade(ctx, q, "", "x"); err == nil || !strings.Contains(err.Error(), "model crashed") {
		t.Errorf("judge error: %v", err)
	}
}

func TestCachedGrader(t *testing.T) {
	ctx := context.Background()
	j := &fakeJudge{reply: "yes"}
	c := CachedGrader(JudgeGrader(j.complete))
	q := Question{"Q?", "A"}
	for range 3 {
		if g, err := c.Grade(ctx, q, "T", " answer "); err != nil || !g.Correct {
			t.Fatalf("%+v %v", g, err)
		}
	}
	if g, _ := c.Grade(ctx, q, "T", "answer"); !strings.HasSuffix(g.Detail, "(cached)") {
		t.Errorf("a hit says so: %q", g.Detail)
	}
	if len(j.prompts) != 1 {
		t.Errorf("same (question, gold, trimmed prediction) asked %d times", len(j.prompts))
	}
	c.Grade(ctx, Question{"Q?", "B"}, "T", "answer")
	c.Grade(ctx, q, "T", "other")
	if len(j.prompts) != 3 {
		t.Errorf("a different gold or prediction must be asked: %d calls", len(j.prompts))
	}
	j.err = errors.New("down")
	c.Grade(ctx, Question{"Q2?", "A"}, "T", "x")
	j.err = nil
	c.Grade(ctx, Question{"Q2?", "A"}, "T", "x")
	if len(j.prompts) != 5 {
		t.Errorf("errors must not be cached: %d calls", len(j.prompts))
	}
}
