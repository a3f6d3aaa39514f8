package store

import (
	"bufio"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"seal/store/termsafe"
)

// runData is everything about one run, read in one snapshot.
type runData struct {
	run        Run
	tasks      []Task
	candidates []Candidate
	reviews    []Review
	rounds     []Round
	retention  []RetentionCell
	metrics    []Metric
}

func (db *DB) load(op string, runID int64, detail bool) (runData, error) {
	var d runData
	err := db.read(op, func(tx *sql.Tx) error {
		err := tx.QueryRow(`SELECT `+runCols+` FROM runs r WHERE r.id = ?`, runID).Scan(runDest(&d.run)...)
		if err == sql.ErrNoRows {
			return db.notFound("run", runID)
		} else if err != nil {
			return err
		}
		if d.tasks, err = queryTasks(tx, runID); err != nil {
			return err
		}
		if d.candidates, err = queryCandidates(tx, runID, detail); err != nil {
			return err
		}
		if d.reviews, err = queryReviews(tx, runID); err != nil {
			return err
		}
		if d.rounds, err = queryRounds(tx, runID); err != nil {
			return err
		}
		if d.retention, err = queryRetention(tx, runID); err != nil {
			return err
		}
		d.metrics, err = queryMetrics(tx, runID)
		return err
	})
	d.run.derive(time.Now()) // an export shows an interrupted run as such (lease.go)
	return d, err
}

// num is a float64 that JSON-encodes NaN and ±Inf as null (encoding/json refuses
// them, and a diverged loss must not make a run unexportable).
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// The JSONL records. Field names are the stable export format: snake_case, "type"
// first.
type (
	jsonRun struct {
		Type          string          `json:"type"`
		ID            int64           `json:"id"`
		Name          string          `json:"name"`
		Domain        string          `json:"domain"`
		Model         string          `json:"model"`
		Status        string          `json:"status"`
		Error         string          `json:"error"`
		Config        json.RawMessage `json:"config"`
		Parent        int64           `json:"parent"`
		CreatedAt     time.Time       `json:"created_at"`
		UpdatedAt     time.Time       `json:"updated_at"`
		SchemaVersion int             `json:"schema_version"`
	}
	jsonTask struct {
		Type      string `json:"type"`
		RunID     int64  `json:"run_id"`
		Index     int    `json:"index"`
		Key       string `json:"key"`
		Title     string `json:"title"`
		Context   string `json:"context"`
		Questions []QA   `json:"questions"`
	}
	jsonPoint struct {
		Step int `json:"step"`
		Loss num `json:"loss"`
		LR   num `json:"lr"`
	}
	jsonEval struct {
		Repeat   int    `json:"repeat"`
		Question int    `json:"question"`
		Prompt   string `json:"prompt"`
		Text     string `json:"text"`
		Gold     string `json:"gold"`
		Correct  bool   `json:"correct"`
		Score    num    `json:"score"`
		Grader   string `json:"grader"`
	}
	jsonCandidate struct {
		Type         string          `json:"type"`
		ID           int64           `json:"id"`
		RunID        int64           `json:"run_id"`
		Round        int             `json:"round"`
		Task         int             `json:"task"`
		Index        int             `json:"index"`
		Kind         string          `json:"kind"`
		Prompt       string          `json:"prompt"`
		Edit         string          `json:"edit"`
		Tokens       int             `json:"tokens"`
		Sampling     json.RawMessage `json:"sampling"`
		Seed         uint64          `json:"seed"`
		Status       string          `json:"status"`
		Reason       string          `json:"reason"`
		BaseScore    num             `json:"base_score"`
		AdaptedScore num             `json:"adapted_score"`
		Reward       num             `json:"reward"`
		RewardStd    num             `json:"reward_std"`
		Repeats      int             `json:"repeats"`
		AdapterPath  string          `json:"adapter_path"`
		AdapterHash  string          `json:"adapter_hash"`
		Grounding    *float64        `json:"grounding"` // null where not computed
		CreatedAt    time.Time       `json:"created_at"`
		Curve        []jsonPoint     `json:"curve"`
		Evals        []jsonEval      `json:"evals"`
	}
	jsonReview struct {
		Type        string    `json:"type"`
		ID          int64     `json:"id"`
		CandidateID int64     `json:"candidate_id"`
		Verdict     string    `json:"verdict"`
		Reason      string    `json:"reason"`
		Source      string    `json:"source"`
		Edited      string    `json:"edited"`
		At          time.Time `json:"at"`
	}
	jsonRound struct {
		Type              string    `json:"type"`
		RunID             int64     `json:"run_id"`
		Round             int       `json:"round"`
		MeanReward        num       `json:"mean_reward"`
		StdReward         num       `json:"std_reward"`
		Kept              int       `json:"kept"`
		PolicyAdapterPath string    `json:"policy_adapter_path"`
		PolicyHash        string    `json:"policy_hash"`
		TrainLoss         num       `json:"train_loss"`
		At                time.Time `json:"at"`
	}
	jsonRetention struct {
		Type     string `json:"type"`
		RunID    int64  `json:"run_id"`
		Step     int    `json:"step"`
		Task     int    `json:"task"`
		Accuracy num    `json:"accuracy"`
	}
	jsonMetric struct {
		Type  string `json:"type"`
		RunID int64  `json:"run_id"`
		Name  string `json:"name"`
		Value num    `json:"value"`
	}
)

