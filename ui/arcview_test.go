package ui

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"seal/engine"
	"seal/engine/arc"
	"seal/store"
)

// arcTask is a hand-made ARC task: the rule is "swap colours 1 and 2"; the test input
// is 4x5 so a clipped render has something to cut.
func arcTask() arc.Task {
	return arc.Task{ID: "swap12",
		Train: []arc.Pair{
			{Input: arc.Grid{{1, 2}, {0, 1}}, Output: arc.Grid{{2, 1}, {0, 2}}},
			{Input: arc.Grid{{2, 2, 0}}, Output: arc.Grid{{1, 1, 0}}},
		},
		Test: []arc.Pair{{Input: arc.Grid{{1, 0, 0, 0, 2}, {0, 1, 0, 2, 0}, {0, 0, 3, 0, 0}, {0, 2, 0, 1, 0}},
			Output: arc.Grid{{2, 0, 0, 0, 1}, {0, 2, 0, 1, 0}, {0, 0, 3, 0, 0}, {0, 1, 0, 2, 0}}}},
	}
}

func arcSpec() engine.RunSpec {
	s := engine.DefaultSpec()
	s.Domain, s.Tasks, s.K, s.Rounds = "arc", 1, 2, 1
	return s
}

// arcEvalEvents are what an ARC run sends for one task: two candidates, one right
// with two attempts, one with a wrong grid.
func arcEvalEvents() []engine.Event {
	t := arcTask()
	q := fmt.Sprintf("%s test 0\n%s", t.ID, arc.Format(t.Test[0].Input))
	gold := arc.Format(t.Test[0].Output)
	wrong := arc.Format(arc.Grid{{0, 0}, {0, 0}})
	w0 := engine.Where{Run: 1, Cand: 0}
	w1 := engine.Where{Run: 1, Cand: 1}
	return []engine.Event{
		engine.RunStarted{Run: 1, Name: "arc demo", Tasks: 1},
		engine.EditDone{Where: w0, Edit: `{"data_generation":{"use_basic_augmentations":true}}`},
		engine.EvalItem{Where: w0, Phase: "adapted", Question: q, Answer: gold + "\n--- or ---\n" + wrong, Gold: gold, Correct: true},
		engine.EvalItem{Where: w1, Phase: "adapted", Question: q, Answer: wrong, Gold: gold, Correct: false},
	}
}

func TestGridLinesDigitsAndClip(t *testing.T) {
	g := arcTask().Test[0].Input
	got := strings.Join(gridLines(g, 10, 4), "\n")
	if want := "1 0 0 0 2 \n0 1 0 2 0 \n0 0 3 0 0 \n0 2 0 1 0 "; got != want {
		t.Fatalf("uncut grid:\n%q\nwant\n%q", got, want)
	}
	cut := gridLines(g, 7, 3)
	if len(cut) != 3 || cut[0] != "1 0 0 …" || cut[2] != "⋮+2" {
		t.Fatalf("a grid larger than its room is cut with markers: %q", cut)
	}
	if gridLines(g, 1, 5) != nil || gridLines(nil, 10, 5) != nil {
		t.Fatal("no room or no grid draws nothing")
	}
}

