package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
)

// Task is one input of a run (a passage, an ARC task) with its held-out questions.
type Task struct {
	RunID               int64
	Index               int
	Key, Title, Context string
	Questions           []QA // stored as JSON
}

// QA is one question with its gold answer.
type QA struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// SaveTasks replaces the run's task list with tasks (so a resumed run that re-saves
// the same tasks changes nothing). Task.RunID may be 0 or runID.
func (db *DB) SaveTasks(runID int64, tasks []Task) error {
	op := fmt.Sprintf("save tasks of run %d", runID)
	qs := make([]string, len(tasks))
	seen := make(map[int]bool, len(tasks))
	for i, t := range tasks {
		if t.RunID != 0 && t.RunID != runID {
			return db.wrap(op, invalid("task %d says run %d", t.Index, t.RunID))
		}
		if seen[t.Index] {
			return db.wrap(op, invalid("task index %d appears twice", t.Index))
		}
		seen[t.Index] = true
		q := t.Questions
		if q == nil {
			q = []QA{}
		}
		b, err := json.Marshal(q)
		if err != nil {
			return db.wrap(op, err)
		}
		qs[i] = string(b)
	}
	return db.write(op, func(tx *sql.Tx) error {
		if err := db.needOwnRun(tx, runID); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM tasks WHERE run_id = ?`, runID); err != nil {
			return err
		}
		st, err := tx.Prepare(`INSERT INTO tasks (run_id, idx, key, title, context, questions) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i, t := range tasks {
			if _, err := st.Exec(runID, t.Index, t.Key, t.Title, t.Context, qs[i]); err != nil {
				return fmt.Errorf("task %d: %w", t.Index, err)
			}
		}
		return nil
	})
}

// Tasks lists the run's tasks by index.
func (db *DB) Tasks(runID int64) ([]Task, error) {
	var out []Task
	err := db.read(fmt.Sprintf("read tasks of run %d", runID), func(tx *sql.Tx) error {
		if err := db.needRun(tx, runID); err != nil {
			return err
		}
		var err error
		out, err = queryTasks(tx, runID)
		return err
	})
	return out, err
}

func queryTasks(tx *sql.Tx, runID int64) ([]Task, error) {
	rows, err := tx.Query(`SELECT idx, key, title, context, questions FROM tasks WHERE run_id = ? ORDER BY idx`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		t := Task{RunID: runID}
		var qs string
		if err := rows.Scan(&t.Index, &t.Key, &t.Title, &t.Context, &qs); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(qs), &t.Questions); err != nil {
			return nil, fmt.Errorf("task %d: questions: %w", t.Index, err)
		}
		if len(t.Questions) == 0 {
			t.Questions = nil
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
