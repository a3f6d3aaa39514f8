package knowledge

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"seal/models/sidefile"
)

const v11Sample = `{"version": "1.1", "data": [
 {"title": "Super_Bowl_50", "paragraphs": [
   {"context": "Super Bowl 50 was an American football game.", "qas": [
     {"question": "Which NFL team won?", "id": "a1", "answers": [{"answer_start": 0, "text": "Denver Broncos"}, {"answer_start": 3, "text": "the Broncos"}]},
     {"question": "Where?", "id": "a2", "is_impossible": true, "answers": [], "plausible_answers": [{"text": "x", "answer_start": 0}]}]},
   {"context": "The game was played on February 7, 2016.", "qas": []}]},
 {"title": "Warsaw", "paragraphs": [
   {"context": "Warsaw is the capital of Poland.", "qas": [
     {"question": "Capital of Poland?", "id": "b1", "is_impossible": false, "answers": [{"text": "Warsaw", "answer_start": 0}]}]}]}]}`

func TestParseSQuADv11(t *testing.T) {
	ps, err := ParseSQuAD([]byte(v11Sample))
	if err != nil {
		t.Fatal(err)
	}
	want := []Passage{
		{"Super_Bowl_50", "Super Bowl 50 was an American football game.", []Question{{"Which NFL team won?", "Denver Broncos"}}},
		{"Super_Bowl_50", "The game was played on February 7, 2016.", []Question{}},
		{"Warsaw", "Warsaw is the capital of Poland.", []Question{{"Capital of Poland?", "Warsaw"}}},
	}
	if fmt.Sprint(ps) != fmt.Sprint(want) {
		t.Fatalf("got %+v\nwant %+v", ps, want)
	}
	if err := ps[1].Validate(); !errors.Is(err, ErrNoQuestions) {
		t.Errorf("a paragraph without answerable questions: Validate = %v, want ErrNoQuestions", err)
	}
}

func TestParseSQuADv11Errors(t *testing.T) {
	cases := []struct{ json, want string }{
		{`{"version": "1.1"}`, `a JSON object without "data": want a JSON array of passages`},
		{`{"data": {}}`, `"data" is not an array`},
		{`{"data": [{"title": "T"}]}`, `article 0 ("T"): "paragraphs" is missing`},
		{`{"data": [{"title": "T", "paragraphs": [{"context": "C", "qas": [{"question": "Q", "answers": []}]}]}]}`,
			`passage 0 (article 0 "T", paragraph 0): question 0: "answers" is missing, empty`},
		{`{"data": [{"title": "T", "paragraphs": [{"context": "C", "qas": []}, {"context": "", "qas": []}]}]}`,
			`passage 1 (article 0 "T", paragraph 1): "context" is empty`},
		{`{"data": [{"title": "T", "paragraphs": [{"context": "C", "qas": [{"question": "Q", "answers": [{"text": " "}]}]}]}]}`,
			`question 0: answer 0: "text" is empty`},
		{`"squad"`, `not a SQuAD file (found a string): want a JSON array of passages [{"title", "context", "questions": [{"question", "answer"}]}] or the SQuAD v1.1 object`},
	}
	for _, c := range cases {
		if _, err := ParseSQuAD([]byte(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.json, err, c.want)
		}
	}
}

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A 5 MB passage is refused, naming the file, the passage and the limit, after reading
// no more than that passage.
func TestLoadSQuADRefusesOversizedText(t *testing.T) {
	ok := `{"title": "T", "context": "C", "questions": [{"question": "Q?", "answer": "A"}]}`
	big := `{"title": "T", "context": "` + strings.Repeat("x", 5<<20) + `", "questions": []}`
	path := writeFile(t, "big.json", "["+ok+","+big+"]")
	_, err := LoadSQuAD(path)
	for _, want := range []string{path, "passage 1", `"context" is 5242880 bytes`, "limit of 65536 bytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %q", err, want)
		}
	}
	q := `{"title": "T", "context": "C", "questions": [{"question": "` + strings.Repeat("q", MaxText+1) + `", "answer": "A"}]}`
	if _, err := ParseSQuAD([]byte("[" + q + "]")); err == nil || !strings.Contains(err.Error(), `passage 0: question 0: "question" is 65537 bytes`) {
		t.Errorf("long question: %v", err)
	}
}

// One element over MaxElement stops the read at the budget (give or take the 64 KiB the
// decoder may have read ahead): its bytes are never held whole.
func TestLoadSQuADRefusesOversizedElement(t *testing.T) {
	junk := `{"title": "T", "context": "C", "questions": [], "completions": ["` + strings.Repeat("y", MaxElement+1<<17) + `"]}`
	_, err := ParseSQuAD([]byte("[" + junk + "]"))
	if err == nil || !strings.Contains(err.Error(), "passage 0: more than the limit of 16777216 bytes (16.0 MiB) of JSON") {
		t.Fatalf("got %v", err)
	}
}

// The file's size is checked before any byte is read: a sparse file one byte over the
// limit and /dev/zero are refused at once.
func TestLoadSQuADRefusesHugeFilesBeforeReading(t *testing.T) {
	path := writeFile(t, "sparse.json", "")
	if err := os.Truncate(path, MaxDataFile+1); err != nil {
		t.Fatal(err)
	}
	_, err := LoadSQuAD(path)
	var tl *sidefile.TooLarge
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "268435456 bytes") {
		t.Fatalf("got %v, want a too-large error naming the file and the limit", err)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := LoadSQuAD("/dev/zero"); !errors.Is(err, sidefile.ErrNotRegular) {
			t.Fatalf("/dev/zero: got %v", err)
		}
	}
}

// Loading 4 of 20000 passages keeps 4: the memory held afterwards is that of 4 passages,
// not of the file.
func TestLoadSQuADRangeKeepsOnlyTheSlice(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	ctx := strings.Repeat("a passage of some length. ", 40)
	for i := range 20000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"title": "T%d", "context": %q, "questions": [{"question": "Q%d?", "answer": "A"}]}`, i, ctx, i)
	}
	b.WriteString("]")
	path := writeFile(t, "many.json", b.String())
	b.Reset()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ps, total, err := LoadSQuADRange(path, 100, 4)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if total != 20000 || len(ps) != 4 || ps[0].Title != "T100" || ps[3].Title != "T103" {
		t.Fatalf("total %d, %d passages from %q", total, len(ps), ps[0].Title)
	}
	if held := int64(after.HeapAlloc) - int64(before.HeapAlloc); held > 1<<20 {
		t.Fatalf("%d bytes held after loading 4 passages of a %d-byte file", held, len(ctx)*20000)
	}
	runtime.KeepAlive(ps)
}

// The project's own shape round-trips through encoding/json (what WriteSQuAD writes).
func TestParseSQuADRoundTripsBothShapes(t *testing.T) {
	ps, err := ParseSQuAD([]byte(v11Sample))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(ps)
	again, err := ParseSQuAD(out)
	if err != nil || fmt.Sprint(again) != fmt.Sprint(ps) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, ps, again)
	}
}

func TestParseSQuADRefusesHugeKey(t *testing.T) {
	data := `{"` + strings.Repeat("k", 1<<17) + `": 1, "data": []}`
	if _, err := ParseSQuAD([]byte(data)); err == nil || !strings.Contains(err.Error(), "a key longer than 64 KiB") {
		t.Fatalf("got %v", err)
	}
}
