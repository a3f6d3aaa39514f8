package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"seal/engine/arc"
	"seal/engine/knowledge"
	"seal/store"
)

// loadARC reads the run's ARC tasks: a task with m tests becomes m sub-tasks
// (docs/seal-method.md §2.1), and the run takes its slice of those.
func (x *runner) loadARC() ([]store.Task, error) {
	sol := ARCSolutionsPath(x.spec.Data, x.spec.Solutions)
	all, err := arc.Load(x.spec.Data, sol)
	if err != nil {
		return nil, err
	}
	var subs []arc.Task
	for _, t := range all {
		subs = append(subs, arc.SubTasks(t)...)
	}
	if err := sliceWithin(x.spec, len(subs), "ARC sub-tasks"); err != nil {
		return nil, err
	}
	end := len(subs)
	if x.spec.Tasks > 0 {
		end = min(end, x.spec.Offset+x.spec.Tasks)
	}
	if x.prompter, err = arc.PrompterFor(x.spec.Model); err != nil {
		return nil, err
	}
	var rows []store.Task
	for i, t := range subs[x.spec.Offset:end] {
		if !t.Solved() {
			return nil, fmt.Errorf("%s: task %s has no solution (give --solutions): a reward needs the expected output", x.spec.Data, t.ID)
		}
		if err := x.arcTaskFits(t); err != nil {
			return nil, err
		}
		x.arcTasks = append(x.arcTasks, t)
		var qs []store.QA
		for _, p := range t.Test {
			qs = append(qs, store.QA{Question: arc.Format(p.Input), Answer: arc.Format(p.Output)})
		}
		rows = append(rows, store.Task{RunID: x.r.ID, Index: i, Key: t.ID, Title: t.ID, Context: arc.SelfEditUser(t), Questions: qs})
	}
	return rows, nil
}

// ARCSolutionsPath is the solutions file of a challenges file: the one given, or the
// challenges file's name with "challenges" replaced by "solutions" when that exists.
func ARCSolutionsPath(challenges, solutions string) string {
	if solutions != "" {
		return solutions
	}
	dir, name := filepath.Split(challenges)
	if guess := filepath.Join(dir, strings.Replace(name, "challenges", "solutions", 1)); guess != challenges {
		if _, err := os.Stat(guess); err == nil {
			return guess
		}
	}
	return ""
}

// selfEditPrompt is the prompt the policy continues with a self-edit for task t.
func (x *runner) selfEditPrompt(style knowledge.Style, t int) (string, error) {
	if x.spec.Domain == "arc" {
		return x.prompter.SelfEditPrompt(x.arcTasks[t])
	}
	return knowledge.SelfEditPrompt(style, x.tasks[t]), nil
}

// arcOptions are the run's TTT settings with a seed, for the baselines that run
// in-process (candidates carry the same settings in their jobs).
func (x *runner) arcOptions(seed uint64) arc.Options {
	return arcOptions(InnerJob{Inner: x.spec.Inner, ARCVote: x.spec.ARCVote, ARCMax: x.spec.ARCExamples}, x.prompter, seed)
}

// arcBaselines scores, beside the self-edits, test-time training with the fixed
// hand-chosen config (in the passage-only slot) and the oracle, the best config of a
// small search judged on the real tests (in the in-context slot; the in-context row is
// the no-update baseline itself).
func (x *runner) arcBaselines(t int, base float64) error {
	task := x.arcTasks[t]
	if err := x.jobBaseline(t, "baseline_fixed", arc.FixedConfig().JSON(), false, base); err != nil {
		return err
	}
	w := Where{Run: x.r.ID, Task: t, Cand: idxContext}
	if _, ok := x.finished[store.CandidateKey{Task: t, Index: idxContext}]; ok {
		return nil
	}
	cfg, r, err := arc.Oracle(x.ctx, x.lm.model, x.lm.tok, task, arc.SearchSpace(), x.arcOptions(x.seed(0, t, idxContext)))
	if err != nil {
		return err
	}
	c := store.Candidate{RunID: x.r.ID, Task: t, Index: idxContext, Kind: "baseline_oracle", Status: "done", Edit: cfg.JSON(),
		Seed: x.seed(0, t, idxContext), BaseScore: base, AdaptedScore: r.Reward, Reward: r.Reward, Repeats: 1,
		Evals: arcEvalItems(task, r, 0, "baseline_oracle", w, x.r.send)}
	return x.commit(&c, w)
}
