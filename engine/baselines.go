package engine

import (
	"seal/engine/arc"
	"seal/store"
)

// baseline is the current policy's closed-book accuracy on a passage, committed once
// per round as a candidate of kind baseline_base (greedy decoding makes it
// deterministic, so it is not repeated).
func (x *runner) baseline(round, t int) (float64, error) {
	key := store.CandidateKey{Round: round, Task: t, Index: idxBase}
	if id, ok := x.finished[key]; ok {
		c, err := x.e.DB.Candidate(id)
		return c.AdaptedScore, err
	}
	w := Where{Run: x.r.ID, Round: round, Task: t, Cand: idxBase}
	var acc float64
	var items []store.EvalItem
	if x.spec.Domain == "arc" {
		r, err := arc.InContext(x.ctx, x.lm.model, x.lm.tok, x.arcTasks[t], x.arcOptions(x.seed(round, t, idxBase)))
		if err != nil {
			return 0, err
		}
		acc, items = r.Reward, arcEvalItems(x.arcTasks[t], r, 0, "base", w, x.r.send)
	} else {
		s, its, err := x.evaluate(x.tasks[t], false, "base", 0, w)
		if err != nil {
			return 0, err
		}
		acc, items = s.Accuracy(), its
	}
	c := store.Candidate{RunID: x.r.ID, Round: round, Task: t, Index: idxBase, Kind: "baseline_base", Status: "done",
		BaseScore: acc, AdaptedScore: acc, Repeats: 1, Evals: items}
	return acc, x.commit(&c, w)
}

// baselines scores the passage-only update and the passage in context, beside the
// self-edits, on the same questions.
func (x *runner) baselines(t int, base float64) error {
	if x.spec.Domain == "arc" {
		return x.arcBaselines(t, base)
	}
	p := x.tasks[t]
	if err := x.jobBaseline(t, "baseline_passage", "", true, base); err != nil {
		return err
	}
	w := Where{Run: x.r.ID, Task: t, Cand: idxContext}
	if _, ok := x.finished[store.CandidateKey{Task: t, Index: idxContext}]; !ok {
		s, items, err := x.evaluate(p, true, "context", 0, w)
		if err != nil {
			return err
		}
		c := store.Candidate{RunID: x.r.ID, Task: t, Index: idxContext, Kind: "baseline_context", Status: "done",
			BaseScore: base, AdaptedScore: s.Accuracy(), Reward: s.Accuracy() - base, Repeats: 1, Evals: items}
		return x.commit(&c, w)
	}
	return nil
}

// jobBaseline scores a fixed edit (none: the passage alone; ARC: the hand-chosen config)
// through the candidates' job path, once, in the passage-only slot of round 0.
func (x *runner) jobBaseline(t int, kind, edit string, split bool, base float64) error {
	if _, ok := x.finished[store.CandidateKey{Task: t, Index: idxPassage}]; ok {
		return nil
	}
	c := store.Candidate{RunID: x.r.ID, Task: t, Index: idxPassage, Kind: kind, Edit: edit, Seed: x.seed(0, t, idxPassage), BaseScore: base}
	return x.runJobs([]InnerJob{x.innerJob(0, t, idxPassage, kind, edit, split, c.Seed)}, func(_ int, res InnerResult) error {
		x.score(&c, res, base)
		return x.commit(&c, Where{Run: x.r.ID, Task: t, Cand: idxPassage})
	})
}
