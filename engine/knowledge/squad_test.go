package knowledge

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seal/internal/shareddata"
)

func TestLoadSQuADReal(t *testing.T) {
	path := shareddata.PathOrSkip(t, "data", "squad", "squad_val.json")
	ps, err := LoadSQuAD(path)
	if err != nil {
		t.Fatal(err)
	}
	questions := 0
	var invalid []string
	for i, p := range ps {
		questions += len(p.Questions)
		if err := p.Validate(); err != nil {
			invalid = append(invalid, fmt.Sprintf("passage %d (%s): %v", i, p.Title, err))
		}
	}
	if len(ps) != 2067 || questions != 10570 {
		t.Errorf("got %d passages and %d questions, want 2067 and 10570", len(ps), questions)
	}
	if len(invalid) > 0 {
		t.Errorf("%d passages do not validate:\n%s", len(invalid), strings.Join(invalid, "\n"))
	}
	first := ps[0]
	if first.Title != "Super Bowl 50" || first.Questions[0] != (Question{"Which NFL team represented the AFC at Super Bowl 50?", "Denver Broncos"}) {
		t.Errorf("first passage: %q %+v", first.Title, first.Questions[0])
	}
}

func TestLoadSQuADErrorsNameFileAndElement(t *testing.T) {
	dir := t.TempDir()
	ok := `{"title": "T", "context": "C", "questions": [{"question": "Q?", "answer": "A"}]}`
	cases := []struct {
		name, json, want string
	}{
		{"not an array", `{"title": "T"}`, `a JSON object without "data": want a JSON array of passages`},
		{"null", `null`, "not a SQuAD file (found null): want a JSON array of passages"},
		{"truncated", `[` + ok, "malformed JSON: unexpected end of file"},
		{"trailing data", `[` + ok + `] x`, "malformed JSON"},
		{"element not object", `[` + ok + `, 3]`, "passage 1: not a JSON object (3)"},
		{"empty context", `[` + ok + `, {"title": "T", "context": " \u00a0\n", "questions": []}]`, `passage 1: "context" is empty`},
		{"missing title", `[{"context": "C", "questions": []}]`, `passage 0: "title" is missing`},
		{"title case matters", `[{"Title": "T", "context": "C", "questions": []}]`, `passage 0: "title" is missing`},
		{"title not string", `[{"title": 5, "context": "C", "questions": []}]`, `passage 0: "title" is not a string (5)`},
		{"title null", `[{"title": null, "context": "C", "questions": []}]`, `passage 0: "title" is not a string (null)`},
		{"questions missing", `[{"title": "T", "context": "C"}]`, `passage 0: "questions" is missing`},
		{"questions not array", `[{"title": "T", "context": "C", "questions": {}}]`, `passage 0: "questions" is not an array`},
		{"empty answer", `[{"title": "T", "context": "C", "questions": [{"question": "Q", "answer": "A"}, {"question": "Q", "answer": ""}]}]`, `passage 0: question 1: "answer" is empty`},
		{"answer not string", `[{"title": "T", "context": "C", "questions": [{"question": "Q", "answer": ["A"]}]}]`, `passage 0: question 0: "answer" is not a string`},
	}
	for _, c := range cases {
		path := filepath.Join(dir, "squad_val.json")
		if err := os.WriteFile(path, []byte(c.json), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadSQuAD(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("%s: error %v, want %q after the path", c.name, err, c.want)
		}
	}
	if _, err := LoadSQuAD(filepath.Join(dir, "absent.json")); err == nil || !strings.Contains(err.Error(), "absent.json") {
		t.Errorf("missing file: %v", err)
	}
}

func TestParseSQuADKeepsUnknownKeysAndEmptyQuestionLists(t *testing.T) {
	data := `[{"title": "T", "context": "C", "questions": [{"question": "Q?", "answer": "A", "id": 7}], "completions": ["x"], "prompt": "p"},
	          {"title": "U", "context": "D", "questions": []}]`
	ps, err := ParseSQuAD([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Questions[0] != (Question{"Q?", "A"}) {
		t.Fatalf("got %+v", ps)
	}
	if err := ps[0].Validate(); err != nil {
		t.Errorf("first passage: %v", err)
	}
	if err := ps[1].Validate(); !errors.Is(err, ErrNoQuestions) {
		t.Errorf("passage without questions: Validate = %v, want ErrNoQuestions", err)
	}
	if ps, err := ParseSQuAD([]byte(`[]`)); err != nil || len(ps) != 0 {
		t.Errorf("empty array: %v %v", ps, err)
	}
}

func TestValidate(t *testing.T) {
	q := []Question{{"Q?", "A"}}
	cases := []struct {
		p    Passage
		want string
	}{
		{Passage{"T", "C", q}, ""},
		{Passage{"", "C", q}, `"title" is empty`},
		{Passage{"T", "\u2028\t", q}, `"context" is empty`},
		{Passage{"T", "C", nil}, "no questions"},
		{Passage{"T", "C", []Question{{"Q?", "A"}, {" ", "A"}}}, `question 1: "question" is empty`},
		{Passage{"T", "C", []Question{{"Q?", "\u3000"}}}, `question 0: "answer" is empty`},
	}
	for _, c := range cases {
		err := c.p.Validate()
		if (c.want == "") != (err == nil) || err != nil && err.Error() != c.want {
			t.Errorf("Validate(%+v) = %v, want %q", c.p, err, c.want)
		}
	}
}
