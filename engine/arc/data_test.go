package arc

import (
	"reflect"
	"strings"
	"testing"
)

// fourDemos is a 4-demonstration task of small grids.
func fourDemos() Task {
	gs := randomGrids(10, 11)
	t := Task{ID: "four"}
	for i := 0; i < 8; i += 2 {
		t.Train = append(t.Train, Pair{gs[i], gs[i+1]})
	}
	t.Test = []Pair{{gs[8], gs[9]}}
	return t
}

func TestLeaveOutSizes(t *testing.T) {
	task := fourDemos()
	for n, want := range map[int]struct{ tasks, demos int }{1: {4, 3}, 2: {12, 2}} {
		got := LeaveOut(task, n)
		if len(got) != want.tasks {
			t.Fatalf("leave-%d: %d tasks, want %d", n, len(got), want.tasks)
		}
		for _, p := range got {
			if len(p.Train) != want.demos || len(p.Test) != 1 {
				t.Fatalf("leave-%d: %d demos and %d tests", n, len(p.Train), len(p.Test))
			}
			// The held-out pair is a demonstration, never the real test, and not among the demos.
			if p.Test[0].Input.Equal(task.Test[0].Input) || containsPair(p.Train, p.Test[0]) || !containsPair(task.Train, p.Test[0]) {
				t.Fatalf("leave-%d: bad held-out pair", n)
			}
		}
	}
	two := Task{Train: task.Train[:2], Test: task.Test}
	if got := LeaveOut(two, 2); len(got) != 2 || len(got[0].Train) != 0 {
		t.Fatalf("2 demos leave-2: %d tasks with %d demos, want 2 with none", len(got), len(got[0].Train))
	}
	if got := LeaveOut(task, 3); got != nil {
		t.Fatal("only leave-1 and leave-2 exist")
	}
}

func containsPair(ps []Pair, p Pair) bool {
	for _, q := range ps {
		if q.Input.Equal(p.Input) && q.Output.Equal(p.Output) {
			return true
		}
	}
	return false
}

func TestTrainingTasks(t *testing.T) {
	task := fourDemos()
	// No augmentation: the 16 pseudo-tasks and their demo-shuffled copies, at most 2×16
	// (a copy whose shuffle kept the order is a duplicate).
	plain := TrainingTasks(task, EditConfig{}, 250, 0)
	if len(plain) < 16+8 || len(plain) > 32 {
		t.Fatalf("no augmentation: %d tasks, want 24-32", len(plain))
	}
	for _, p := range plain {
		if len(p.Test) != 1 || !containsPair(task.Train, p.Test[0]) {
			t.Fatal("an unaugmented task's test must be a demonstration")
		}
	}
	if again := TrainingTasks(task, EditConfig{}, 250, 0); !reflect.DeepEqual(again, plain) {
		t.Fatal("the same seed must give the same set")
	}
	// Every group: far more than 250 before the cut, so exactly 250 after, all within 30×30.
	all := TrainingTasks(task, FixedConfig(), 250, 0)
	if len(all) != 250 {
		t.Fatalf("all groups: %d tasks, want 250", len(all))
	}
	seen := map[string]bool{}
	for _, p := range all {
		if p.maxSide() > MaxSide {
			t.Fatalf("a grid of side %d survived", p.maxSide())
		}
		if seen[p.key()] {
			t.Fatal("duplicate task")
		}
		seen[p.key()] = true
	}
	if uncapped := TrainingTasks(task, FixedConfig(), 0, 0); len(uncapped) <= 250 {
		t.Fatalf("uncapped: %d tasks; the method says all groups give far more than 250", len(uncapped))
	}
	// A big grid drops the augmentations that would pass 30.
	big := Task{Train: []Pair{{New(20, 20), New(20, 20)}, {New(20, 20), New(20, 20)}}, Test: []Pair{{Input: New(20, 20)}}}
	for _, p := range TrainingTasks(big, EditConfig{Size: true}, 0, 0) {
		if p.maxSide() > MaxSide {
			t.Fatal("an augmented task over 30×30 survived")
		}
	}
}

func TestSubTasks(t *testing.T) {
	task := Task{ID: "x", Train: fourDemos().Train, Test: []Pair{{Grid{{1}}, Grid{{2}}}, {Grid{{3}}, Grid{{4}}}}}
	subs := SubTasks(task)
	if len(subs) != 2 || subs[0].ID != "x-0" || subs[1].ID != "x-1" || len(subs[1].Test) != 1 ||
		!subs[1].Test[0].Input.Equal(Grid{{3}}) || len(subs[1].Train) != 4 {
		t.Fatalf("sub-tasks %+v", subs)
	}
}

func TestPalette(t *testing.T) {
	seen := map[string]bool{}
	for i, c := range Palette {
		if len(c) != 7 || c[0] != '#' || seen[c] {
			t.Fatalf("colour %d: %q", i, c)
		}
		for _, h := range c[1:] {
			if !strings.ContainsRune("0123456789ABCDEF", h) {
				t.Fatalf("colour %d: %q is not hex", i, c)
			}
		}
		seen[c] = true
	}
}
