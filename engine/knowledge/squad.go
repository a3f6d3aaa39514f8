package knowledge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Question is one closed-book check on a passage: the question and its single gold answer
// (the first SQuAD answer, as the reference stores it).
type Question struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// Passage is one SQuAD paragraph with its questions (docs/seal-method.md §1.2).
type Passage struct {
	Title     string     `json:"title"`
	Context   string     `json:"context"`
	Questions []Question `json:"questions"`
}

// ErrNoQuestions marks a passage that loads but cannot be evaluated: without questions it
// has no reward. Validate returns it (wrapped) so callers can keep such passages for
// training-only uses and skip them for scoring.
var ErrNoQuestions = errors.New("no questions")

// Validate reports the first problem that makes a passage unusable for SEAL: an empty
// (whitespace-only) title, context, question or answer, or no questions at all
// (errors.Is(err, ErrNoQuestions)). Question indices are 0-based.
func (p Passage) Validate() error {
	if pyStrip(p.Title) == "" {
		return errors.New(`"title" is empty`)
	}
	if pyStrip(p.Context) == "" {
		return errors.New(`"context" is empty`)
	}
	if len(p.Questions) == 0 {
		return ErrNoQuestions
	}
	for i, q := range p.Questions {
		if err := q.validate(); err != nil {
			return fmt.Errorf("question %d: %w", i, err)
		}
	}
	return nil
}

func (q Question) validate() error {
	if pyStrip(q.Question) == "" {
		return errors.New(`"question" is empty`)
	}
	if pyStrip(q.Answer) == "" {
		return errors.New(`"answer" is empty`)
	}
	return nil
}

// LoadSQuAD reads a file in the format of squad_val.json. Errors start with the path.
func LoadSQuAD(path string) ([]Passage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err // already names the path
	}
	ps, err := ParseSQuAD(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ps, nil
}

// ParseSQuAD parses a JSON array of {title, context, questions:[{question, answer}]}.
// Keys are matched exactly (encoding/json's case-insensitive struct matching would accept
// "Title"); unknown keys are allowed, so the synthetic-data files with "completions" and
// "prompt" load too. Missing keys, wrong types and empty strings are errors that name the
// 0-based passage and question index and the field. A passage with an empty question list
// is kept: Validate flags it with ErrNoQuestions.
func ParseSQuAD(data []byte) ([]Passage, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(data, &elems); err != nil {
		return nil, fmt.Errorf("not a JSON array of passages: %w", err)
	}
	if elems == nil { // the literal null
		return nil, errors.New("not a JSON array of passages: null")
	}
	out := make([]Passage, len(elems))
	for i, raw := range elems {
		p, err := parsePassage(raw)
		if err != nil {
			return nil, fmt.Errorf("passage %d: %w", i, err)
		}
		out[i] = p
	}
	return out, nil
}

func parsePassage(raw json.RawMessage) (Passage, error) {
	obj, err := object(raw)
	if err != nil {
		return Passage{}, err
	}
	var p Passage
	if p.Title, err = nonEmptyString(obj, "title"); err != nil {
		return Passage{}, err
	}
	if p.Context, err = nonEmptyString(obj, "context"); err != nil {
		return Passage{}, err
	}
	qraw, ok := obj["questions"]
	if !ok {
		return Passage{}, errors.New(`"questions" is missing`)
	}
	var qs []json.RawMessage
	if err := json.Unmarshal(qraw, &qs); err != nil || qs == nil {
		return Passage{}, errors.New(`"questions" is not an array`)
	}
	p.Questions = make([]Question, len(qs))
	for j, qr := range qs {
		q, err := parseQuestion(qr)
		if err != nil {
			return Passage{}, fmt.Errorf("question %d: %w", j, err)
		}
		p.Questions[j] = q
	}
	return p, nil
}

func parseQuestion(raw json.RawMessage) (Question, error) {
	obj, err := object(raw)
	if err != nil {
		return Question{}, err
	}
	var q Question
	if q.Question, err = nonEmptyString(obj, "question"); err != nil {
		return Question{}, err
	}
	if q.Answer, err = nonEmptyString(obj, "answer"); err != nil {
		return Question{}, err
	}
	return q, nil
}

func object(raw json.RawMessage) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("not a JSON object (%s)", snippet(raw))
	}
	return obj, nil
}

func nonEmptyString(obj map[string]json.RawMessage, key string) (string, error) {
	raw, ok := obj[key]
	if !ok {
		return "", fmt.Errorf("%q is missing", key)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return "", fmt.Errorf("%q is not a string (%s)", key, snippet(raw))
	}
	if pyStrip(s) == "" {
		return "", fmt.Errorf("%q is empty", key)
	}
	return s, nil
}

// snippet shows the start of a bad JSON value in an error without flooding it.
func snippet(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	const max = 40
	if len(raw) > max {
		return strings.ToValidUTF8(string(raw[:max]), "") + "..."
	}
	return strings.ToValidUTF8(string(raw), "\uFFFD")
}
