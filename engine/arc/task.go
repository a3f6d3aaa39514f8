package arc

import (
	"fmt"
	"strings"
)

// Pair is one demonstration or test: an input grid and its output (nil for a test
// whose solution is not known).
type Pair struct {
	Input  Grid `json:"input"`
	Output Grid `json:"output,omitempty"`
}

// Task is one ARC task: demonstrations and one or more tests. A task counts as solved
// only when every test is (docs/seal-method.md §2.6).
type Task struct {
	ID    string
	Train []Pair
	Test  []Pair
}

// Solved reports whether every test has a known output (a solutions file was given).
func (t Task) Solved() bool {
	for _, p := range t.Test {
		if p.Output == nil {
			return false
		}
	}
	return len(t.Test) > 0
}

// SubTasks splits a task with m tests into m tasks "<id>-0" .. "<id>-<m-1>", each with
// every demonstration and one test, as the reference's loader does (§2.1). The paper's
// 11 training tasks are the first 12 sub-tasks of the filtered training file with the
// "-1" ones skipped.
func SubTasks(t Task) []Task {
	out := make([]Task, len(t.Test))
	for i := range t.Test {
		out[i] = Task{ID: fmt.Sprintf("%s-%d", t.ID, i), Train: clonePairs(t.Train), Test: clonePairs(t.Test[i : i+1])}
	}
	return out
}

// Clone returns a deep copy.
func (t Task) Clone() Task {
	c := Task{ID: t.ID, Train: clonePairs(t.Train), Test: clonePairs(t.Test)}
	return c
}

func clonePairs(ps []Pair) []Pair {
	if ps == nil {
		return nil
	}
	out := make([]Pair, len(ps))
	for i, p := range ps {
		out[i] = Pair{Input: p.Input.Clone()}
		if p.Output != nil {
			out[i].Output = p.Output.Clone()
		}
	}
	return out
}

// mapGrids returns a task with f applied to every grid (demonstrations, then tests).
func (t Task) mapGrids(f func(Grid) Grid) Task {
	out := Task{ID: t.ID, Train: make([]Pair, len(t.Train)), Test: make([]Pair, len(t.Test))}
	for i, p := range t.Train {
		out.Train[i] = Pair{Input: f(p.Input), Output: f(p.Output)}
	}
	for i, p := range t.Test {
		out.Test[i] = Pair{Input: f(p.Input)}
		if p.Output != nil {
			out.Test[i].Output = f(p.Output)
		}
	}
	return out
}

// maxSide is the largest side of any grid in the task.
func (t Task) maxSide() int {
	m := 0
	for _, ps := range [][]Pair{t.Train, t.Test} {
		for _, p := range ps {
			for _, g := range []Grid{p.Input, p.Output} {
				m = max(m, g.Rows(), g.Cols())
			}
		}
	}
	return m
}

// key identifies the task's grids (not its id), for de-duplication.
func (t Task) key() string {
	var b strings.Builder
	for _, ps := range [][]Pair{t.Train, t.Test} {
		for _, p := range ps {
			b.WriteString(p.Input.key())
			b.WriteByte('>')
			b.WriteString(p.Output.key())
			b.WriteByte('|')
		}
		b.WriteByte('#')
	}
	return b.String()
}

// Check reports the first thing that makes t unusable as a task: no demonstrations, no
// tests, or a grid that is empty, ragged, oversize or has a colour outside 0-9. Tasks
// from Load already pass; this is for tasks that arrive by other ways (a job message).
func (t Task) Check() error {
	if len(t.Train) == 0 || len(t.Test) == 0 {
		return fmt.Errorf("task %q: %d demonstrations and %d tests, need at least one of each", t.ID, len(t.Train), len(t.Test))
	}
	check := func(what string, i int, g Grid) error {
		if err := g.Check(); err != nil {
			return fmt.Errorf("task %q: %s %d: %w", t.ID, what, i, err)
		}
		return nil
	}
	for i, p := range t.Train {
		if err := check("demonstration input", i, p.Input); err != nil {
			return err
		}
		if err := check("demonstration output", i, p.Output); err != nil {
			return err
		}
	}
	for i, p := range t.Test {
		if err := check("test input", i, p.Input); err != nil {
			return err
		}
		if p.Output != nil {
			if err := check("test output", i, p.Output); err != nil {
				return err
			}
		}
	}
	return nil
}
