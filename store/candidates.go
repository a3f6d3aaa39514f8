package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Candidate kinds the engine writes.
const (
	KindSelfEdit        = "self_edit"
	KindBaselineBase    = "baseline_base"
	KindBaselinePassage = "baseline_passage"
	KindBaselineContext = "baseline_context"
	// KindBaselineSteps is the passage repeated to the optimizer steps of the
	// self-edits it is compared with: a gain over it is not more steps alone.
	KindBaselineSteps = "baseline_steps"
	// KindTeacher is an edit written by a teacher (an API model, a local model
	// folder, the synthetic world's written implications), scored like a self-edit and
	// never trained on by the policy.
	KindTeacher   = "teacher"
	KindHuman     = "human"
	KindCPT       = "cpt"
	KindContinual = "continual"
)

// Candidate statuses.
const (
	CandidateDone    = "done"
	CandidateInvalid = "invalid" // Reason says why; the reward is 0
)

// TrainPoint is one step of a LoRA update's loss curve.
type TrainPoint struct {
	Step     int
	Loss, LR float64
}

// EvalItem is one graded answer of the adapted (or base) model.
type EvalItem struct {
	Repeat, Question int
	Prompt, Text     string
	Gold             string
	Correct          bool
	Score            float64 // F1 or judge
	Grader           string
}

// Candidate is one finished inner loop: a self-edit (or baseline), the update it
// drove, and the reward. (RunID, Round, Task, Index) is unique: the resume key.
type Candidate struct {
	ID                 int64
	RunID              int64
	Round, Task, Index int
	Kind               string // KindSelfEdit, KindBaselineBase, ...
	Prompt, Edit       string
	Tokens             int
	Sampling           json.RawMessage
	Seed               uint64
	Status             string // CandidateDone | CandidateInvalid
	Reason             string
	BaseScore          float64
	AdaptedScore       float64
	Reward, RewardStd  float64
	Repeats            int
	Curve              []TrainPoint
	Evals              []EvalItem
	AdapterPath        string
	AdapterHash        string
	// Grounding is the share of the edit's content words found in its passage
	// (engine/grounding), in [0, 1]; nil where there is none: ARC edits, baselines, empty
	// edits, and candidates stored before schema version 4.
	Grounding *float64
	CreatedAt time.Time
}

// CandidateKey is the resume key within a run.
type CandidateKey struct{ Round, Task, Index int }

