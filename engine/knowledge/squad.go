package knowledge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"seal/models/sidefile"
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

// LoadSQuAD reads every passage of a data file (see ScanSQuAD). Errors start with the path.
func LoadSQuAD(path string) ([]Passage, error) {
	ps, _, err := LoadSQuADRange(path, 0, 0)
	return ps, err
}

// LoadSQuADRange reads the n passages from offset on (n 0: all from offset on) and
// counts the file's passages (total). Only the passages asked for are parsed and kept:
// the others are read one at a time as JSON and counted, so a file of 100k passages costs
// the memory of the few a run uses.
func LoadSQuADRange(path string, offset, n int) (ps []Passage, total int, err error) {
	keep := func(i int) bool { return i >= offset && (n == 0 || i < offset+n) }
	total, err = scanFile(path, keep, func(_ int, p Passage) bool {
		ps = append(ps, p)
		return true
	})
	if err != nil {
		return nil, 0, err
	}
	return ps, total, nil
}

// ScanSQuAD reads a data file passage by passage and calls visit with each (0-based, in
// file order) until visit returns false; it returns how many passages it read. The file
// must be a regular file of at most MaxDataFile bytes (checked before reading); each
// passage (or SQuAD v1.1 article) at most MaxElement bytes of JSON, and each text in it
// at most MaxText bytes. Errors start with the path.
func ScanSQuAD(path string, visit func(i int, p Passage) bool) (int, error) {
	return scanFile(path, nil, visit)
}

func scanFile(path string, keep func(int) bool, visit func(i int, p Passage) bool) (int, error) {
	f, err := sidefile.Open(path, MaxDataFile)
	if err != nil {
		return 0, err // names the path
	}
	defer f.Close()
	n, err := scanSQuAD(bufio.NewReaderSize(io.LimitReader(f, MaxDataFile+1), 1<<16), keep, visit)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// ParseSQuAD parses the bytes of a data file (see scanSQuAD for the shapes).
func ParseSQuAD(data []byte) ([]Passage, error) {
	out := []Passage{}
	if _, err := scanSQuAD(bytes.NewReader(data), nil, func(_ int, p Passage) bool {
		out = append(out, p)
		return true
	}); err != nil {
		return nil, err
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
