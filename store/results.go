package store

import (
	"database/sql"
	"fmt"
	"time"
)

// Round is one ReST-EM round's outcome: the reward statistics, how many edits the
// filter kept, and the policy adapter trained on them.
type Round struct {
	RunID                         int64
	Round                         int
	MeanReward, StdReward         float64
	Kept                          int
	PolicyAdapterPath, PolicyHash string
	TrainLoss                     float64
	At                            time.Time
}

// SaveRound inserts or replaces the (run, round) row.
func (db *DB) SaveRound(r Round) error {
	r.At = orNow(r.At)
	return db.write(fmt.Sprintf("save round %d of run %d", r.Round, r.RunID), func(tx *sql.Tx) error {
		if err := db.needOwnRun(tx, r.RunID); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO rounds (run_id, round, mean_reward, std_reward, kept, policy_adapter_path, policy_hash, train_loss, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (run_id, round) DO UPDATE SET mean_reward = excluded.mean_reward, std_reward = excluded.std_reward,
				kept = excluded.kept, policy_adapter_path = excluded.policy_adapter_path, policy_hash = excluded.policy_hash,
				train_loss = excluded.train_loss, at = excluded.at`,
			r.RunID, r.Round, r.MeanReward, r.StdReward, r.Kept, r.PolicyAdapterPath, r.PolicyHash, r.TrainLoss, fmtTime(r.At))
		return err
	})
}

// Rounds lists the run's rounds in order.
func (db *DB) Rounds(runID int64) ([]Round, error) {
	var out []Round
	err := db.read(fmt.Sprintf("read rounds of run %d", runID), func(tx *sql.Tx) error {
		if err := db.needRun(tx, runID); err != nil {
			return err
		}
		var err error
		out, err = queryRounds(tx, runID)
		return err
	})
	return out, err
}

func queryRounds(tx *sql.Tx, runID int64) ([]Round, error) {
	rows, err := tx.Query(`SELECT round, mean_reward, std_reward, kept, policy_adapter_path, policy_hash, train_loss, at
		FROM rounds WHERE run_id = ? ORDER BY round`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Round
	for rows.Next() {
		r := Round{RunID: runID}
		if err := rows.Scan(&r.Round, flt{&r.MeanReward}, flt{&r.StdReward}, &r.Kept, &r.PolicyAdapterPath, &r.PolicyHash,
			flt{&r.TrainLoss}, tm{&r.At}); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RetentionCell is accuracy on an earlier task after a continual step: one cell of
// the retention matrix (Step is the number of updates merged so far).
type RetentionCell struct {
	RunID      int64
	Step, Task int
	Accuracy   float64
}

// SaveRetention inserts or replaces each (run, step, task) cell, all in one
// transaction.
func (db *DB) SaveRetention(cells []RetentionCell) error {
	return db.write("save retention", func(tx *sql.Tx) error {
		ids := make([]int64, len(cells))
		for i, c := range cells {
			ids[i] = c.RunID
		}
		if err := db.needRuns(tx, ids); err != nil {
			return err
		}
		st, err := tx.Prepare(`INSERT INTO retention (run_id, step, task, accuracy) VALUES (?, ?, ?, ?)
			ON CONFLICT (run_id, step, task) DO UPDATE SET accuracy = excluded.accuracy`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, c := range cells {
			if _, err := st.Exec(c.RunID, c.Step, c.Task, c.Accuracy); err != nil {
				return fmt.Errorf("run %d step %d task %d: %w", c.RunID, c.Step, c.Task, err)
			}
		}
		return nil
	})
}

// needRuns checks each distinct run id once (it exists, and this handle still owns
// it when it claimed it), so a bad id gets "no run N" rather
// than "FOREIGN KEY constraint failed".
func (db *DB) needRuns(tx *sql.Tx, ids []int64) error {
	seen := map[int64]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			if err := db.needOwnRun(tx, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// Retention lists the run's retention cells by (step, task).
func (db *DB) Retention(runID int64) ([]RetentionCell, error) {
	var out []RetentionCell
	err := db.read(fmt.Sprintf("read retention of run %d", runID), func(tx *sql.Tx) error {
		if err := db.needRun(tx, runID); err != nil {
			return err
		}
		var err error
		out, err = queryRetention(tx, runID)
		return err
	})
	return out, err
}

func queryRetention(tx *sql.Tx, runID int64) ([]RetentionCell, error) {
	rows, err := tx.Query(`SELECT step, task, accuracy FROM retention WHERE run_id = ? ORDER BY step, task`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RetentionCell
	for rows.Next() {
		c := RetentionCell{RunID: runID}
		if err := rows.Scan(&c.Step, &c.Task, flt{&c.Accuracy}); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Metric is one named run-level result (a baseline table cell, "cpt/base_micro", ...).
type Metric struct {
	RunID int64
	Name  string
	Value float64
}

// SaveMetrics inserts or replaces each (run, name), all in one transaction.
func (db *DB) SaveMetrics(ms []Metric) error {
	for _, m := range ms {
		if m.Name == "" {
			return db.wrap("save metrics", invalid("a metric of run %d has no name", m.RunID))
		}
	}
	return db.write("save metrics", func(tx *sql.Tx) error {
		ids := make([]int64, len(ms))
		for i, m := range ms {
			ids[i] = m.RunID
		}
		if err := db.needRuns(tx, ids); err != nil {
			return err
		}
		st, err := tx.Prepare(`INSERT INTO metrics (run_id, name, value) VALUES (?, ?, ?)
			ON CONFLICT (run_id, name) DO UPDATE SET value = excluded.value`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, m := range ms {
			if _, err := st.Exec(m.RunID, m.Name, m.Value); err != nil {
				return fmt.Errorf("metric %q of run %d: %w", m.Name, m.RunID, err)
			}
		}
		return nil
	})
}

// Metrics lists the run's metrics by name.
func (db *DB) Metrics(runID int64) ([]Metric, error) {
	var out []Metric
	err := db.read(fmt.Sprintf("read metrics of run %d", runID), func(tx *sql.Tx) error {
		if err := db.needRun(tx, runID); err != nil {
			return err
		}
		var err error
		out, err = queryMetrics(tx, runID)
		return err
	})
	return out, err
}

func queryMetrics(tx *sql.Tx, runID int64) ([]Metric, error) {
	rows, err := tx.Query(`SELECT name, value FROM metrics WHERE run_id = ? ORDER BY name`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Metric
	for rows.Next() {
		m := Metric{RunID: runID}
		if err := rows.Scan(&m.Name, flt{&m.Value}); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
