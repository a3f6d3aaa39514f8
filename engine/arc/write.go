package arc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// MarshalChallenges writes tasks as a Kaggle challenges file (test outputs left out),
// keys in the order given.
func MarshalChallenges(tasks []Task) ([]byte, error) {
	return marshalOrdered(tasks, func(t Task) any {
		type test struct {
			Input Grid `json:"input"`
		}
		tests := make([]test, len(t.Test))
		for i, p := range t.Test {
			tests[i] = test{p.Input}
		}
		return struct {
			Train []Pair `json:"train"`
			Test  []test `json:"test"`
		}{t.Train, tests}
	})
}

// MarshalSolutions writes the tests' outputs as a Kaggle solutions file.
func MarshalSolutions(tasks []Task) ([]byte, error) {
	for _, t := range tasks {
		if !t.Solved() {
			return nil, fmt.Errorf("arc: task %q: a test has no output to write", t.ID)
		}
	}
	return marshalOrdered(tasks, func(t Task) any {
		out := make([]Grid, len(t.Test))
		for i, p := range t.Test {
			out[i] = p.Output
		}
		return out
	})
}

func marshalOrdered(tasks []Task, value func(Task) any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{")
	for i, t := range tasks {
		if i > 0 {
			b.WriteString(", ")
		}
		k, _ := json.Marshal(t.ID)
		v, err := json.Marshal(value(t))
		if err != nil {
			return nil, fmt.Errorf("arc: task %q: %w", t.ID, err)
		}
		b.Write(k)
		b.WriteString(": ")
		b.Write(v)
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// WriteFiles writes a challenges file and a solutions file for tasks.
func WriteFiles(challengesPath, solutionsPath string, tasks []Task) error {
	ch, err := MarshalChallenges(tasks)
	if err != nil {
		return err
	}
	sol, err := MarshalSolutions(tasks)
	if err != nil {
		return err
	}
	if err := os.WriteFile(challengesPath, ch, 0o644); err != nil {
		return fmt.Errorf("arc: %w", err)
	}
	if err := os.WriteFile(solutionsPath, sol, 0o644); err != nil {
		return fmt.Errorf("arc: %w", err)
	}
	return nil
}
