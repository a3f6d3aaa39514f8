package knowledge

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func FuzzParseSQuAD(f *testing.F) {
	f.Add([]byte(`[{"title": "T", "context": "C", "questions": [{"question": "Q?", "answer": "A"}]}]`))
	f.Add([]byte(`[{"title": "T", "context": "C", "questions": [], "completions": ["x"]}]`))
	f.Add([]byte(`[{"title": "\u00a0", "context": "C", "questions": []}]`))
	f.Add([]byte(`[{"title": "T", "context": "C", "questions": [{"question": "Q?", "answer": null}]}]`))
	f.Add([]byte(`[1, "x", null, {}]`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[`))
	// The official SQuAD v1.1 shape, and v2.0's unanswerable questions.
	f.Add([]byte(v11Sample))
	f.Add([]byte(`{"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": "C", "qas": [{"question": "Q?", "id": "1", "answers": [{"answer_start": 0, "text": "A"}]}]}]}]}`))
	f.Add([]byte(`{"data": [{"title": "T", "paragraphs": [{"context": "C", "qas": [{"question": "Q?", "is_impossible": true, "answers": []}]}]}]}`))
	f.Add([]byte(`{"data": [], "version": 2}`))
	f.Add([]byte(`{"data": [{"title": "T", "paragraphs": [{"context": "C", "qas": [{"question": "Q?", "answers": [{"text": ""}]}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := ParseSQuAD(data)
		if err != nil {
			if ps != nil {
				t.Fatal("passages returned with an error")
			}
			return
		}
		// Accepted input re-validates: every passage is usable, or only lacks questions.
		for i, p := range ps {
			if err := p.Validate(); err != nil && !errors.Is(err, ErrNoQuestions) {
				t.Fatalf("passage %d accepted but invalid: %v", i, err)
			}
		}
		// And it survives a round trip through our own encoding.
		out, err := json.Marshal(ps)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseSQuAD(out)
		if err != nil {
			t.Fatalf("re-encoded passages rejected: %v", err)
		}
		if len(ps) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(normalizeEmpty(ps), normalizeEmpty(again)) {
			t.Fatalf("round trip changed the passages:\n%+v\n%+v", ps, again)
		}
	})
}

// normalizeEmpty makes nil and empty question lists compare equal.
func normalizeEmpty(ps []Passage) []Passage {
	out := make([]Passage, len(ps))
	for i, p := range ps {
		if len(p.Questions) == 0 {
			p.Questions = []Question{}
		}
		out[i] = p
	}
	return out
}

func FuzzTrainSequences(f *testing.F) {
	f.Add("Sure:\n1. A.\n2. B.", "Title", "  passage \u2028", true)
	f.Add("Who?\nAnswer: D.\nQuestion 2: Where?\nAnswer: S.", "T", "p", true)
	f.Add("a---b\r\n---\u00a0", "T\nU", "", false)
	f.Add("", "", "", true)
	f.Add("Question 1:\x85Answer:\xff", "\xff", "\x1c", true)
	f.Fuzz(func(t *testing.T, edit, title, passage string, split bool) {
		seqs := TrainSequences(edit, Passage{Title: title, Context: passage}, split)
		if len(seqs) == 0 {
			t.Fatal("no sequences")
		}
		if last := seqs[len(seqs)-1]; last != title+"\n"+pyStrip(passage) {
			t.Fatalf("last sequence %q is not title+passage", last)
		}
		for i, s := range seqs {
			if !strings.HasPrefix(s, title+"\n") {
				t.Fatalf("sequence %d %q lacks the title line", i, s)
			}
		}
		if split && pyStrip(edit) == "" && len(seqs) != 1 {
			t.Fatalf("an empty edit in split mode trains on the passage only, got %q", seqs)
		}
		if !split && len(seqs) < 2 {
			t.Fatalf("without splitting there is at least one edit segment: %q", seqs)
		}
	})
}
