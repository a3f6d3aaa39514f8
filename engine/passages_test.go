package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"seal/models/llama/llamatest"
	"strings"
	"testing"

	"seal/engine/knowledge"
	"seal/models/tiny"
)

func TestSliceWithin(t *testing.T) {
	s := DefaultSpec()
	s.Data = "f.json"
	cases := []struct {
		offset, n, total int
		want             string
	}{
		{0, 0, 5, ""},
		{0, 5, 5, ""},
		{2, 3, 5, ""},
		{0, 1000000, 203, "f.json has 203 passages; --passages 1000000 (from --offset 0) asks for more; use --passages 0 for all"},
		{200, 4, 203, "--passages 4 (from --offset 200) asks for more"},
		{203, 0, 203, "f.json has 203 passages; --offset 203 is past the end"},
	}
	for _, c := range cases {
		s.Offset, s.Tasks = c.offset, c.n
		err := EvalSlice(s).Within(c.total, "passages")
		if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("offset %d passages %d of %d: %v, want %q", c.offset, c.n, c.total, err, c.want)
		}
	}
	// The RL tasks: every round's block from the file's start, named by --rl-data.
	s.RLData, s.Rounds, s.RLPassages, s.Offset = "rl.json", 3, 8, 5
	rl := RLSlice(s)
	if rl.Offset != 0 || rl.Count != 24 || rl.Key("4") != "rl:4" || EvalSlice(s).Key("4") != "4" || rl.Name() != "--rl-data rl.json" {
		t.Errorf("RL slice %+v: key %q, name %q", rl, rl.Key("4"), rl.Name())
	}
	if err := rl.Within(24, "ARC sub-tasks"); err != nil {
		t.Errorf("a file of exactly 3 × 8 RL tasks: %v", err)
	}
	want := "--rl-data rl.json has 23 ARC sub-tasks; --rounds 3 × --rl-passages 8 asks for 24 (disjoint between rounds)"
	if err := rl.Within(23, "ARC sub-tasks"); err == nil || err.Error() != want {
		t.Errorf("a file one task short: %v, want %q", err, want)
	}
}

// embeddedRunner is a runner with the embedded model (context 2048) and nothing else.
func embeddedRunner(t *testing.T) *runner {
	dir, err := tiny.Dir()
	if err != nil {
		t.Fatal(err)
	}
	l, err := loadLM(dir, llamatest.Backend())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.close)
	s := EmbeddedSpec()
	s.Data = "d.json"
	return &runner{spec: s, lm: l}
}

func TestPassageFitsTheContext(t *testing.T) {
	x := embeddedRunner(t)
	q := []knowledge.Question{{Question: "Who?", Answer: "Ann"}}
	if err := passageFits(x.lm, x.spec, knowledge.Passage{Title: "T", Context: "Ann lives in Varn.", Questions: q}, 0); err != nil {
		t.Fatalf("a short passage: %v", err)
	}
	long := knowledge.Passage{Title: "T", Context: strings.Repeat("Ann lives in Varn. ", 600), Questions: q}
	err := passageFits(x.lm, x.spec, long, 7)
	for _, want := range []string{"d.json: passage 7: its self-edit prompt is ", fmt.Sprintf("--edit-tokens %d", x.spec.EditTokens), "longer than the model's context of 2048 tokens"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	// A passage whose self-edit prompt fits but whose in-context question prompt does not.
	mid := knowledge.Passage{Title: "T", Context: strings.Repeat("Ann lives in Varn. ", 60), Questions: []knowledge.Question{{Question: strings.Repeat("Who is it? ", 400), Answer: "Ann"}}}
	if err := passageFits(x.lm, x.spec, mid, 1); err == nil || !strings.Contains(err.Error(), "question 0's prompt with the passage in context is ") || !strings.Contains(err.Error(), fmt.Sprintf("--qa-tokens %d", x.spec.QATokens)) {
		t.Errorf("long question: %v", err)
	}
}

// probePassages reads the same prefix of the file that the whole file gave the guard.
func TestProbePassagesIsThePrefixTheGuardWalks(t *testing.T) {
	var ps []knowledge.Passage
	for i := range 50 {
		p := knowledge.Passage{Title: "T", Context: strings.Repeat("x", i+1), Questions: []knowledge.Question{{Question: "Q?", Answer: "A"}, {Question: "R?", Answer: "B"}}}
		if i == 3 {
			p.Questions = []knowledge.Question{} // a training-only passage asks nothing
		}
		ps = append(ps, p)
	}
	b, _ := json.Marshal(ps)
	path := filepath.Join(t.TempDir(), "d.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	x := &runner{spec: DefaultSpec(), tasks: []Task{passageTask{Passage: ps[0]}, passageTask{Passage: ps[1]}}}
	x.spec.Guard.Probes = 5
	got, err := x.probePassages(path)
	if err != nil {
		t.Fatal(err)
	}
	// Passages 0 and 1 are the run's, 3 asks nothing: 2, 4 and 5 give 6 >= 5 questions.
	if len(got) != 6 {
		t.Fatalf("prefix of %d passages, want 6", len(got))
	}
	x.spec.Guard.Probes = 0
	if got, _ := x.probePassages(path); len(got) != 0 {
		t.Fatalf("no probes asked: %d passages read", len(got))
	}
}
