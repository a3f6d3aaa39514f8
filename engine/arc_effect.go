package engine

import (
	"context"
	"fmt"

	"seal/engine/arc"
	"seal/store"
)

// ARCEffect is an ARC run's result per condition and per task, the paper's ARC table
// (in context, the policy's own self-edits, after ReST-EM, oracle) as score vectors a
// paired table can be drawn from: Scores[c][t] is condition c's pass@2 on task t.
type ARCEffect struct {
	Run        int64
	Tasks      []string // the run's evaluation sub-tasks, in order (its RL tasks are no part of the table)
	Conditions []string
	Scores     [][]float64
	// Valid is, per round, the share of self-edits that are a valid config (they parse
	// and their values lie within the limits), of Edits[round] sampled.
	Valid []float64
	Edits []int
	// Unfinished names the conditions left out because some task has no result of them
	// yet (a stopped run), with how many tasks have one: "after 1 ReST-EM round (4 of 32)".
	Unfinished []string
}

// The ARC effect's condition names: in context first, the fixed config, the self-edits
// of each round (round r's are written by the policy after r ReST-EM updates), the
// oracle last, as the upper bound.
const (
	ARCInContext = "in context"
	ARCFixed     = "fixed config"
	ARCOracle    = "oracle"
)

// RoundCondition names round r's self-edits in the effect tables (ARC's rows, and the knowledge
// table's "own self-edits after r ReST-EM rounds"): round 0 is the base policy's own.
func RoundCondition(r int) string {
	if r == 0 {
		return "own self-edits (round 0)"
	}
	return fmt.Sprintf("after %d ReST-EM round%s", r, map[bool]string{true: "s", false: ""}[r > 1])
}

// ARCEffectOf tabulates a stored ARC run from its candidates. A self-edit condition
// is a task's mean pass@2 over its k self-edits of that round, an invalid edit
// counting 0 (the method's reward); the baselines are their round-0 scores. A row
// needs every task's result, so the vectors stay paired: a condition no task has (the
// oracle of a run without baselines) is no row, and one only some tasks have (a stopped
// run) is named in Unfinished instead.
func ARCEffectOf(db *store.DB, run int64) (ARCEffect, error) {
	rec, err := db.Run(run)
	if err != nil {
		return ARCEffect{}, err
	}
	if rec.Domain != "arc" {
		return ARCEffect{}, fmt.Errorf("run %d is a %s run, not an ARC run", run, rec.Domain)
	}
	tasks, err := db.Tasks(run)
	if err != nil {
		return ARCEffect{}, err
	}
	cands, err := db.Candidates(run, false)
	if err != nil {
		return ARCEffect{}, err
	}
	return arcEffect(run, tasks, cands)
}

func arcEffect(run int64, tasks []store.Task, cands []store.Candidate) (ARCEffect, error) {
	out := ARCEffect{Run: run}
	pos := map[int]int{} // an evaluation task's index (tasks are in index order) -> its position in the table
	for i, t := range tasks {
		if IsRLKey(t.Key) { // an RL task (--rl-data): it trains the policy, the table measures it
			continue
		}
		pos[i] = len(out.Tasks)
		out.Tasks = append(out.Tasks, t.Key)
	}
	n := len(out.Tasks)
	// sums[cond][task] and counts[cond][task] over the candidates of that condition.
	sums, counts := map[string][]float64{}, map[string][]int{}
	add := func(cond string, task int, v float64) {
		if sums[cond] == nil {
			sums[cond], counts[cond] = make([]float64, n), make([]int, n)
		}
		sums[cond][task] += v
		counts[cond][task]++
	}
	rounds := 0
	var valid []int
	for _, c := range cands {
		task, ok := pos[c.Task]
		if !ok {
			continue // an RL task's, or a round's policy update (no task's)
		}
		switch c.Kind {
		case store.KindBaselineBase:
			if c.Round == 0 {
				add(ARCInContext, task, c.AdaptedScore)
			}
		case "baseline_fixed":
			add(ARCFixed, task, c.AdaptedScore)
		case "baseline_oracle":
			add(ARCOracle, task, c.AdaptedScore)
		case store.KindSelfEdit:
			score := c.Reward
			if c.Status != store.CandidateDone {
				score = 0
			}
			add(RoundCondition(c.Round), task, score)
			for len(out.Edits) <= c.Round {
				out.Edits, valid = append(out.Edits, 0), append(valid, 0)
			}
			out.Edits[c.Round]++
			if ValidARCEdit(c.Edit) {
				valid[c.Round]++
			}
			rounds = max(rounds, c.Round+1)
		}
	}
	order := []string{ARCInContext, ARCFixed}
	for r := range rounds {
		order = append(order, RoundCondition(r))
	}
	order = append(order, ARCOracle)
	for _, cond := range order {
		if sums[cond] == nil {
			continue
		}
		row, have := make([]float64, n), 0
		for t := range n {
			if counts[cond][t] > 0 {
				row[t] = sums[cond][t] / float64(counts[cond][t])
				have++
			}
		}
		if have < n { // the rows must stay paired: a condition some task lacks is no row
			out.Unfinished = append(out.Unfinished, fmt.Sprintf("%s (%d of %d)", cond, have, n))
			continue
		}
		out.Conditions, out.Scores = append(out.Conditions, cond), append(out.Scores, row)
	}
	for r, e := range out.Edits {
		share := 0.0
		if e > 0 {
			share = float64(valid[r]) / float64(e)
		}
		out.Valid = append(out.Valid, share)
	}
	return out, nil
}

// ValidARCEdit reports whether a self-edit is a usable config: it parses as the JSON
// format and its values lie within the default limits (the step budget, which needs
// the task's training set, is not counted).
func ValidARCEdit(text string) bool {
	cfg, err := arc.ParseEdit(text)
	return err == nil && cfg.Validate(arc.Limits{}) == nil
}

// Mean is condition c's mean over the tasks (0 when the run has no such condition).
func (a ARCEffect) Mean(cond string) float64 {
	for i, c := range a.Conditions {
		if c == cond && len(a.Scores[i]) > 0 {
			s := 0.0
			for _, v := range a.Scores[i] {
				s += v
			}
			return s / float64(len(a.Scores[i]))
		}
	}
	return 0
}

// RunARCEffect starts an ARC run of spec (baselines on, so the in-context, fixed and
// oracle rows are there), follows it to the end, handing each event to onEvent (nil:
// dropped), and tabulates it. Its rounds are spec.Rounds: round r's self-edits are the
// policy's after r ReST-EM updates, so "after 2 rounds" needs spec.Rounds = 3.
func (e *Engine) RunARCEffect(ctx context.Context, spec RunSpec, onEvent func(Event)) (ARCEffect, error) {
	if spec.Domain != "arc" {
		return ARCEffect{}, fmt.Errorf("the ARC effect needs --domain arc, not %q", spec.Domain)
	}
	spec.Baselines = true
	r, err := e.Start(ctx, spec)
	if err != nil {
		return ARCEffect{}, err
	}
	for ev := range r.Events() {
		if onEvent != nil {
			onEvent(ev)
		}
	}
	if err := r.Wait(); err != nil {
		return ARCEffect{}, fmt.Errorf("run %d: %w", r.ID, err)
	}
	return ARCEffectOf(e.DB, r.ID)
}
