package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Run statuses.
const (
	StatusRunning   = "running"
	StatusPaused    = "paused"
	StatusDone      = "done"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

func validRunStatus(s string) bool {
	switch s {
	case StatusRunning, StatusPaused, StatusDone, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// Run is one invocation of the workbench (a ReST-EM run, a baseline sweep, a
// continual run). Config is the full RunSpec as JSON, so a run can be replayed.
type Run struct {
	ID                                 int64
	Name, Domain, Model, Status, Error string
	Config                             json.RawMessage
	CreatedAt, UpdatedAt               time.Time
	Parent                             int64 // 0, or the run this one branched from
	// Owner is the process that executes (or last executed) the run. Reads show a
	// running run whose owner's lease has lapsed as StatusInterrupted.
	Owner Owner
}

// CreateRun inserts r and returns its id. An empty Status means running; zero
// times mean now.
func (db *DB) CreateRun(r Run) (int64, error) {
	if r.Status == "" {
		r.Status = StatusRunning
	}
	if !validRunStatus(r.Status) {
		return 0, db.wrap("create run", invalid("unknown run status %q", r.Status))
	}
	if len(r.Config) > 0 && !json.Valid(r.Config) {
		return 0, db.wrap("create run", invalid("config is not valid JSON"))
	}
	r.CreatedAt = orNow(r.CreatedAt)
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	var id int64
	err := db.write("create run", func(tx *sql.Tx) error {
		var parent any
		if r.Parent != 0 {
			if err := runExists(tx, r.Parent); err != nil {
				return fmt.Errorf("parent: %w", db.notFound("run", r.Parent))
			}
			parent = r.Parent
		}
		res, err := tx.Exec(`INSERT INTO runs (name, domain, model, status, error, config, parent_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Name, r.Domain, r.Model, r.Status, r.Error, jsonArg(r.Config), parent, fmtTime(r.CreatedAt), fmtTime(r.UpdatedAt))
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, err
}

// runExists is ErrNotFound-ish (sql.ErrNoRows) when run id is missing; callers turn
// it into db.notFound inside their transaction.
func runExists(tx *sql.Tx, id int64) error {
	var one int
	return tx.QueryRow(`SELECT 1 FROM runs WHERE id = ?`, id).Scan(&one)
}

// needRun checks inside a write or read transaction that run id exists.
func (db *DB) needRun(tx *sql.Tx, id int64) error {
	err := runExists(tx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return db.notFound("run", id)
	}
	return err
}

// SetRunStatus records a status change (and the error text, for failed runs).
func (db *DB) SetRunStatus(id int64, status, errMsg string) error {
	op := fmt.Sprintf("set status of run %d", id)
	if !validRunStatus(status) {
		return db.wrap(op, invalid("unknown run status %q", status))
	}
	return db.write(op, func(tx *sql.Tx) error {
		if err := db.owns(tx, id); err != nil {
			return err
		}
		res, err := tx.Exec(`UPDATE runs SET status = ?, error = ?, updated_at = ? WHERE id = ?`, status, errMsg, fmtTime(time.Now()), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return db.notFound("run", id)
		}
		return nil
	})
}

const runCols = `r.id, r.name, r.domain, r.model, r.status, r.error, r.config, r.created_at, r.updated_at, COALESCE(r.parent_id, 0),
	r.owner_pid, r.owner_host, r.owner_token, r.lease_until`

func runDest(r *Run) []any {
	return []any{&r.ID, &r.Name, &r.Domain, &r.Model, &r.Status, &r.Error, rawJSON{(*[]byte)(&r.Config)},
		tm{&r.CreatedAt}, tm{&r.UpdatedAt}, &r.Parent, &r.Owner.PID, &r.Owner.Host, &r.Owner.Token, tm{&r.Owner.Until}}
}

// Run is one run; ErrNotFound ("store: no run 7 in <path>") when missing.
func (db *DB) Run(id int64) (Run, error) {
	var r Run
	err := db.read(fmt.Sprintf("read run %d", id), func(tx *sql.Tx) error {
		err := tx.QueryRow(`SELECT `+runCols+` FROM runs r WHERE r.id = ?`, id).Scan(runDest(&r)...)
		if errors.Is(err, sql.ErrNoRows) {
			return db.notFound("run", id)
		}
		return err
	})
	r.derive(time.Now())
	return r, err
}

// RunFilter narrows Runs; empty fields match everything, Limit <= 0 means all.
type RunFilter struct {
	Domain, Model, Status string
	Limit                 int
}

// RunSummary is a run with the counts the history list shows.
type RunSummary struct {
	Run
	Candidates, Rounds int
	Invalid            int     // candidates with status invalid
	MeanReward         float64 // over candidates that are not baselines (kind not baseline_*); 0 if none
	LastActivity       time.Time
}

// Runs lists runs, newest first.
func (db *DB) Runs(f RunFilter) ([]RunSummary, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"r.domain", f.Domain}, {"r.model", f.Model}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	// running, paused and interrupted are told apart by the lease, after the query.
	leased := f.Status == StatusRunning || f.Status == StatusPaused || f.Status == StatusInterrupted
	switch {
	case leased:
		where = append(where, "r.status IN (?, ?)")
		args = append(args, StatusRunning, StatusPaused)
	case f.Status != "":
		where = append(where, "r.status = ?")
		args = append(args, f.Status)
	}
	q := `SELECT ` + runCols + `,
		(SELECT count(*) FROM candidates c WHERE c.run_id = r.id),
		(SELECT count(*) FROM rounds x WHERE x.run_id = r.id),
		(SELECT count(*) FROM candidates c WHERE c.run_id = r.id AND c.status = 'invalid'),
		COALESCE((SELECT avg(c.reward) FROM candidates c WHERE c.run_id = r.id AND c.kind NOT LIKE 'baseline\_%' ESCAPE '\'), 0),
		max(r.updated_at,
			COALESCE((SELECT max(c.created_at) FROM candidates c WHERE c.run_id = r.id), ''),
			COALESCE((SELECT max(x.at) FROM rounds x WHERE x.run_id = r.id), ''),
			COALESCE((SELECT max(v.at) FROM reviews v JOIN candidates c ON c.id = v.candidate_id WHERE c.run_id = r.id), ''))
		FROM runs r`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY r.created_at DESC, r.id DESC`
	if f.Limit > 0 && !leased {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	now := time.Now()
	var out []RunSummary
	err := db.read("list runs", func(tx *sql.Tx) error {
		rows, err := tx.Query(q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s RunSummary
			dest := append(runDest(&s.Run), &s.Candidates, &s.Rounds, &s.Invalid, flt{&s.MeanReward}, tm{&s.LastActivity})
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			if s.derive(now); leased && s.Status != f.Status {
				continue
			}
			out = append(out, s)
			if leased && f.Limit > 0 && len(out) == f.Limit {
				break // the rest need not be read: SQL could not limit a status derived here
			}
		}
		return rows.Err()
	})
	return out, err
}
