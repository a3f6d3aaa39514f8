package ui

import (
	"encoding/json"
	"fmt"
	"time"

	"seal/engine"
	"seal/store"
)

// liveState is what the live view knows about a run: folded from its events only, so
// a recorded event stream rebuilds exactly the screen a person saw.
type liveState struct {
	run     int64
	name    string
	spec    engine.RunSpec
	tasks   int
	status  string // running, paused, done, failed, cancelled
	errMsg  string
	started time.Time

	at        engine.Where // where the newest self-edit is being written
	edits     map[int]string
	editDone  map[int]bool
	lossPhase string
	lossAt    engine.Where
	loss      []float64
	lossSteps int

	rewards    []rewardPoint // committed candidates in order
	roundMeans []float64
	evals      []engine.EvalItem // the newest graded answers
	retention  map[[2]int]float64
	retSteps   int
	metrics    []engine.Metric
	doneCands  int

	guard    []engine.GuardVerdict // the guard's newest verdicts, newest last
	verdicts map[string]int        // pass/hold/reject counts over the run
	version  engine.VersionCommitted
	versions int             // versions committed in this run
	workers  *engine.Workers // nil until a remote executor reports
}

type rewardPoint struct {
	engine.Where
	ID     int64
	Kind   string
	Status string
	Reward float64
	Std    float64
}

const (
	keepEvals    = 64
	keepVerdicts = 8
)

func newLiveState(spec engine.RunSpec, now time.Time) *liveState {
	return &liveState{spec: spec, status: "starting", started: now, edits: map[int]string{}, editDone: map[int]bool{}, retention: map[[2]int]float64{},
		verdicts: map[string]int{}}
}

// apply folds one event in.
func (s *liveState) apply(ev engine.Event) {
	switch e := ev.(type) {
	case engine.RunStarted:
		s.run, s.name, s.tasks, s.status = e.Run, e.Name, e.Tasks, "running"
	case engine.Token:
		s.moveTo(e.Where)
		s.edits[e.Cand] += e.Text
	case engine.EditDone:
		s.moveTo(e.Where)
		s.edits[e.Cand], s.editDone[e.Cand] = e.Edit, true
		s.at = e.Where
	case engine.TrainStep:
		if e.Step == 1 || e.Where != s.lossAt || e.Phase != s.lossPhase {
			s.loss, s.lossAt, s.lossPhase = nil, e.Where, e.Phase
		}
		s.loss, s.lossSteps = append(s.loss, e.Loss), e.Steps
	case engine.EvalItem:
		s.evals = append(s.evals, e)
		if len(s.evals) > keepEvals {
			s.evals = s.evals[len(s.evals)-keepEvals:]
		}
	case engine.Reward:
		s.rewards = append(s.rewards, rewardPoint{Where: e.Where, ID: e.CandidateID, Kind: e.Kind, Status: e.Status, Reward: e.Reward, Std: e.Std})
		if engine.CountsTowardProgress(e.Kind) {
			s.doneCands++
		}
	case engine.RoundDone:
		for len(s.roundMeans) <= e.Round {
			s.roundMeans = append(s.roundMeans, 0)
		}
		s.roundMeans[e.Round] = e.MeanReward
	case engine.RetentionPoint:
		s.retention[[2]int{e.Step, e.Task}] = e.Accuracy
		s.retSteps = max(s.retSteps, e.Step+1)
		s.tasks = max(s.tasks, e.Task+1)
	case engine.Metric:
		s.metrics = append(s.metrics, e)
	case engine.GuardVerdict:
		s.guard = append(s.guard, e)
		if len(s.guard) > keepVerdicts {
			s.guard = s.guard[len(s.guard)-keepVerdicts:]
		}
		s.verdicts[e.Verdict]++
	case engine.VersionCommitted:
		s.version = e
		s.versions++
	case engine.Workers:
		s.workers = &e
	case engine.Status:
		s.status = e.Status
	case engine.Error:
		s.errMsg = e.Message
	case engine.Finished:
		s.status = e.Status
	}
}

