package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Review verdicts.
const (
	VerdictApprove = "approve"
	VerdictReject  = "reject"
)

// Review is one verdict on a candidate. Reviews are appended, never changed: an
// undo is a later review, and the latest (highest ID) counts.
type Review struct {
	ID, CandidateID int64
	Verdict         string // VerdictApprove | VerdictReject
	Reason          string // required for a rejection
	Source          string // "human" (the default), "auto:guard", ...
	Edited          string // the edit text when edit-then-approve
	At              time.Time
}

// SaveReview appends r and returns its id. A rejection needs a reason; Edited only
// goes with an approval.
func (db *DB) SaveReview(r Review) (int64, error) {
	op := fmt.Sprintf("save review of candidate %d", r.CandidateID)
	switch {
	case r.Verdict != VerdictApprove && r.Verdict != VerdictReject:
		return 0, db.wrap(op, invalid("verdict %q is neither %q nor %q", r.Verdict, VerdictApprove, VerdictReject))
	case r.Verdict == VerdictReject && strings.TrimSpace(r.Reason) == "":
		return 0, db.wrap(op, invalid("a rejection needs a reason"))
	case r.Verdict == VerdictReject && r.Edited != "":
		return 0, db.wrap(op, invalid("edited text goes with an approval, not a rejection"))
	}
	if r.Source == "" {
		r.Source = "human"
	}
	r.At = orNow(r.At)
	var id int64
	err := db.write(op, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRow(`SELECT 1 FROM candidates WHERE id = ?`, r.CandidateID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return db.notFound("candidate", r.CandidateID)
		} else if err != nil {
			return err
		}
		res, err := tx.Exec(`INSERT INTO reviews (candidate_id, verdict, reason, source, edited, at) VALUES (?, ?, ?, ?, ?, ?)`,
			r.CandidateID, r.Verdict, r.Reason, r.Source, r.Edited, fmtTime(r.At))
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, err
}

const reviewCols = `v.id, v.candidate_id, v.verdict, v.reason, v.source, v.edited, v.at`

func scanReview(s rowScanner, r *Review) error {
	return s.Scan(&r.ID, &r.CandidateID, &r.Verdict, &r.Reason, &r.Source, &r.Edited, tm{&r.At})
}

// LatestReviews maps each reviewed candidate of the run to its latest review.
func (db *DB) LatestReviews(runID int64) (map[int64]Review, error) {
	out := map[int64]Review{}
	err := db.read(fmt.Sprintf("read reviews of run %d", runID), func(tx *sql.Tx) error {
		if err := db.needRun(tx, runID); err != nil {
			return err
		}
		rows, err := tx.Query(`SELECT `+reviewCols+` FROM reviews v JOIN candidates c ON c.id = v.candidate_id
			WHERE c.run_id = ? AND v.id = (SELECT max(id) FROM reviews WHERE candidate_id = v.candidate_id)`, runID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r Review
			if err := scanReview(rows, &r); err != nil {
				return err
			}
			out[r.CandidateID] = r
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Reviews is the run's whole review history, oldest first (the audit trail).
func (db *DB) Reviews(runID int64) ([]Review, error) {
	var out []Review
	err := db.read(fmt.Sprintf("read reviews of run %d", runID), func(tx *sql.Tx) error {
		if err := db.needRun(tx, runID); err != nil {
			return err
		}
		var err error
		out, err = queryReviews(tx, runID)
		return err
	})
	return out, err
}

func queryReviews(tx *sql.Tx, runID int64) ([]Review, error) {
	rows, err := tx.Query(`SELECT `+reviewCols+` FROM reviews v JOIN candidates c ON c.id = v.candidate_id
		WHERE c.run_id = ? ORDER BY v.id`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Review
	for rows.Next() {
		var r Review
		if err := scanReview(rows, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
