package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Ledger entry kinds and statuses.
const (
	LedgerBase      = "base"      // the model folder itself: the root of a version tree
	LedgerContinual = "continual" // a merged continual-mode step
	LedgerPolicy    = "policy"    // a ReST-EM policy update

	LedgerCommitted = "committed" // applied: the entry is a model version
	LedgerHeld      = "held"      // waiting for a person's verdict
	LedgerRejected  = "rejected"  // never applied
)

// LedgerEntry is one weight change the engine committed, held or rejected. A committed
// entry is a model version: its parent's weights plus its adapter (merged or attached).
type LedgerEntry struct {
	ID          int64
	RunID       int64
	Parent      int64  // 0 for a base entry
	Kind        string // LedgerBase, LedgerContinual, LedgerPolicy
	Step        int    // continual task index or ReST-EM round
	Status      string // LedgerCommitted, LedgerHeld, LedgerRejected
	BaseHash    string // base entries: content hash of the model folder
	AdapterPath string
	AdapterHash string
	Merged      bool
	Fingerprint string // hash of this version's logits on a fixed input (committed entries)
	CandidateID int64  // the candidate the change came from (0 for none)
	Source      string // the task the edit came from
	Edit        string
	Reward      float64
	Review      string          // "", "approve", "reject", "auto"
	Guard       json.RawMessage // the guard's verdict with its numbers
	Reason      string
	At          time.Time
}

func validLedger(e LedgerEntry) error {
	switch {
	case e.Kind != LedgerBase && e.Kind != LedgerContinual && e.Kind != LedgerPolicy:
		return invalid("ledger kind %q is not base, continual or policy", e.Kind)
	case e.Status != LedgerCommitted && e.Status != LedgerHeld && e.Status != LedgerRejected:
		return invalid("ledger status %q is not committed, held or rejected", e.Status)
	case e.Kind == LedgerBase && (e.Parent != 0 || e.BaseHash == ""):
		return invalid("a base entry has no parent and needs the base hash")
	case e.Kind != LedgerBase && (e.Parent == 0 || e.AdapterHash == ""):
		return invalid("a %s entry needs a parent version and an adapter hash", e.Kind)
	case len(e.Guard) > 0 && !json.Valid(e.Guard):
		return invalid("guard verdict is not valid JSON")
	}
	return nil
}

