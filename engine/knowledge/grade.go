package knowledge

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Normalize is the official SQuAD v1.1 normalize_answer: lowercase, remove ASCII
// punctuation (Python's string.punctuation), replace the words a/an/the with a space
// (Unicode word boundaries, as Python's re \b), and collapse whitespace (Python's).
func Normalize(s string) string {
	s = pyLower(s)
	s = strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && strings.ContainsRune(asciiPunctuation, r) {
			return -1
		}
		return r
	}, s)
	var b strings.Builder
	last := 0
	wordRuns(s, func(w string, start, end int) {
		if w == "a" || w == "an" || w == "the" {
			b.WriteString(s[last:start])
			b.WriteByte(' ')
			last = end
		}
	})
	b.WriteString(s[last:])
	return strings.Join(pyFields(b.String()), " ")
}

// asciiPunctuation is Python's string.punctuation; SQuAD removes only these, so "–" and
// curly quotes survive normalization.
const asciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// pyLower is Python's str.lower: Go's per-rune lowercase plus Python's two context and
// length exceptions, U+0130 (İ → "i̇") and the final sigma (Σ at the end of a word → ς).
func pyLower(s string) string {
	if !strings.ContainsAny(s, "\u0130\u03a3") {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for i, r := range s {
		switch r {
		case 0x130:
			b.WriteString("i\u0307")
		case 0x3a3:
			if finalSigma(s, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma is Unicode's Final_Sigma condition as CPython applies it: a cased letter
// before (skipping case-ignorable runes) and none after.
func finalSigma(s string, i int) bool {
	before := false
	for j := i; j > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		j -= size
		if !caseIgnorable(r) {
			before = cased(r)
			break
		}
	}
	if !before {
		return false
	}
	for k := i + len("Σ"); k < len(s); {
		r, size := utf8.DecodeRuneInString(s[k:])
		k += size
		if !caseIgnorable(r) {
			return !cased(r)
		}
	}
	return true
}

func cased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

// caseIgnorable approximates Unicode's Case_Ignorable: marks, format characters, modifier
// letters and symbols, and the word-internal punctuation of Word_Break MidLetter,
// MidNumLet and Single_Quote.
func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0xb7, 0x387, 0x5f4, 0x2018, 0x2019, 0x2024, 0x2027, 0xfe13, 0xfe52, 0xfe55, 0xff07, 0xff0e, 0xff1a:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// ExactMatch is SQuAD EM: the normalized strings are equal.
func ExactMatch(pred, gold string) bool { return Normalize(pred) == Normalize(gold) }

// F1 is SQuAD v1.1 token F1 over normalized tokens (0 when nothing is shared, including
// when both are empty, as the v1.1 script has it).
func F1(pred, gold string) float64 {
	p, g := pyFields(Normalize(pred)), pyFields(Normalize(gold))
	counts := make(map[string]int, len(g))
	for _, t := range g {
		counts[t]++
	}
	same := 0
	for _, t := range p {
		if counts[t] > 0 {
			counts[t]--
			same++
		}
	}
	if same == 0 {
		return 0
	}
	precision := float64(same) / float64(len(p))
	recall := float64(same) / float64(len(g))
	return 2 * precision * recall / (precision + recall)
}

// Contains is the offline grader's test: the normalized gold is a substring of the
// normalized prediction (plain substring, as measured against GPT-4.1 in §1.7, so "10"
// is found in "100"). A gold that normalizes to nothing (say "The") would be found in
// every prediction; it is matched case-insensitively with whitespace collapsed instead.
func Contains(pred, gold string) bool {
	if g := Normalize(gold); g != "" {
		return strings.Contains(Normalize(pred), g)
	}
	g := strings.Join(pyFields(pyLower(gold)), " ")
	return g != "" && strings.Contains(strings.Join(pyFields(pyLower(pred)), " "), g)
}

// Grade is one graded answer. Correct is the verdict the reward counts; EM and F1 are the
// SQuAD metrics, always computed alongside for comparison. Grader names who decided
// Correct, and Detail says why (a judge's reply, "empty prediction").
type Grade struct {
	Correct bool
	EM      bool
	F1      float64
	Grader  string
	Detail  string
}

// Grader decides whether a prediction answers q. topic is the passage title, which the
// question was asked under (the "Topic:" line). An error means no verdict (an unreachable
// judge); the engine records a zero reward with the error as the reason.
type Grader interface {
	Grade(ctx context.Context, q Question, topic, prediction string) (Grade, error)
}

// base fills the metrics that every grader reports and settles empty predictions, which
// the reference marks wrong without asking anyone (§1.7). done is true when no grading is
// needed.
func base(name string, q Question, prediction string) (g Grade, pred string, done bool) {
	pred = pyStrip(prediction)
	g = Grade{Grader: name, EM: ExactMatch(pred, q.Answer), F1: F1(pred, q.Answer)}
	if pred == "" {
		g.Detail = "empty prediction"
		return g, pred, true
	}
	return g, pred, false
}

type containmentGrader struct{}

// ContainmentGrader is the default offline grader: fast and deterministic, about 10
// points below GPT-4.1 in absolute terms but tracking its gains (§1.7).
func ContainmentGrader() Grader { return containmentGrader{} }

func (containmentGrader) Grade(_ context.Context, q Question, _ string, prediction string) (Grade, error) {
	g, pred, done := base("containment", q, prediction)
	if done {
		return g, nil
	}
	g.Correct = Contains(pred, q.Answer)
	if g.Correct {
		g.Detail = "gold answer found in prediction"
	} else {
		g.Detail = "gold answer not found in prediction"
	}
	return g, nil
}

// Complete asks a model to continue prompt (greedy, a few tokens) and returns the text.
// The engine supplies it; this package never touches a model.
type Complete func(ctx context.Context, prompt string) (string, error)

// JudgePrompt is the grading rubric of §1.7 in our own words: judge only against the gold
// answer, extra material is fine when the whole gold answer is there and nothing
// conflicts, wording does not matter, reply yes or no. The question carries its "Topic:"
// line, as the student saw it. It is plain text, so it serves as a raw prompt for a local
// model and as the user message for a chat API alike.
func JudgePrompt(q Question, topic, prediction string) string {
	question := q.Question
	if topic != "" {
		question = TopicQuestion(topic, q.Question)
	}
	return "You are grading a student's answer to a question. Judge it only against the gold answer, " +
		"without using any outside knowledge. The student's answer is correct if it contains the whole " +
		"gold answer in substance; extra material is fine as long as nothing in it conflicts with the " +
		"gold answer. Wording and style do not matter. Reply with just yes or no.\n\n" +
		"Question: " + question + "\n" +
		"Gold answer: " + q.Answer + "\n" +
		"Student answer: " + prediction + "\n\n" +
		"Is the student's answer correct according to the gold answer? Reply yes or no.\n" +
		"Reply:"
}

// ParseVerdict reads a judge's reply as the reference does: correct iff it contains the
// whole word "yes" (any case) and not the whole word "no". So "Yes." is correct, while
// "yes, but no", "eyes" and "No" are not.
func ParseVerdict(reply string) bool {
	yes, no := false, false
	wordRuns(reply, func(w string, _, _ int) {
		switch {
		case strings.EqualFold(w, "yes"):
			yes = true
		case strings.EqualFold(w, "no"):
			no = true
		}
	})
	return yes && !no
}

type judgeGrader struct{ complete Complete }

// JudgeGrader asks a model with JudgePrompt and parses its reply with ParseVerdict.
func JudgeGrader(c Complete) Grader { return judgeGrader{c} }

func (j judgeGrader) Grade(ctx context.Context, q Question, topic, prediction string) (Grade, error) {
	g, pred, done := base("judge", q, prediction)
	if done {
		return g, nil
	}
	reply, err := j.complete(ctx, JudgePrompt(q, topic, pred))
	if err != nil {
		g.Detail = "judge failed: " + err.Error()
		return g, fmt.Errorf("judge: %w", err)
	}
	g.Correct = ParseVerdict(reply)
	g.Detail = "judge replied " + quoteShort(reply)
	return g, nil
}

// quoteShort quotes a reply for Detail, cut so a rambling judge cannot bloat the store.
func quoteShort(s string) string {
	s = pyStrip(s)
	if r := []rune(s); len(r) > 80 {
		s = string(r[:80]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

type hybridGrader struct{ judge Grader }

// HybridGrader accepts a containment hit without asking (the judge would say yes) and asks
// the judge only about the rest, which saves most judge calls.
func HybridGrader(judge Grader) Grader { return hybridGrader{judge} }

func (h hybridGrader) Grade(ctx context.Context, q Question, topic, prediction string) (Grade, error) {
	g, pred, done := base("hybrid/containment", q, prediction)
	if done {
		return g, nil
	}
	if Contains(pred, q.Answer) {
		g.Correct = true
		g.Detail = "gold answer found in prediction"
		return g, nil
	}
	jg, err := h.judge.Grade(ctx, q, topic, pred)
	jg.Grader = "hybrid/" + jg.Grader
	return jg, err
}

type cachedGrader struct {
	inner Grader
	mu    sync.Mutex
	memo  map[[3]string]Grade
}

// CachedGrader remembers verdicts by (question, gold answer, trimmed prediction), so a
// repeated answer (the baseline is re-asked for every candidate) costs no second call.
// Errors are not cached. A hit has " (cached)" appended to its Detail.
func CachedGrader(g Grader) Grader { return &cachedGrader{inner: g, memo: map[[3]string]Grade{}} }

func (c *cachedGrader) Grade(ctx context.Context, q Question, topic, prediction string) (Grade, error) {
	key := [3]string{q.Question, q.Answer, pyStrip(prediction)}
	c.mu.Lock()
	g, ok := c.memo[key]
	c.mu.Unlock()
	if ok {
		g.Detail += " (cached)"
		return g, nil
	}
	g, err := c.inner.Grade(ctx, q, topic, prediction)
	if err != nil {
		return g, err
	}
	c.mu.Lock()
	c.memo[key] = g
	c.mu.Unlock()
	return g, nil
}
