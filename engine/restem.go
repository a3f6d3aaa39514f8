package engine

import (
	"fmt"
	"strings"
	"time"

	"seal/engine/knowledge"
	"seal/models/train"
	"seal/store"
)

// restem runs ReST-EM: per round, sample k self-edits per passage, score each by its
// inner loop, keep the best (or the positive) ones that no person rejected, finetune
// the policy on (prompt, edit) pairs, merge, and go on with the new policy.
//
// With --rl-data the self-edits that train the policy come from round r's own block of
// RL passages, while the evaluation passages (--data, with the baselines) measure the
// round's policy and never reach its update: round 0 measures the base policy, round r
// the policy trained on round r-1's kept edits, and one last round measures the policy
// after the last update (docs/seal-method.md §1.9, §1.10). Without it, the evaluation
// passages are the RL passages too, as before RL and evaluation were taken apart.
func (x *runner) restem() error {
	rounds, err := x.e.DB.Rounds(x.r.ID)
	if err != nil {
		return err
	}
	first, err := x.firstStep(store.LedgerPolicy)
	if err != nil {
		return err
	}
	for round := first; round < x.spec.EvalRounds(); round++ {
		if done := roundRecord(rounds, round); done != nil {
			// A finished round: rebuild the policy from its saved update.
			if done.PolicyAdapterPath != "" {
				if err := x.applySaved(done.PolicyAdapterPath, done.PolicyHash, x.spec.Policy.Merge); err != nil {
					return err
				}
			}
			continue
		}
		var rewards []float64 // the evaluation passages' candidates: the round's mean reward
		var keep []kept
		for t := range x.numTasks() {
			prompt, cands, base, err := x.taskRound(round, t, round == 0 && x.spec.Baselines)
			if err != nil {
				return err
			}
			if round == 0 { // matched to these self-edits (stepmatch.go); the teacher's edit (teacher.go)
				if err := x.stepsBaseline(t, base, cands); err != nil {
					return err
				}
				if err := x.teacherEdit(t, base); err != nil {
					return err
				}
			}
			for _, c := range cands {
				rewards = append(rewards, c.Reward)
			}
			if !x.spec.SeparateRL() {
				if keep, err = x.keepFrom(keep, t, prompt, cands); err != nil {
					return err
				}
			}
		}
		if x.spec.SeparateRL() {
			for _, t := range x.rlTasks(round) {
				prompt, cands, _, err := x.taskRound(round, t, false)
				if err != nil {
					return err
				}
				if keep, err = x.keepFrom(keep, t, prompt, cands); err != nil {
					return err
				}
			}
		}
		mean, std := knowledge.MeanStd(rewards)
		rec := store.Round{RunID: x.r.ID, Round: round, MeanReward: mean, StdReward: std, Kept: len(keep), At: time.Now()}
		if len(keep) > 0 {
			var examples []train.Example
			var edits, passages []string
			for i, k := range keep {
				examples = append(examples, x.example(k.prompt, k.edit))
				edits = append(edits, k.edit)
				if x.dom.Info().PolicyReadsTask && (i == 0 || keep[i-1].task != k.task) {
					p := x.tasks[k.task].Row() // the policy trains with the task in its prompt: the rules read it too
					passages = append(passages, p.Title+"\n"+p.Context)
				}
			}
			a, curve, err := x.trainLoRA(Fit{Recipe: x.spec.Policy, Examples: examples, Seed: x.seed(round, 0, -10), Phase: "policy", Where: Where{Run: x.r.ID, Round: round}})
			if err != nil {
				x.lm.model.SetAdapter(nil)
				return fmt.Errorf("round %d: policy update: %w", round, err)
			}
			if len(curve) > 0 {
				rec.TrainLoss = curve[len(curve)-1].Loss
			}
			if rec.PolicyAdapterPath, rec.PolicyHash, err = x.saveAdapter(a, fmt.Sprintf("policy-round-%d", round)); err != nil {
				return err
			}
			if err := x.commitPolicy(round, a, &rec, edits, passages); err != nil { // guard, ledger, merge (ledger.go)
				return err
			}
		}
		if err := x.e.DB.SaveRound(rec); err != nil {
			return err
		}
		x.r.send(RoundDone{Run: x.r.ID, Round: round, MeanReward: mean, StdReward: std, Kept: len(keep), PolicyLoss: rec.TrainLoss})
	}
	return x.summarize()
}

// kept is one (prompt, edit) pair the policy update trains on.
type kept struct {
	task         int
	prompt, edit string
	adapted      float64
}

// taskRound is one task in one round: its no-update score (returned), the round-0
// baselines when asked, and its k candidates; when they may train the policy, the
// review gate waits for their verdicts.
func (x *runner) taskRound(round, t int, withBaselines bool) (string, []store.Candidate, float64, error) {
	w := Where{Run: x.r.ID, Round: round, Task: t}
	base, err := x.baseline(round, t)
	if err != nil {
		return "", nil, 0, err
	}
	if withBaselines {
		if err := x.baselines(t, base); err != nil {
			return "", nil, 0, err
		}
	}
	prompt, err := x.dom.SelfEditPrompt(x.spec, x.tasks[t])
	if err != nil {
		return "", nil, 0, err
	}
	cands, err := x.candidates(round, t, prompt, base, w)
	if err != nil {
		return "", nil, 0, err
	}
	if x.spec.ReviewGate && x.trainsPolicy(t) {
		if err := x.awaitReviews(cands); err != nil {
			return "", nil, 0, err
		}
	}
	return prompt, cands, base, nil
}