// SaveLedgerEntry appends e and returns its id. The parent must be a committed entry
// (of any run: a rollback run's first entry has a parent in the run it came from).
func (db *DB) SaveLedgerEntry(e LedgerEntry) (int64, error) {
	op := fmt.Sprintf("save ledger entry (run %d, %s %d)", e.RunID, e.Kind, e.Step)
	if err := validLedger(e); err != nil {
		return 0, db.wrap(op, err)
	}
	e.At = orNow(e.At)
	var id int64
	err := db.write(op, func(tx *sql.Tx) error {
		if err := db.needOwnRun(tx, e.RunID); err != nil {
			return err
		}
		var parent, cand any
		if e.Parent != 0 {
			var st string
			err := tx.QueryRow(`SELECT status FROM ledger WHERE id = ?`, e.Parent).Scan(&st)
			if errors.Is(err, sql.ErrNoRows) {
				return db.notFound("model version", e.Parent)
			} else if err != nil {
				return err
			}
			if st != LedgerCommitted {
				return invalid("parent %d is %s, not a committed version", e.Parent, st)
			}
			parent = e.Parent
		}
		if e.CandidateID != 0 {
			cand = e.CandidateID
		}
		res, err := tx.Exec(`INSERT INTO ledger (run_id, parent_id, kind, step, status, base_hash, adapter_path, adapter_hash,
			merged, fingerprint, candidate_id, source, edit, reward, review, guard, reason, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.RunID, parent, e.Kind, e.Step, e.Status, e.BaseHash, e.AdapterPath, e.AdapterHash, e.Merged, e.Fingerprint,
			cand, e.Source, e.Edit, e.Reward, e.Review, jsonArg(e.Guard), e.Reason, fmtTime(e.At))
		if isUnique(err) {
			return fmt.Errorf("%w: run %d already has a %s entry for step %d", ErrDuplicate, e.RunID, e.Kind, e.Step)
		}
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, err
}

// SettleLedgerEntry records the decision on a held entry: committed (with the version's
// fingerprint) or rejected, with the reviewer's verdict and reason (added to the guard's).
// Only a held entry can be settled, and only once.
func (db *DB) SettleLedgerEntry(id int64, status, review, reason, fingerprint string) error {
	op := fmt.Sprintf("settle ledger entry %d", id)
	if status != LedgerCommitted && status != LedgerRejected {
		return db.wrap(op, invalid("a held entry becomes committed or rejected, not %q", status))
	}
	return db.write(op, func(tx *sql.Tx) error {
		var st string
		var run int64
		err := tx.QueryRow(`SELECT status, run_id FROM ledger WHERE id = ?`, id).Scan(&st, &run)
		if errors.Is(err, sql.ErrNoRows) {
			return db.notFound("ledger entry", id)
		} else if err != nil {
			return err
		}
		if err := db.owns(tx, run); err != nil {
			return err
		}
		if st != LedgerHeld {
			return invalid("entry %d is %s, not held", id, st)
		}
		// The reviewer's reason goes after the guard's, which stays.
		_, err = tx.Exec(`UPDATE ledger SET status = ?, review = ?,
			reason = CASE WHEN ? = '' THEN reason WHEN reason = '' THEN ? ELSE reason || '; review: ' || ? END,
			fingerprint = ? WHERE id = ?`, status, review, reason, reason, reason, fingerprint, id)
		return err
	})
}

const ledgerCols = `id, run_id, parent_id, kind, step, status, base_hash, adapter_path, adapter_hash, merged, fingerprint,
	candidate_id, source, edit, reward, review, guard, reason, at`

func scanLedger(s rowScanner, e *LedgerEntry) error {
	var parent, cand sql.NullInt64
	err := s.Scan(&e.ID, &e.RunID, &parent, &e.Kind, &e.Step, &e.Status, &e.BaseHash, &e.AdapterPath, &e.AdapterHash,
		&e.Merged, &e.Fingerprint, &cand, &e.Source, &e.Edit, flt{&e.Reward}, &e.Review, rawJSON{(*[]byte)(&e.Guard)}, &e.Reason, tm{&e.At})
	e.Parent, e.CandidateID = parent.Int64, cand.Int64
	return err
}

func queryLedger(tx *sql.Tx, where string, args ...any) ([]LedgerEntry, error) {
	rows, err := tx.Query(`SELECT `+ledgerCols+` FROM ledger WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LedgerEntry
	for rows.Next() {
		var e LedgerEntry
		if err := scanLedger(rows, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Ledger is the run's entries in the order they were written (the audit trail).
func (db *DB) Ledger(runID int64) ([]LedgerEntry, error) {
	var out []LedgerEntry
	err := db.read(fmt.Sprintf("read ledger of run %d", runID), func(tx *sql.Tx) error {
		if err := db.needRun(tx, runID); err != nil {
			return err
		}
		var err error
		out, err = queryLedger(tx, `run_id = ?`, runID)
		return err
	})
	return out, err
}

// LedgerEntryByID reads one entry (a version id is a ledger id).
func (db *DB) LedgerEntryByID(id int64) (LedgerEntry, error) {
	var e LedgerEntry
	err := db.read(fmt.Sprintf("read ledger entry %d", id), func(tx *sql.Tx) error {
		err := scanLedger(tx.QueryRow(`SELECT `+ledgerCols+` FROM ledger WHERE id = ?`, id), &e)
		if errors.Is(err, sql.ErrNoRows) {
			return db.notFound("model version", id)
		}
		return err
	})
	return e, err
}

// VersionChain is the path from the base entry to version id, root first: the base
// and the ordered adapters that make the version. Every entry on it is committed.
func (db *DB) VersionChain(id int64) ([]LedgerEntry, error) {
	var out []LedgerEntry
	err := db.read(fmt.Sprintf("read version chain of %d", id), func(tx *sql.Tx) error {
		seen := map[int64]bool{}
		for cur := id; cur != 0; {
			if seen[cur] {
				return fmt.Errorf("version %d: the parent links form a cycle", id)
			}
			seen[cur] = true
			var e LedgerEntry
			err := scanLedger(tx.QueryRow(`SELECT `+ledgerCols+` FROM ledger WHERE id = ?`, cur), &e)
			if errors.Is(err, sql.ErrNoRows) {
				return db.notFound("model version", cur)
			} else if err != nil {
				return err
			}
			if e.Status != LedgerCommitted {
				return invalid("version %d is %s: only committed entries are versions", e.ID, e.Status)
			}
			out = append(out, e)
			cur = e.Parent
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		if out[0].Kind != LedgerBase {
			return fmt.Errorf("version %d: the chain does not start at a base entry", id)
		}
		return nil
	})
	return out, err
}

// VersionTree is every ledger entry of the family of runs that runID belongs to (the
// run it branched from, that run's parent, ..., and every run branched from any of
// them), in id order: the whole tree of versions a rollback can reach from this run.
func (db *DB) VersionTree(runID int64) ([]LedgerEntry, error) {
	var out []LedgerEntry
	err := db.read(fmt.Sprintf("read version tree of run %d", runID), func(tx *sql.Tx) error {
		if err := db.needRun(tx, runID); err != nil {
			return err
		}
		root := runID
		for seen := map[int64]bool{}; !seen[root]; {
			seen[root] = true
			var p sql.NullInt64
			if err := tx.QueryRow(`SELECT parent_id FROM runs WHERE id = ?`, root).Scan(&p); err != nil {
				return err
			}
			if !p.Valid {
				break
			}
			root = p.Int64
		}
		var err error
		out, err = queryLedger(tx, `run_id IN (WITH RECURSIVE fam(id) AS (SELECT ? UNION SELECT r.id FROM runs r JOIN fam ON r.parent_id = fam.id)
			SELECT id FROM fam)`, root)
		return err
	})
	return out, err
}

// HeadVersion is the run's latest committed entry; ok is false when it has none.
func (db *DB) HeadVersion(runID int64) (e LedgerEntry, ok bool, err error) {
	err = db.read(fmt.Sprintf("read head version of run %d", runID), func(tx *sql.Tx) error {
		if err := db.needRun(tx, runID); err != nil {
			return err
		}
		err := scanLedger(tx.QueryRow(`SELECT `+ledgerCols+` FROM ledger WHERE run_id = ? AND status = ? ORDER BY id DESC LIMIT 1`,
			runID, LedgerCommitted), &e)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		ok = err == nil
		return err
	})
	return e, ok, err
}

// LedgerStep reads the run's entry for one continual step or ReST-EM round.
func (db *DB) LedgerStep(runID int64, kind string, step int) (e LedgerEntry, ok bool, err error) {
	err = db.read(fmt.Sprintf("read ledger of run %d (%s %d)", runID, kind, step), func(tx *sql.Tx) error {
		err := scanLedger(tx.QueryRow(`SELECT `+ledgerCols+` FROM ledger WHERE run_id = ? AND kind = ? AND step = ?`, runID, kind, step), &e)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		ok = err == nil
		return err
	})
	return e, ok, err
}

func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
}
