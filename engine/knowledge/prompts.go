package knowledge

import (
	"fmt"
	"strings"
)

// Style names a self-edit prompt (docs/seal-method.md §1.3).
type Style string

const (
	StyleImplications         Style = "implications" // the paper's main prompt
	StyleImplicationsLong     Style = "implications-long"
	StyleImplicationsVeryLong Style = "implications-very-long"
	StyleRewrite              Style = "rewrite"
	StyleSelfQA               Style = "self-qa"
	// StylePassage is the empty self-edit: nothing is generated and only the passage is
	// trained on (the "train on passage only" baseline, naive_val.json).
	StylePassage Style = "passage"
)

// Styles lists every style, the main prompt first.
func Styles() []Style {
	return []Style{StyleImplications, StyleImplicationsLong, StyleImplicationsVeryLong,
		StyleRewrite, StyleSelfQA, StylePassage}
}

// ParseStyle accepts a style name (case and surrounding space ignored).
func ParseStyle(s string) (Style, error) {
	want := Style(strings.ToLower(strings.TrimSpace(s)))
	names := make([]string, 0, len(Styles()))
	for _, st := range Styles() {
		if st == want {
			return st, nil
		}
		names = append(names, string(st))
	}
	return "", fmt.Errorf("unknown self-edit style %q (want one of %s)", s, strings.Join(names, ", "))
}

// Generates reports whether the style asks the policy for a self-edit; StylePassage does not.
func (s Style) Generates() bool {
	_, ok := styleText[s]
	return ok
}

// styleText holds each prompt's instruction sentence and its output label.
//
// The sentences are our own, written from the descriptions in docs/seal-method.md §1.3; the
// reference's exact wording is not reproduced. The skeleton around them is the reference's.
// The implications and rewrite labels end the prompt with a newline so that the list starts
// on a fresh line; self-qa is primed with "Question 1: " (trailing space, no newline), so
// its completion begins with the first question's text.
var styleText = map[Style]struct{ instruction, label string }{
	StyleImplications: {
		"Let us read the passage below and write a numbered list of the implications that can be inferred from it, explicitly or implicitly.",
		"Implications:\n"},
	StyleImplicationsLong: {
		"Let us read the passage below and write a long numbered list of the implications that can be inferred from it, explicitly or implicitly.",
		"Implications:\n"},
	StyleImplicationsVeryLong: {
		"Let us read the passage below and write a very long numbered list of the implications that can be inferred from it, explicitly or implicitly.",
		"Implications:\n"},
	StyleRewrite: {
		"Let us read the passage below and reword it in several different ways, one numbered rewritten version per line.",
		"Rewritten passages:\n"},
	StyleSelfQA: {
		`Let us read the passage below and recast everything it says as numbered question and answer pairs, each "Question N:" followed by an "Answer:".`,
		"Question 1: "},
}

// SelfEditPrompt is the raw-text (no chat template) prompt that asks the policy for a
// self-edit about p: instruction, blank line, "Passage:", title, context, blank line, label.
// It is "" for StylePassage and for unknown styles (ParseStyle rejects those).
func SelfEditPrompt(style Style, p Passage) string {
	t, ok := styleText[style]
	if !ok {
		return ""
	}
	return t.instruction + "\n\nPassage:\n" + p.Title + "\n" + p.Context + "\n\n" + t.label
}

// qaInstruction is our own wording of the reference's request for a direct, concise answer.
const qaInstruction = "Answer the following question directly and concisely."

// TopicQuestion is the question as every driver rewrites it before asking (§1.6):
// "Topic: <title>" on one line, the original question on the next.
func TopicQuestion(title, question string) string {
	return "Topic: " + title + "\n" + question
}

// QAPrompt is the closed-book question prompt (§1.6): four raw-text lines, the second
// reading "Question: Topic: <title>", ending with "Answer:" and a newline. The passage
// never appears: the adapted model must answer from its weights.
func QAPrompt(p Passage, q Question) string {
	return qaInstruction + "\nQuestion: " + TopicQuestion(p.Title, q.Question) + "\nAnswer:\n"
}

// InContextPrompt is QAPrompt with the passage shown first: the passage-in-context
// baseline, an upper reference for what closed-book adaptation could reach.
func InContextPrompt(p Passage, q Question) string {
	return "Passage:\n" + p.Title + "\n" + pyStrip(p.Context) + "\n\n" + QAPrompt(p, q)
}
