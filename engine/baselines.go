package engine

import (
	"seal/store"
)

// baseline is the current policy's score on a task with no update (the domain's
// Base), committed once per round as a candidate of kind baseline_base (greedy
// decoding makes it deterministic, so it is not repeated).
func (x *runner) baseline(round, t int) (float64, error) {
	key := store.CandidateKey{Round: round, Task: t, Index: idxBase}
	if id, ok := x.finished[key]; ok {
		c, err := x.e.DB.Candidate(id)
		return c.AdaptedScore, err
	}
	w := Where{Run: x.r.ID, Round: round, Task: t, Cand: idxBase}
	acc, items, err := x.dom.Base(x.ctx, x.model(), Scoring{Spec: x.spec, Task: x.tasks[t], Seed: x.seed(round, t, idxBase), At: Sink{Where: w, Send: x.r.send}})
	if err != nil {
		return 0, err
	}
	c := store.Candidate{RunID: x.r.ID, Round: round, Task: t, Index: idxBase, Kind: "baseline_base", Status: "done",
		BaseScore: acc, AdaptedScore: acc, Repeats: 1, Evals: items}
	return acc, x.commit(&c, w)
}

// baselines scores, beside the self-edits and on the same questions, the domain's
// fixed edit through the job path (knowledge: the passage alone; ARC: the hand-chosen
// config) and its own in-process baseline (knowledge: the passage in context; ARC:
// the oracle config).
func (x *runner) baselines(t int, base float64) error {
	kind, edit := x.dom.FixedEdit(x.spec)
	if err := x.jobBaseline(t, kind, edit, base); err != nil {
		return err
	}
	w := Where{Run: x.r.ID, Task: t, Cand: idxContext}
	if _, ok := x.finished[store.CandidateKey{Task: t, Index: idxContext}]; ok {
		return nil
	}
	c, err := x.dom.OwnBaseline(x.ctx, x.model(), Scoring{Spec: x.spec, Task: x.tasks[t], Seed: x.seed(0, t, idxContext), Base: base, At: Sink{Where: w, Send: x.r.send}})
	if err != nil {
		return err
	}
	c.RunID, c.Task, c.Index, c.Status, c.BaseScore, c.Repeats = x.r.ID, t, idxContext, "done", base, 1
	return x.commit(&c, w)
}

// jobBaseline scores a fixed edit through the candidates' job path, once, in the
// passage-only slot of round 0.
func (x *runner) jobBaseline(t int, kind, edit string, base float64) error {
	if _, ok := x.finished[store.CandidateKey{Task: t, Index: idxPassage}]; ok {
		return nil
	}
	c := store.Candidate{RunID: x.r.ID, Task: t, Index: idxPassage, Kind: kind, Edit: edit, Seed: x.seed(0, t, idxPassage), BaseScore: base}
	j, err := x.innerJob(Where{Task: t, Cand: idxPassage}, kind, edit, true, c.Seed)
	if err != nil {
		return err
	}
	return x.runJobs([]InnerJob{j}, func(_ int, res InnerResult) error {
		x.score(&c, res, base)
		return x.commit(&c, Where{Run: x.r.ID, Task: t, Cand: idxPassage})
	})
}