// SaveCandidate commits c with its curve and eval items in one transaction and
// returns its id (also set in c.ID; a zero c.CreatedAt is set to now). Saving a
// (run, round, task, index) that is already saved fails with ErrDuplicate: the
// engine asks Finished first, and a committed result is never overwritten.
func (db *DB) SaveCandidate(c *Candidate) (int64, error) {
	if c == nil {
		return 0, db.wrap("save candidate", invalid("nil candidate"))
	}
	op := fmt.Sprintf("save candidate (run %d, round %d, task %d, index %d)", c.RunID, c.Round, c.Task, c.Index)
	switch {
	case c.Kind == "":
		return 0, db.wrap(op, invalid("empty kind"))
	case c.Status != CandidateDone && c.Status != CandidateInvalid:
		return 0, db.wrap(op, invalid("status %q is neither %q nor %q", c.Status, CandidateDone, CandidateInvalid))
	case c.Status == CandidateInvalid && strings.TrimSpace(c.Reason) == "":
		return 0, db.wrap(op, invalid("an invalid candidate needs a reason"))
	case c.Status == CandidateInvalid && c.Reward != 0:
		return 0, db.wrap(op, invalid("an invalid candidate has reward 0, not %g", c.Reward))
	case len(c.Sampling) > 0 && !json.Valid(c.Sampling):
		return 0, db.wrap(op, invalid("sampling is not valid JSON"))
	case c.Grounding != nil && !(*c.Grounding >= 0 && *c.Grounding <= 1):
		return 0, db.wrap(op, invalid("grounding %g is outside [0, 1]", *c.Grounding))
	}
	created := orNow(c.CreatedAt)
	var id int64
	err := db.write(op, func(tx *sql.Tx) error {
		if err := db.needOwnRun(tx, c.RunID); err != nil {
			return err
		}
		var old int64
		err := tx.QueryRow(`SELECT id FROM candidates WHERE run_id = ? AND round = ? AND task = ? AND idx = ?`,
			c.RunID, c.Round, c.Task, c.Index).Scan(&old)
		if err == nil {
			return fmt.Errorf("%w as candidate %d; a committed candidate is never overwritten", ErrDuplicate, old)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		res, err := tx.Exec(`INSERT INTO candidates (run_id, round, task, idx, kind, prompt, edit, tokens, sampling, seed,
				status, reason, base_score, adapted_score, reward, reward_std, repeats, adapter_path, adapter_hash, grounding, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.RunID, c.Round, c.Task, c.Index, c.Kind, c.Prompt, c.Edit, c.Tokens, jsonArg(c.Sampling), int64(c.Seed),
			c.Status, c.Reason, c.BaseScore, c.AdaptedScore, c.Reward, c.RewardStd, c.Repeats, c.AdapterPath, c.AdapterHash, c.Grounding, fmtTime(created))
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if len(c.Curve) > 0 {
			st, err := tx.Prepare(`INSERT INTO train_points (candidate_id, seq, step, loss, lr) VALUES (?, ?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer st.Close()
			for i, p := range c.Curve {
				if _, err := st.Exec(id, i, p.Step, p.Loss, p.LR); err != nil {
					return fmt.Errorf("curve point %d: %w", i, err)
				}
			}
		}
		if len(c.Evals) > 0 {
			st, err := tx.Prepare(`INSERT INTO eval_items (candidate_id, seq, repeat, question, prompt, text, gold, correct, score, grader)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer st.Close()
			for i, e := range c.Evals {
				if _, err := st.Exec(id, i, e.Repeat, e.Question, e.Prompt, e.Text, e.Gold, e.Correct, e.Score, e.Grader); err != nil {
					return fmt.Errorf("eval item %d: %w", i, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	c.ID, c.CreatedAt = id, created
	return id, nil
}

// Finished maps each committed (round, task, index) of the run to its candidate id:
// what a resumed run skips.
func (db *DB) Finished(runID int64) (map[CandidateKey]int64, error) {
	out := map[CandidateKey]int64{}
	err := db.read(fmt.Sprintf("read finished candidates of run %d", runID), func(tx *sql.Tx) error {
		if err := db.needRun(tx, runID); err != nil {
			return err
		}
		rows, err := tx.Query(`SELECT round, task, idx, id FROM candidates WHERE run_id = ?`, runID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k CandidateKey
			var id int64
			if err := rows.Scan(&k.Round, &k.Task, &k.Index, &id); err != nil {
				return err
			}
			out[k] = id
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const candCols = `c.id, c.run_id, c.round, c.task, c.idx, c.kind, c.prompt, c.edit, c.tokens, c.sampling, c.seed,
	c.status, c.reason, c.base_score, c.adapted_score, c.reward, c.reward_std, c.repeats, c.adapter_path, c.adapter_hash, c.grounding, c.created_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanCandidate(s rowScanner, c *Candidate) error {
	var seed int64
	var grounding sql.NullFloat64
	err := s.Scan(&c.ID, &c.RunID, &c.Round, &c.Task, &c.Index, &c.Kind, &c.Prompt, &c.Edit, &c.Tokens,
		rawJSON{(*[]byte)(&c.Sampling)}, &seed, &c.Status, &c.Reason, flt{&c.BaseScore}, flt{&c.AdaptedScore},
		flt{&c.Reward}, flt{&c.RewardStd}, &c.Repeats, &c.AdapterPath, &c.AdapterHash, &grounding, tm{&c.CreatedAt})
	c.Seed = uint64(seed)
	c.Grounding = nil
	if grounding.Valid {
		c.Grounding = &grounding.Float64
	}
	return err
}

// Candidates lists the run's candidates by (round, task, index); withDetail also
// loads every curve and eval item (from the same snapshot).
func (db *DB) Candidates(runID int64, withDetail bool) ([]Candidate, error) {
	var out []Candidate
	err := db.read(fmt.Sprintf("read candidates of run %d", runID), func(tx *sql.Tx) error {
		if err := db.needRun(tx, runID); err != nil {
			return err
		}
		var err error
		out, err = queryCandidates(tx, runID, withDetail)
		return err
	})
	return out, err
}

func queryCandidates(tx *sql.Tx, runID int64, withDetail bool) ([]Candidate, error) {
	rows, err := tx.Query(`SELECT `+candCols+` FROM candidates c WHERE c.run_id = ? ORDER BY c.round, c.task, c.idx`, runID)
	if err != nil {
		return nil, err
	}
	var out []Candidate
	byID := map[int64]int{}
	for rows.Next() {
		var c Candidate
		if err := scanCandidate(rows, &c); err != nil {
			rows.Close()
			return nil, err
		}
		byID[c.ID] = len(out)
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !withDetail || len(out) == 0 {
		return out, nil
	}
	err = loadCurves(tx, `SELECT p.candidate_id, p.step, p.loss, p.lr FROM train_points p
		JOIN candidates c ON c.id = p.candidate_id WHERE c.run_id = ? ORDER BY p.candidate_id, p.seq`, runID,
		func(id int64, p TrainPoint) { i := byID[id]; out[i].Curve = append(out[i].Curve, p) })
	if err != nil {
		return nil, err
	}
	err = loadEvals(tx, `SELECT e.candidate_id, e.repeat, e.question, e.prompt, e.text, e.gold, e.correct, e.score, e.grader
		FROM eval_items e JOIN candidates c ON c.id = e.candidate_id WHERE c.run_id = ? ORDER BY e.candidate_id, e.seq`, runID,
		func(id int64, e EvalItem) { i := byID[id]; out[i].Evals = append(out[i].Evals, e) })
	return out, err
}

func loadCurves(tx *sql.Tx, q string, arg int64, add func(int64, TrainPoint)) error {
	rows, err := tx.Query(q, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var p TrainPoint
		if err := rows.Scan(&id, &p.Step, flt{&p.Loss}, flt{&p.LR}); err != nil {
			return err
		}
		add(id, p)
	}
	return rows.Err()
}

func loadEvals(tx *sql.Tx, q string, arg int64, add func(int64, EvalItem)) error {
	rows, err := tx.Query(q, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var e EvalItem
		if err := rows.Scan(&id, &e.Repeat, &e.Question, &e.Prompt, &e.Text, &e.Gold, &e.Correct, flt{&e.Score}, &e.Grader); err != nil {
			return err
		}
		add(id, e)
	}
	return rows.Err()
}

// Candidate is one candidate with its curve and eval items; ErrNotFound when missing.
func (db *DB) Candidate(id int64) (Candidate, error) {
	var c Candidate
	err := db.read(fmt.Sprintf("read candidate %d", id), func(tx *sql.Tx) error {
		err := scanCandidate(tx.QueryRow(`SELECT `+candCols+` FROM candidates c WHERE c.id = ?`, id), &c)
		if errors.Is(err, sql.ErrNoRows) {
			return db.notFound("candidate", id)
		} else if err != nil {
			return err
		}
		err = loadCurves(tx, `SELECT candidate_id, step, loss, lr FROM train_points WHERE candidate_id = ? ORDER BY seq`, id,
			func(_ int64, p TrainPoint) { c.Curve = append(c.Curve, p) })
		if err != nil {
			return err
		}
		return loadEvals(tx, `SELECT candidate_id, repeat, question, prompt, text, gold, correct, score, grader
			FROM eval_items WHERE candidate_id = ? ORDER BY seq`, id,
			func(_ int64, e EvalItem) { c.Evals = append(c.Evals, e) })
	})
	return c, err
}
