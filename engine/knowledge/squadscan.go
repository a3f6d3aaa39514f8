package knowledge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"seal/models/sidefile"
)

// Limits on a data file: generous for real data (SQuAD v2.0's training file is 40 MB,
// its longest paragraph 4 KB), small enough that a hostile file cannot take the memory
// of the machine or make a run tokenize megabytes.
const (
	MaxDataFile = 256 << 20 // a data file, checked before it is read
	MaxElement  = 16 << 20  // the JSON of one passage, or of one SQuAD v1.1 article
	MaxText     = 64 << 10  // a title, context, question or answer
)

// shapes says what a data file may hold, for the error about any other shape.
const shapes = `want a JSON array of passages [{"title", "context", "questions": [{"question", "answer"}]}] ` +
	`or the SQuAD v1.1 object {"data": [{"title", "paragraphs": [{"context", "qas": [{"question", "answers": [{"text"}]}]}]}]}`

// errOverBudget is what budgetReader returns past its budget.
var errOverBudget = errors.New("over the element budget")

// budgetReader lets one JSON value be read with a bounded number of bytes: the
// decoder buffers a whole value before decoding it, so without a budget a single huge
// element would be read into memory whole.
type budgetReader struct {
	r    io.Reader
	left int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errOverBudget
	}
	// At most 64 KiB a read: the decoder reads ahead as far as its buffer allows, and
	// bytes read ahead for the next element would escape that element's budget.
	p = p[:min(int64(len(p)), b.left, 1<<16)]
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// scanner walks a data file's top level one element at a time.
type scanner struct {
	br    *budgetReader
	dec   *json.Decoder
	n     int              // passages read
	keep  func(i int) bool // nil: all; else passage i is parsed only when keep(i)
	visit func(i int, p Passage) bool
}

// scanSQuAD reads either shape from r: a JSON array of {title, context, questions:
// [{question, answer}]}, or the official SQuAD v1.1 object, where each paragraph is a
// passage under its article's title and each answerable question keeps its first answer
// as the gold one (questions marked is_impossible, as SQuAD v2.0 has them, are left
// out). Keys are matched exactly; unknown keys are allowed, so the synthetic-data files
// with "completions" and "prompt" load too. Errors name the 0-based passage (and, in
// v1.1 files, the article and paragraph), question and field.
//
// keep, when not nil, says which passages of the array shape are wanted: the others are
// read as JSON and counted but not parsed or visited (a run on 4 passages of a file of
// 100k does not parse the rest).
func scanSQuAD(r io.Reader, keep func(i int) bool, visit func(i int, p Passage) bool) (int, error) {
	br := &budgetReader{r: r}
	s := &scanner{br: br, dec: json.NewDecoder(br), keep: keep, visit: visit}
	tok, err := s.token()
	if err != nil {
		return 0, err
	}
	switch tok {
	case json.Delim('['):
		err = s.passages()
	case json.Delim('{'):
		err = s.v11()
	default:
		return 0, fmt.Errorf("not a SQuAD file (found %v): %s", describe(tok), shapes)
	}
	if errors.Is(err, errStop) {
		return s.n, nil
	}
	if err != nil {
		return 0, err
	}
	if _, err := s.dec.Token(); err != io.EOF {
		return 0, errors.New("malformed JSON: more data after the top-level value")
	}
	return s.n, nil
}

// errStop ends a scan that visit stopped.
var errStop = errors.New("stop")

// token reads the next token with a small budget (a key or a delimiter).
func (s *scanner) token() (json.Token, error) {
	s.br.left = 1 << 16
	tok, err := s.dec.Token()
	if errors.Is(err, errOverBudget) {
		return nil, errors.New("malformed JSON: a key longer than 64 KiB")
	}
	if err != nil {
		return nil, jsonError(err)
	}
	return tok, nil
}

// element reads one whole value of at most MaxElement bytes.
func (s *scanner) element(what string) (json.RawMessage, error) {
	s.br.left = MaxElement
	var raw json.RawMessage
	if err := s.dec.Decode(&raw); err != nil {
		if errors.Is(err, errOverBudget) {
			return nil, fmt.Errorf("%s: more than the limit of %s of JSON", what, sidefile.Bytes(MaxElement))
		}
		return nil, fmt.Errorf("%s: %w", what, jsonError(err))
	}
	return raw, nil
}

// emit checks a parsed passage's text sizes and hands it to visit.
func (s *scanner) emit(p Passage, where string) error {
	i := s.n
	s.n++
	if s.keep != nil && !s.keep(i) {
		return nil
	}
	if err := checkSizes(p); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if !s.visit(i, p) {
		return errStop
	}
	return nil
}