// ExportJSONL writes the run as JSON Lines: one "run" record, then its tasks,
// candidates (with curve and evals), every review (oldest first; the last per
// candidate counts), rounds, retention cells and metrics. All from one snapshot.
func (db *DB) ExportJSONL(runID int64, w io.Writer) error {
	op := fmt.Sprintf("export run %d as JSONL", runID)
	d, err := db.load(op, runID, true)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	// Encode ends each record with a newline. The strings decode exactly as stored; the
	// C1 and bidi controls among them are written as \u escapes, so the file is safe
	// to cat on a terminal.
	enc := json.NewEncoder(termsafe.JSONWriter(bw))
	enc.SetEscapeHTML(false)
	recs := []any{jsonRun{"run", d.run.ID, d.run.Name, d.run.Domain, d.run.Model, d.run.Status, d.run.Error,
		d.run.Config, d.run.Parent, d.run.CreatedAt, d.run.UpdatedAt, SchemaVersion()}}
	for _, t := range d.tasks {
		q := t.Questions
		if q == nil {
			q = []QA{}
		}
		recs = append(recs, jsonTask{"task", t.RunID, t.Index, t.Key, t.Title, t.Context, q})
	}
	for _, c := range d.candidates {
		jc := jsonCandidate{"candidate", c.ID, c.RunID, c.Round, c.Task, c.Index, c.Kind, c.Prompt, c.Edit, c.Tokens,
			c.Sampling, c.Seed, c.Status, c.Reason, num(c.BaseScore), num(c.AdaptedScore), num(c.Reward), num(c.RewardStd),
			c.Repeats, c.AdapterPath, c.AdapterHash, c.Grounding, c.CreatedAt, []jsonPoint{}, []jsonEval{}}
		for _, p := range c.Curve {
			jc.Curve = append(jc.Curve, jsonPoint{p.Step, num(p.Loss), num(p.LR)})
		}
		for _, e := range c.Evals {
			jc.Evals = append(jc.Evals, jsonEval{e.Repeat, e.Question, e.Prompt, e.Text, e.Gold, e.Correct, num(e.Score), e.Grader})
		}
		recs = append(recs, jc)
	}
	for _, r := range d.reviews {
		recs = append(recs, jsonReview{"review", r.ID, r.CandidateID, r.Verdict, r.Reason, r.Source, r.Edited, r.At})
	}
	for _, r := range d.rounds {
		recs = append(recs, jsonRound{"round", r.RunID, r.Round, num(r.MeanReward), num(r.StdReward), r.Kept,
			r.PolicyAdapterPath, r.PolicyHash, num(r.TrainLoss), r.At})
	}
	for _, c := range d.retention {
		recs = append(recs, jsonRetention{"retention", c.RunID, c.Step, c.Task, num(c.Accuracy)})
	}
	for _, m := range d.metrics {
		recs = append(recs, jsonMetric{"metric", m.RunID, m.Name, num(m.Value)})
	}
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return db.wrap(op, err)
		}
	}
	return db.wrap(op, bw.Flush())
}

// optional formats a nullable number; nil is the empty cell.
func optional(x *float64, f func(float64) string) string {
	if x == nil {
		return ""
	}
	return f(*x)
}

// CSVHeader is the first row ExportCSV writes.
var CSVHeader = []string{"id", "round", "task", "index", "kind", "status", "reason", "base", "adapted", "reward",
	"reward_std", "grounding", "tokens", "seed", "verdict", "edit"}

// ExportCSV writes one row per candidate (CSVHeader's columns), with the latest
// review's verdict ("" when unreviewed) and the grounding share ("" when not computed). CSV is for people and spreadsheets: text
// cells pass through termsafe.CSVCell (control sequences shown as U+FFFD, a leading
// = + - @ made inert with '); ExportJSONL is the exact record.
func (db *DB) ExportCSV(runID int64, w io.Writer) error {
	op := fmt.Sprintf("export run %d as CSV", runID)
	d, err := db.load(op, runID, false)
	if err != nil {
		return err
	}
	verdict := map[int64]string{}
	for _, r := range d.reviews { // oldest first, so the latest wins
		verdict[r.CandidateID] = r.Verdict
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return db.wrap(op, err)
	}
	t := termsafe.CSVCell // text cells: no control sequence, no formula; numbers as they are
	for _, c := range d.candidates {
		row := []string{strconv.FormatInt(c.ID, 10), strconv.Itoa(c.Round), strconv.Itoa(c.Task), strconv.Itoa(c.Index),
			t(c.Kind), t(c.Status), t(c.Reason), f(c.BaseScore), f(c.AdaptedScore), f(c.Reward), f(c.RewardStd),
			optional(c.Grounding, f), strconv.Itoa(c.Tokens), strconv.FormatUint(c.Seed, 10), t(verdict[c.ID]), t(c.Edit)}
		if err := cw.Write(row); err != nil {
			return db.wrap(op, err)
		}
	}
	cw.Flush()
	return db.wrap(op, cw.Error())
}
