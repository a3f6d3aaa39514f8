package arc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"seal/models/sidefile"
)

// Limits on ARC files: the Kaggle evaluation challenges are 2 MB and their largest task
// 25 KB of JSON; a file or a task far beyond that is refused before it is parsed.
const (
	MaxFile = 64 << 20 // a challenges or solutions file, checked before it is read
	MaxTask = 1 << 20  // the JSON of one task (or of one task's solutions)
)

// Load reads a Kaggle ARC-Prize-2024 challenges file and, when solutionsPath is not
// empty, its solutions file, and returns the tasks in file order (the reference walks
// them in that order, docs/seal-method.md §2.1). Every error names the file, the task, the
// pair and the field.
func Load(challengesPath, solutionsPath string) ([]Task, error) {
	ch, err := sidefile.ReadFile(challengesPath, MaxFile)
	if err != nil {
		return nil, fmt.Errorf("arc: %w", err)
	}
	var sol []byte
	if solutionsPath != "" {
		if sol, err = sidefile.ReadFile(solutionsPath, MaxFile); err != nil {
			return nil, fmt.Errorf("arc: %w", err)
		}
	}
	return Parse(ch, challengesPath, sol, solutionsPath)
}

// Parse is Load over bytes; the names are used in error messages. solutions nil means
// no solutions file: tests keep whatever outputs the challenges file carries (the
// original ARC-AGI format puts them there), else none.
func Parse(challenges []byte, challengesName string, solutions []byte, solutionsName string) ([]Task, error) {
	ids, raws, err := orderedObject(challenges, challengesName)
	if err != nil {
		return nil, err
	}
	tasks := make([]Task, len(ids))
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		if id == "" {
			return nil, fmt.Errorf("arc: %s: task %d has an empty id", challengesName, i)
		}
		if _, dup := index[id]; dup {
			return nil, fmt.Errorf("arc: %s: task %q appears twice", challengesName, id)
		}
		index[id] = i
		t, err := parseTask(id, raws[i])
		if err != nil {
			return nil, fmt.Errorf("arc: %s: %w", challengesName, err)
		}
		tasks[i] = t
	}
	if solutions == nil {
		return tasks, nil
	}
	sids, sraws, err := orderedObject(solutions, solutionsName)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(sids))
	for k, id := range sids {
		i, ok := index[id]
		if !ok {
			return nil, fmt.Errorf("arc: %s: task %q has solutions but is not in %s", solutionsName, id, challengesName)
		}
		if seen[id] {
			return nil, fmt.Errorf("arc: %s: task %q appears twice", solutionsName, id)
		}
		seen[id] = true
		var grids []json.RawMessage
		if err := strictUnmarshal(sraws[k], &grids); err != nil {
			return nil, fmt.Errorf("arc: %s: task %q: want a list of output grids: %v", solutionsName, id, err)
		}
		t := &tasks[i]
		if len(grids) != len(t.Test) {
			return nil, fmt.Errorf("arc: %s: task %q: %d solutions for %d test inputs", solutionsName, id, len(grids), len(t.Test))
		}
		for j, raw := range grids {
			g, err := parseGrid(raw)
			if err != nil {
				return nil, fmt.Errorf("arc: %s: task %q: test %d: output: %v", solutionsName, id, j, err)
			}
			t.Test[j].Output = g
		}
	}
	for _, id := range ids {
		if !seen[id] {
			return nil, fmt.Errorf("arc: %s: task %q has no solutions", solutionsName, id)
		}
	}
	return tasks, nil
}

// orderedObject splits a top-level JSON object into its keys and values in file order
// (encoding/json's maps lose the order).
func orderedObject(data []byte, name string) ([]string, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	fail := func(err error) ([]string, []json.RawMessage, error) {
		return nil, nil, fmt.Errorf("arc: %s: %s", name, describeJSONError(data, dec.InputOffset(), err))
	}
	tok, err := dec.Token()
	if err != nil {
		return fail(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fail(fmt.Errorf("want a JSON object of tasks keyed by id, found %v", tok))
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fail(fmt.Errorf("task %q: %w", key, err))
		}
		if len(raw) > MaxTask {
			return nil, nil, fmt.Errorf("arc: %s: task %q is %s of JSON, over the limit of %s", name, clipText(key), sidefile.Bytes(int64(len(raw))), sidefile.Bytes(MaxTask))
		}
		keys, vals = append(keys, key), append(vals, raw)
	}
	if _, err := dec.Token(); err != nil {
		return fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail(fmt.Errorf("unexpected data after the top-level object"))
	}
	return keys, vals, nil
}