// passages reads the elements of the project's array shape up to its closing bracket.
func (s *scanner) passages() error {
	for s.dec.More() {
		what := fmt.Sprintf("passage %d", s.n)
		raw, err := s.element(what)
		if err != nil {
			return err
		}
		if s.keep != nil && !s.keep(s.n) {
			s.n++
			continue
		}
		p, err := parsePassage(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := s.emit(p, what); err != nil {
			return err
		}
	}
	_, err := s.token() // ]
	return err
}

// v11 reads the SQuAD v1.1 object: "data" is read article by article, other keys
// ("version") are skipped.
func (s *scanner) v11() error {
	sawData := false
	for s.dec.More() {
		tok, err := s.token()
		if err != nil {
			return err
		}
		if key, _ := tok.(string); key != "data" {
			if _, err := s.element(fmt.Sprintf("key %q", key)); err != nil {
				return err
			}
			continue
		}
		sawData = true
		if tok, err = s.token(); err != nil {
			return err
		}
		if tok != json.Delim('[') {
			return fmt.Errorf(`"data" is not an array (found %v): %s`, describe(tok), shapes)
		}
		for a := 0; s.dec.More(); a++ {
			raw, err := s.element(fmt.Sprintf("article %d", a))
			if err != nil {
				return err
			}
			if err := s.article(a, raw); err != nil {
				return err
			}
		}
		if _, err := s.token(); err != nil { // ]
			return err
		}
	}
	if !sawData {
		return fmt.Errorf(`a JSON object without "data": %s`, shapes)
	}
	_, err := s.token() // }
	return err
}

// article turns one v1.1 article into passages, one per paragraph.
func (s *scanner) article(a int, raw json.RawMessage) error {
	obj, err := object(raw)
	if err != nil {
		return fmt.Errorf("article %d: %w", a, err)
	}
	title, err := nonEmptyString(obj, "title")
	if err != nil {
		return fmt.Errorf("article %d: %w", a, err)
	}
	var paras []json.RawMessage
	if err := json.Unmarshal(obj["paragraphs"], &paras); err != nil || paras == nil {
		return fmt.Errorf(`article %d (%q): "paragraphs" is missing or not an array`, a, clip(title))
	}
	for j, pr := range paras {
		where := fmt.Sprintf("passage %d (article %d %q, paragraph %d)", s.n, a, clip(title), j)
		p, err := parseParagraph(title, pr)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if err := s.emit(p, where); err != nil {
			return err
		}
	}
	return nil
}

// parseParagraph reads {"context", "qas": [{"question", "answers": [{"text"}], "is_impossible"}]}.
func parseParagraph(title string, raw json.RawMessage) (Passage, error) {
	obj, err := object(raw)
	if err != nil {
		return Passage{}, err
	}
	p := Passage{Title: title, Questions: []Question{}}
	if p.Context, err = nonEmptyString(obj, "context"); err != nil {
		return Passage{}, err
	}
	var qas []json.RawMessage
	if err := json.Unmarshal(obj["qas"], &qas); err != nil || qas == nil {
		return Passage{}, errors.New(`"qas" is missing or not an array`)
	}
	for k, qr := range qas {
		q, ok, err := parseQA(qr)
		if err != nil {
			return Passage{}, fmt.Errorf("question %d: %w", k, err)
		}
		if ok {
			p.Questions = append(p.Questions, q)
		}
	}
	return p, nil
}

// parseQA reads one v1.1 question; ok is false for an unanswerable one.
func parseQA(raw json.RawMessage) (q Question, ok bool, err error) {
	obj, err := object(raw)
	if err != nil {
		return q, false, err
	}
	if imp, has := obj["is_impossible"]; has {
		var b bool
		if err := json.Unmarshal(imp, &b); err != nil {
			return q, false, fmt.Errorf(`"is_impossible" is not true or false (%s)`, snippet(imp))
		}
		if b {
			return q, false, nil
		}
	}
	if q.Question, err = nonEmptyString(obj, "question"); err != nil {
		return q, false, err
	}
	var answers []json.RawMessage
	if err := json.Unmarshal(obj["answers"], &answers); err != nil || len(answers) == 0 {
		return q, false, errors.New(`"answers" is missing, empty or not an array`)
	}
	first, err := object(answers[0])
	if err != nil {
		return q, false, fmt.Errorf("answer 0: %w", err)
	}
	if q.Answer, err = nonEmptyString(first, "text"); err != nil {
		return q, false, fmt.Errorf("answer 0: %w", err)
	}
	return q, true, nil
}

// checkSizes refuses a text over MaxText bytes: tokenizing it would cost far more than
// any model's context can use.
func checkSizes(p Passage) error {
	check := func(field string, s string) error {
		if len(s) > MaxText {
			return fmt.Errorf("%s is %s, over the limit of %s", field, sidefile.Bytes(int64(len(s))), sidefile.Bytes(MaxText))
		}
		return nil
	}
	if err := check(`"title"`, p.Title); err != nil {
		return err
	}
	if err := check(`"context"`, p.Context); err != nil {
		return err
	}
	for i, q := range p.Questions {
		if err := check(fmt.Sprintf(`question %d: "question"`, i), q.Question); err != nil {
			return err
		}
		if err := check(fmt.Sprintf(`question %d: "answer"`, i), q.Answer); err != nil {
			return err
		}
	}
	return nil
}

// jsonError words a decoder error; the file's end comes as "unexpected end".
func jsonError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("malformed JSON: unexpected end of file")
	}
	if errors.Is(err, errOverBudget) {
		return err
	}
	return fmt.Errorf("malformed JSON: %w", err)
}

// describe names a top-level token for an error.
func describe(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Delim:
		return string(t)
	default:
		return fmt.Sprintf("%v", t)
	}
}

// clip shortens a title for an error message.
func clip(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return s
}