// keepFrom adds to keep what the filter keeps of one task's candidates: the best (or
// every positive) one that is done, that no person rejected and, with --min-grounding,
// that is grounded enough, in its corrected form when a person corrected it.
func (x *runner) keepFrom(keep []kept, t int, prompt string, cands []store.Candidate) ([]kept, error) {
	reviews, err := x.e.DB.LatestReviews(x.r.ID)
	if err != nil {
		return nil, err
	}
	var means []float64
	var usable []store.Candidate
	for _, c := range cands {
		rv, reviewed := reviews[c.ID]
		if c.Status != store.CandidateDone || reviewed && rv.Verdict == store.VerdictReject {
			continue
		}
		if !reviewed && x.tooUngrounded(c) { // a person's approval or correction overrides the rule
			continue
		}
		if reviewed && rv.Edited != "" {
			c.Edit = rv.Edited
		}
		usable = append(usable, c)
		means = append(means, c.AdaptedScore)
	}
	if len(usable) == 0 {
		return keep, nil
	}
	if x.spec.Filter == "best" {
		b := usable[knowledge.BestOfK(means)]
		return append(keep, kept{t, prompt, b.Edit, b.AdaptedScore}), nil
	}
	for _, c := range usable {
		if c.Reward > 0 {
			keep = append(keep, kept{t, prompt, c.Edit, c.AdaptedScore})
		}
	}
	return keep, nil
}

// tooUngrounded says whether --min-grounding keeps c out of the policy update.
func (x *runner) tooUngrounded(c store.Candidate) bool {
	return x.spec.MinGrounding > 0 && c.Grounding != nil && *c.Grounding < x.spec.MinGrounding
}

// summarize stores the baseline table: macro accuracy (the mean over passages of each
// passage's accuracy) of every condition, per round for the self-edits, and per round
// the self-edits' grounding share, averaged the same way (roundN/grounding); a
// baseline_K candidate is the metric K (passage, steps, context; ARC: fixed, oracle),
// a teacher's edits are teacher and teacher/grounding. They are over the evaluation
// passages; the RL passages' own are roundN/rl_self_edit, roundN/rl_reward and
// roundN/rl_base.
func (x *runner) summarize() error {
	cands, err := x.e.DB.Candidates(x.r.ID, false)
	if err != nil {
		return err
	}
	perTask := map[string]map[int][]float64{} // metric → task → scores
	add := func(name string, task int, v float64) {
		if perTask[name] == nil {
			perTask[name] = map[int][]float64{}
		}
		perTask[name][task] = append(perTask[name][task], v)
	}
	for _, c := range cands {
		if c.Task >= x.nEval { // an RL passage: its own metrics, apart from the table's
			switch c.Kind {
			case store.KindSelfEdit:
				if c.Status == "done" {
					add(fmt.Sprintf("round%d/rl_self_edit", c.Round), c.Task, c.AdaptedScore)
					add(fmt.Sprintf("round%d/rl_reward", c.Round), c.Task, c.Reward)
				}
			case store.KindBaselineBase:
				add(fmt.Sprintf("round%d/rl_base", c.Round), c.Task, c.AdaptedScore)
			}
			continue
		}
		if c.Kind == "self_edit" && c.Grounding != nil { // knowledge only: a reading aid beside the scores
			add(fmt.Sprintf("round%d/grounding", c.Round), c.Task, *c.Grounding)
		}
		if c.Kind == store.KindTeacher && c.Grounding != nil {
			add("teacher/grounding", c.Task, *c.Grounding)
		}
		switch {
		case c.Kind == "baseline_base":
			add(fmt.Sprintf("round%d/base", c.Round), c.Task, c.AdaptedScore)
		case c.Kind == "self_edit" && c.Status == "done":
			add(fmt.Sprintf("round%d/self_edit", c.Round), c.Task, c.AdaptedScore)
			add(fmt.Sprintf("round%d/reward", c.Round), c.Task, c.Reward)
		case c.Kind == store.KindTeacher && c.Status == "done":
			add("teacher", c.Task, c.AdaptedScore)
		case strings.HasPrefix(c.Kind, "baseline_") && c.Status == "done": // passage, steps, context; ARC: fixed, oracle
			add(c.Kind[len("baseline_"):], c.Task, c.AdaptedScore)
		}
	}
	var ms []store.Metric
	for name, tasks := range perTask {
		var macro []float64
		for _, v := range tasks {
			m, _ := knowledge.MeanStd(v)
			macro = append(macro, m)
		}
		ms = append(ms, store.Metric{RunID: x.r.ID, Name: name, Value: knowledge.MacroAccuracy(macro)})
	}
	if err := x.e.DB.SaveMetrics(ms); err != nil {
		return err
	}
	for _, m := range ms {
		x.r.send(Metric{Run: x.r.ID, Name: m.Name, Value: m.Value})
	}
	return nil
}

func roundRecord(rs []store.Round, round int) *store.Round {
	for i := range rs {
		if rs[i].Round == round {
			return &rs[i]
		}
	}
	return nil
}