func TestGridLinesColoured(t *testing.T) {
	lipgloss.SetColorProfile(termenv.TrueColor)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	l := gridLines(arc.Grid{{0, 2}}, 10, 1)
	if len(l) != 1 || !strings.Contains(l[0], "48;2;0;0;0m  ") || !strings.Contains(l[0], "48;2;255;65;54m  ") {
		t.Fatalf("cells are two spaces on the palette's background (black, red): %q", l)
	}
	if strings.TrimSpace(stripANSI(l[0])) != "" {
		t.Fatalf("coloured cells show no digits: %q", l)
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	esc := false
	for _, r := range s {
		switch {
		case r == 0x1b:
			esc = true
		case esc && r == 'm':
			esc = false
		case !esc:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestParseDemosReadsTheSelfEditPrompt(t *testing.T) {
	task := arcTask()
	ds, err := parseDemos(arc.SelfEditUser(task))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || !ds[0].in.Equal(task.Train[0].Input) || !ds[1].out.Equal(task.Train[1].Output) {
		t.Fatalf("demonstrations %v, want %v", ds, task.Train)
	}
	for _, bad := range []string{"Input:\n1 2\n", "Input:\n1 x\n\nOutput:\n1\n\n", "preface\nInput:\n1\n\nOutput:\n1\n\n"} {
		if _, err := parseDemos(bad); err == nil || !strings.Contains(err.Error(), "arc task context") {
			t.Errorf("%q: error %v, want one naming the arc task context", bad, err)
		}
	}
}

func FuzzParseDemos(f *testing.F) {
	f.Add(arc.SelfEditUser(arcTask()))
	f.Add("Input:\n1\n\nOutput:\n\n\n------")
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := parseDemos(s)
		if err != nil {
			return
		}
		for _, d := range ds {
			if d.in.Check() != nil || d.out.Check() != nil {
				t.Fatalf("an invalid grid was accepted: %v", d)
			}
			_ = sideBySide([]gridBlock{{caption: "in", grid: d.in}, {caption: "out", grid: d.out}}, " → ", 40, 10)
		}
	})
}

func TestSideBySideSharesTheWidth(t *testing.T) {
	bs := arcAnswerBlocks(arc.Format(arcTask().Test[0].Input), "not a grid", arc.Format(arcTask().Test[0].Output))
	out := sideBySide(bs, " → ", 30, 6)
	checkFits(t, "side by side", out, 30, 5)
	for _, want := range []string{"input 4×5", "not a grid", "→"} {
		if !strings.Contains(out, want) && !strings.Contains(out, want[:4]) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
}

func TestGoldenLiveARC(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		c := &clock{t0}
		a := liveApp(t, arcSpec(), c, size[0], size[1])
		feed(a, arcEvalEvents()...)
		got := a.View()
		checkFits(t, "arc", got, size[0], size[1])
		for _, want := range []string{"swap12 test 0", "✓", "✗", "expected 4×5", "input 4×5", "attempt 2 2×2"} {
			if size[0] == 80 && (want == "✓" || want == "attempt 2 2×2") {
				continue // only the newest answer fits; the older one is not cut to nothing
			}
			if !strings.Contains(got, want) {
				t.Errorf("%v: the ARC eval pane lacks %q", size, want)
			}
		}
		golden(t, "live-arc-"+sizeName(size), got)
	}
}

// arcStore is a store holding one finished ARC run as the engine writes it.
func arcStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg, _ := json.Marshal(arcSpec())
	id, err := db.CreateRun(store.Run{Name: "arc run", Domain: "arc", Model: "/m/tiny", Status: store.StatusDone, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	task := arcTask()
	qs := []store.QA{{Question: arc.Format(task.Test[0].Input), Answer: arc.Format(task.Test[0].Output)}}
	if err := db.SaveTasks(id, []store.Task{{Index: 0, Key: task.ID, Title: task.ID, Context: arc.SelfEditUser(task), Questions: qs}}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range arcEvalEvents()[2:] {
		e := ev.(engine.EvalItem)
		c := &store.Candidate{RunID: id, Index: e.Cand, Kind: store.KindSelfEdit, Edit: "{}", Status: store.CandidateDone, Sampling: []byte("{}"),
			Evals: []store.EvalItem{{Question: 0, Prompt: e.Question, Text: e.Answer, Gold: e.Gold, Correct: e.Correct, Grader: "exact"}}}
		if _, err := db.SaveCandidate(c); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestARCRunDetail(t *testing.T) {
	db := arcStore(t)
	text, err := runDetail(db, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"task 0: swap12", "demo 0 input 2×2", "output 2×2", "1 2 ", "2 1 ", // a demonstration, drawn
		"attempt 1 4×5", "attempt 2 2×2", "expected 4×5", "prediction 2×2", "✓ test 0", "✗ test 0",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("ARC detail lacks %q:\n%s", want, text)
		}
	}
	narrow, _ := runDetail(db, 1, 30)
	if !strings.Contains(narrow, "…") {
		t.Errorf("a narrow detail cuts grids with a marker:\n%s", narrow)
	}
	// A live view rebuilt from the store draws the same grids.
	st, err := storedState(db, 1, t0)
	if err != nil {
		t.Fatal(err)
	}
	v := newLiveView()
	v.st = st
	if body := v.arcEvalBody(100, 20); !strings.Contains(body, "expected 4×5") || !strings.Contains(body, "input 4×5") {
		t.Errorf("stored ARC evals:\n%s", body)
	}
}

// TestARCGuardWorkersFitEverySize: grids, the guard and the workers lines on small
// terminals: the frame keeps its size, and tiny ones do not panic.
func TestARCGuardWorkersFitEverySize(t *testing.T) {
	for _, size := range [][2]int{{60, 16}, {80, 24}, {30, 8}, {10, 3}, {1, 1}, {0, 0}} {
		c := &clock{t0}
		a := liveApp(t, arcSpec(), c, size[0], size[1])
		feed(a, arcEvalEvents()...)
		feed(a, guardEvents()...)
		feed(a, workersEvent())
		for _, k := range []string{"", "z", "tab", "tab", "tab", "z", "+"} {
			if k != "" {
				press(a, k)
			}
			got := a.View()
			if size[0] >= 60 {
				checkFits(t, fmt.Sprintf("arc %v after %q", size, k), got, size[0], size[1])
			}
		}
	}
}