// moveTo starts a fresh set of self-edits when the writing moves to another passage.
func (s *liveState) moveTo(w engine.Where) {
	if w.Round != s.at.Round || w.Task != s.at.Task {
		s.edits, s.editDone = map[int]string{}, map[int]bool{}
	}
	s.at.Run, s.at.Round, s.at.Task = w.Run, w.Round, w.Task
	if !s.editDone[w.Cand] || w.Cand > s.at.Cand {
		s.at.Cand = w.Cand
	}
}

// total is how many counted candidates the run will commit (engine.ProgressTotal: a cpt
// run commits k edits per passage, not one).
func (s *liveState) total() int {
	n, _ := engine.ProgressTotal(s.spec, s.tasks, 0)
	return n
}

// eta estimates the time left from the pace so far; "" until there is a pace.
func (s *liveState) eta(now time.Time) string {
	if s.doneCands == 0 || s.total() <= s.doneCands || s.status != "running" {
		return ""
	}
	per := now.Sub(s.started) / time.Duration(s.doneCands)
	left := per * time.Duration(s.total()-s.doneCands)
	return fmtDuration(left)
}

func fmtDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// selfEditRewards are the rewards of the sampled self-edits in commit order.
func (s *liveState) selfEditRewards() []float64 {
	var out []float64
	for _, r := range s.rewards {
		if r.Kind == "self_edit" {
			out = append(out, r.Reward)
		}
	}
	return out
}

// retentionRows is the retention matrix so far; missing cells are NaN.
func (s *liveState) retentionRows() [][]float64 {
	rows := make([][]float64, s.retSteps)
	for i := range rows {
		rows[i] = make([]float64, s.tasks)
		for j := range rows[i] {
			v, ok := s.retention[[2]int{i, j}]
			if !ok {
				v = nan
			}
			rows[i][j] = v
		}
	}
	return rows
}

// storedState rebuilds what the live view shows of a run from the store: its rewards,
// rounds, retention, metrics and the last candidate's edit and graded answers.
func storedState(db *store.DB, id int64, now time.Time) (*liveState, error) {
	rec, err := db.Run(id)
	if err != nil {
		return nil, err
	}
	var spec engine.RunSpec
	if err := json.Unmarshal(rec.Config, &spec); err != nil {
		return nil, fmt.Errorf("run %d: stored config: %w", id, err)
	}
	tasks, err := db.Tasks(id)
	if err != nil {
		return nil, err
	}
	cands, err := db.Candidates(id, true)
	if err != nil {
		return nil, err
	}
	s := newLiveState(spec, now)
	s.apply(engine.RunStarted{Run: id, Name: rec.Name, Tasks: len(tasks)})
	for _, c := range cands {
		w := engine.Where{Run: id, Round: c.Round, Task: c.Task, Cand: c.Index}
		if c.Edit != "" {
			s.apply(engine.EditDone{Where: w, Edit: c.Edit, Tokens: c.Tokens})
		}
		for _, e := range c.Evals {
			q := ""
			if c.Task < len(tasks) && e.Question < len(tasks[c.Task].Questions) {
				q = tasks[c.Task].Questions[e.Question].Question
			}
			s.apply(engine.EvalItem{Where: w, Phase: c.Kind, Repeat: e.Repeat, Question: q, Answer: e.Text, Gold: e.Gold, Correct: e.Correct})
		}
		s.apply(engine.Reward{Where: w, CandidateID: c.ID, Kind: c.Kind, Status: c.Status, Base: c.BaseScore, Adapted: c.AdaptedScore, Reward: c.Reward, Std: c.RewardStd})
	}
	rounds, err := db.Rounds(id)
	if err != nil {
		return nil, err
	}
	for _, r := range rounds {
		s.apply(engine.RoundDone{Run: id, Round: r.Round, MeanReward: r.MeanReward, StdReward: r.StdReward, Kept: r.Kept, PolicyLoss: r.TrainLoss})
	}
	cells, err := db.Retention(id)
	if err != nil {
		return nil, err
	}
	for _, c := range cells {
		s.apply(engine.RetentionPoint{Run: id, Step: c.Step, Task: c.Task, Accuracy: c.Accuracy})
	}
	s.status = rec.Status
	return s, nil
}
