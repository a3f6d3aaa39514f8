package arc

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"seal/internal/shareddata"
)

const goodChallenges = `{
 "b": {"train": [{"input": [[1, 2]], "output": [[2, 1]]}, {"input": [[3, 0]], "output": [[0, 3]]}],
       "test": [{"input": [[4, 5]]}, {"input": [[6, 7]]}]},
 "a": {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[3]], "output": [[4]]}]}
}`

const goodSolutions = `{"a": [[[9]]], "b": [[[5, 4]], [[7, 6]]]}`

func TestParseKeepsFileOrderAndAttachesSolutions(t *testing.T) {
	tasks, err := Parse([]byte(goodChallenges), "c.json", []byte(goodSolutions), "s.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 2 || tasks[0].ID != "b" || tasks[1].ID != "a" {
		t.Fatalf("order: got %v", tasks)
	}
	b := tasks[0]
	if len(b.Train) != 2 || !b.Train[1].Output.Equal(Grid{{0, 3}}) || !b.Test[1].Output.Equal(Grid{{7, 6}}) || !b.Solved() {
		t.Fatalf("task b: %+v", b)
	}
	// The solutions file wins over an output carried in the challenges file.
	if !tasks[1].Test[0].Output.Equal(Grid{{9}}) {
		t.Fatalf("task a's test output: %v", tasks[1].Test[0].Output)
	}
	// Without a solutions file, the original ARC-AGI format's test outputs are kept.
	tasks, err = Parse([]byte(goodChallenges), "c.json", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if tasks[0].Solved() || !tasks[1].Solved() || !tasks[1].Test[0].Output.Equal(Grid{{4}}) {
		t.Fatalf("without solutions: %+v", tasks)
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	task := func(train, test string) string {
		return `{"t1": {"train": [` + train + `], "test": [` + test + `]}}`
	}
	okPair := `{"input": [[1]], "output": [[2]]}`
	okTest := `{"input": [[1]]}`
	cases := []struct {
		name, challenges, solutions string
		want                        []string // substrings of the error
	}{
		{"malformed JSON", `{"t1": {"train": [}`, "", []string{"c.json", "malformed JSON", "line 1"}},
		{"truncated", `{"t1": {"train": [`, "", []string{"c.json", "unexpected end"}},
		{"not an object", `[1, 2]`, "", []string{"c.json", "JSON object"}},
		{"trailing data", `{} {}`, "", []string{"c.json", "after the top-level"}},
		{"task not an object", `{"t1": 5}`, "", []string{"c.json", `task "t1"`}},
		{"empty id", `{"": {"train": [], "test": []}}`, "", []string{"c.json", "empty id"}},
		{"duplicate id", `{"t1": ` + task(okPair, okTest)[7:len(task(okPair, okTest))-1] + `, "t1": {}}`, "", []string{"appears twice"}},
		{"no train", `{"t1": {"test": [` + okTest + `]}}`, "", []string{`task "t1"`, "train", "no demonstrations"}},
		{"no test", `{"t1": {"train": [` + okPair + `]}}`, "", []string{`task "t1"`, "test", "no test inputs"}},
		{"missing input", task(`{"output": [[1]]}`, okTest), "", []string{"train pair 0", "input", "missing"}},
		{"missing output", task(okPair+`, {"input": [[1]]}`, okTest), "", []string{"train pair 1", "output", "missing"}},
		{"ragged", task(`{"input": [[1, 2], [3]], "output": [[1]]}`, okTest), "", []string{"train pair 0", "input", "ragged", "row 1"}},
		{"colour 10", task(okPair, `{"input": [[1, 10]]}`), "", []string{"test 0", "input", "row 0 column 1", "colour 10"}},
		{"negative colour", task(`{"input": [[1]], "output": [[-1]]}`, okTest), "", []string{"train pair 0", "output", "colour -1"}},
		{"fractional colour", task(`{"input": [[1.5]], "output": [[1]]}`, okTest), "", []string{"train pair 0", "input", "not an integer"}},
		{"string colour", task(`{"input": [["1"]], "output": [[1]]}`, okTest), "", []string{"train pair 0", "input"}},
		{"empty grid", task(`{"input": [], "output": [[1]]}`, okTest), "", []string{"train pair 0", "input", "empty"}},
		{"empty row", task(`{"input": [[]], "output": [[1]]}`, okTest), "", []string{"train pair 0", "input", "row 0 is empty"}},
		{"null row", task(`{"input": [null], "output": [[1]]}`, okTest), "", []string{"train pair 0", "input", "not a list"}},
		{"too tall", task(`{"input": [`+strings.Repeat("[1],", 30)+`[1]], "output": [[1]]}`, okTest), "", []string{"input", "31 rows"}},
		{"too wide", task(`{"input": [[`+strings.Repeat("1,", 31)+`1]], "output": [[1]]}`, okTest), "", []string{"input", "32 columns"}},
		{"solution count", task(okPair, okTest), `{"t1": [[[1]], [[2]]]}`, []string{"s.json", `task "t1"`, "2 solutions for 1 test"}},
		{"solution unknown id", task(okPair, okTest), `{"t1": [[[1]]], "zz": [[[1]]]}`, []string{"s.json", `"zz"`, "not in c.json"}},
		{"solution missing id", task(okPair, okTest), `{}`, []string{"s.json", `"t1"`, "no solutions"}},
		{"solution bad grid", task(okPair, okTest), `{"t1": [[[1, 2], [3]]]}`, []string{"s.json", "test 0", "output", "ragged"}},
		{"solution not a list", task(okPair, okTest), `{"t1": 3}`, []string{"s.json", "list of output grids"}},
		{"solutions malformed", task(okPair, okTest), `{"t1": [`, []string{"s.json", "unexpected end"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var sol []byte
			if c.solutions != "" {
				sol = []byte(c.solutions)
			}
			tasks, err := Parse([]byte(c.challenges), "c.json", sol, "s.json")
			if err == nil {
				t.Fatalf("accepted: %+v", tasks)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadNamesMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.json"), "")
	if err == nil || !strings.Contains(err.Error(), "nope.json") {
		t.Fatalf("got %v", err)
	}
}

func TestWriteFilesRoundTrip(t *testing.T) {
	tasks, err := Parse([]byte(goodChallenges), "c.json", []byte(goodSolutions), "s.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c, s := filepath.Join(dir, "c.json"), filepath.Join(dir, "s.json")
	if err := WriteFiles(c, s, tasks); err != nil {
		t.Fatal(err)
	}
	again, err := Load(c, s)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, tasks) {
		t.Fatalf("round trip changed the tasks:\n%+v\n%+v", tasks, again)
	}
	if _, err := MarshalSolutions([]Task{{ID: "x", Train: tasks[0].Train, Test: []Pair{{Input: Grid{{1}}}}}}); err == nil {
		t.Fatal("a task without test outputs has no solutions to write")
	}
}

// TestLoadRealFilteredSets loads the curated 1B subsets the paper uses (§2.1).
func TestLoadRealFilteredSets(t *testing.T) {
	dir := shareddata.PathOrSkip(t, "data", "arc")
	for _, c := range []struct {
		set   string
		ids   []string
		multi string // the one task with two tests
	}{
		{"training_%s_filtered_1B_training_set", []string{"44f52bb0", "4be741c5", "5582e5ca", "5614dbcf", "5bd6f4ac",
			"6150a2bd", "67e8384a", "6d0aefbc", "6e02f1e3", "8be77c9e", "8d5021e8", "8e1813be"}, "44f52bb0"},
		{"evaluation_%s_filtered_1B_eval_set", []string{"358ba94e", "59341089", "66e6c45b", "68b67ca3", "903d1b4a",
			"af24b4cc", "b1fc8b8e", "bc4146bd", "c7d4e6ad", "ce8d95cc"}, "b1fc8b8e"},
	} {
		name := func(kind string) string {
			return filepath.Join(dir, "arc-agi_"+strings.Replace(c.set, "%s", kind, 1)+".json")
		}
		tasks, err := Load(name("challenges"), name("solutions"))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, task := range tasks {
			ids = append(ids, task.ID)
			if !task.Solved() {
				t.Errorf("%s: no solutions", task.ID)
			}
			if want := map[bool]int{true: 2, false: 1}[task.ID == c.multi]; len(task.Test) != want {
				t.Errorf("%s: %d tests, want %d", task.ID, len(task.Test), want)
			}
		}
		if !reflect.DeepEqual(ids, c.ids) {
			t.Errorf("%s: ids in file order %v, want %v", c.set, ids, c.ids)
		}
	}
	// 6150a2bd is a half turn: its solution is the test input rotated by 180 degrees.
	tasks, err := Load(filepath.Join(dir, "arc-agi_training_challenges_filtered_1B_training_set.json"), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if task.ID == "6150a2bd" && Format(Rotate{2}.Apply(task.Test[0].Input)) != "[[0 0 4]\n [0 8 6]\n [5 3 6]]" {
			t.Errorf("6150a2bd test input %v", task.Test[0].Input)
		}
	}
}

func TestLoadFullARCFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir := shareddata.PathOrSkip(t, "data", "arc")
	for _, set := range []string{"training", "evaluation"} {
		c := shareddata.PathOrSkip(t, "data", "arc", "arc-agi_"+set+"_challenges.json")
		tasks, err := Load(c, filepath.Join(dir, "arc-agi_"+set+"_solutions.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(tasks) != 400 {
			t.Errorf("%s: %d tasks, want 400", set, len(tasks))
		}
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(goodChallenges), []byte(goodSolutions))
	f.Add([]byte(goodChallenges), []byte(nil))
	f.Add([]byte(`{"t": {"train": [{"input": [[1,2],[3]], "output": [[1]]}], "test": [{"input": [[0]]}]}}`), []byte(`{"t": [[[1]]]}`))
	f.Add([]byte(`{"t": {"train": [{"input": [[1e3]], "output": [[1]]}], "test": []}}`), []byte(`{"t": []}`))
	f.Add([]byte(`{"": null}`), []byte(`[`))
	f.Fuzz(func(t *testing.T, challenges, solutions []byte) {
		tasks, err := Parse(challenges, "c.json", solutions, "s.json")
		if err != nil {
			if tasks != nil {
				t.Fatal("tasks returned with an error")
			}
			return
		}
		for _, task := range tasks {
			if task.ID == "" || len(task.Train) == 0 || len(task.Test) == 0 {
				t.Fatalf("accepted an incomplete task %+v", task)
			}
			for _, ps := range [][]Pair{task.Train, task.Test} {
				for _, p := range ps {
					if err := p.Input.Check(); err != nil {
						t.Fatalf("accepted a bad grid: %v", err)
					}
					if p.Output != nil {
						if err := p.Output.Check(); err != nil {
							t.Fatalf("accepted a bad grid: %v", err)
						}
					}
				}
			}
		}
		// Whatever was accepted survives our own encoding.
		ch, err := MarshalChallenges(tasks)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(ch, "c2.json", nil, "")
		if err != nil {
			t.Fatalf("re-encoded tasks rejected: %v", err)
		}
		if len(again) != len(tasks) {
			t.Fatalf("%d tasks became %d", len(tasks), len(again))
		}
		if solutions != nil {
			sol, err := MarshalSolutions(tasks)
			if err != nil {
				t.Fatal(err)
			}
			if again, err = Parse(ch, "c2.json", sol, "s2.json"); err != nil || !reflect.DeepEqual(again, tasks) {
				t.Fatalf("round trip with solutions: %v", err)
			}
		}
	})
}