// describeJSONError adds a line and column to a syntax error.
func describeJSONError(data []byte, offset int64, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		offset = se.Offset
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "malformed JSON: unexpected end of file"
	}
	offset = min(max(offset, 0), int64(len(data)))
	line := 1 + bytes.Count(data[:offset], []byte("\n"))
	col := int(offset) - bytes.LastIndexByte(data[:offset], '\n')
	return fmt.Sprintf("malformed JSON at line %d column %d: %v", line, col, err)
}

type rawTask struct {
	Train *[]rawPair `json:"train"`
	Test  *[]rawPair `json:"test"`
}

type rawPair struct {
	Input  json.RawMessage `json:"input"`
	Output json.RawMessage `json:"output"`
}

func parseTask(id string, raw json.RawMessage) (Task, error) {
	var rt rawTask
	if err := strictUnmarshal(raw, &rt); err != nil {
		return Task{}, fmt.Errorf("task %q: want {\"train\": [...], \"test\": [...]}: %v", id, err)
	}
	if rt.Train == nil || len(*rt.Train) == 0 {
		return Task{}, fmt.Errorf("task %q: train: no demonstrations", id)
	}
	if rt.Test == nil || len(*rt.Test) == 0 {
		return Task{}, fmt.Errorf("task %q: test: no test inputs", id)
	}
	t := Task{ID: id}
	for i, rp := range *rt.Train {
		p, err := parsePair(rp, true)
		if err != nil {
			return Task{}, fmt.Errorf("task %q: train pair %d: %v", id, i, err)
		}
		t.Train = append(t.Train, p)
	}
	for i, rp := range *rt.Test {
		p, err := parsePair(rp, false)
		if err != nil {
			return Task{}, fmt.Errorf("task %q: test %d: %v", id, i, err)
		}
		t.Test = append(t.Test, p)
	}
	return t, nil
}

func parsePair(rp rawPair, needOutput bool) (Pair, error) {
	var p Pair
	var err error
	if isNull(rp.Input) {
		return p, fmt.Errorf("input: missing")
	}
	if p.Input, err = parseGrid(rp.Input); err != nil {
		return p, fmt.Errorf("input: %v", err)
	}
	if isNull(rp.Output) {
		if needOutput {
			return p, fmt.Errorf("output: missing")
		}
		return p, nil
	}
	if p.Output, err = parseGrid(rp.Output); err != nil {
		return p, fmt.Errorf("output: %v", err)
	}
	return p, nil
}

func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

func parseGrid(raw json.RawMessage) (Grid, error) {
	var rows [][]any // any, not json.Number: that would take the string "1" as a colour
	if err := strictUnmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("want a list of rows of colours 0-9: %v", err)
	}
	g := make(Grid, len(rows))
	for r, row := range rows {
		if row == nil {
			return nil, fmt.Errorf("row %d is not a list", r)
		}
		g[r] = make([]int, len(row))
		for c, x := range row {
			n, ok := x.(json.Number)
			if !ok {
				return nil, fmt.Errorf("row %d column %d: %s is not a colour", r, c, clipText(fmt.Sprintf("%#v", x)))
			}
			v, err := n.Int64()
			if err != nil {
				return nil, fmt.Errorf("row %d column %d: %s is not an integer colour", r, c, clipText(n.String()))
			}
			if v < 0 || v > 9 {
				return nil, fmt.Errorf("row %d column %d: colour %d outside 0-9", r, c, v)
			}
			g[r][c] = int(v)
		}
	}
	if err := g.Check(); err != nil {
		return nil, err
	}
	return g, nil
}

func strictUnmarshal(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}
