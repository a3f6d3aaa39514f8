package engine

import (
	"fmt"
	"strings"

	"seal/engine/knowledge"
	"seal/models/llama"
	"seal/store"
)

// score fills in a candidate from its inner loop, its reward as the domain reckons it
// (knowledge: the gain over no update; ARC: pass@2 success itself). An invalid edit scores 0.
func (x *runner) score(c *store.Candidate, res InnerResult, base float64) {
	mean, std := knowledge.MeanStd(res.Accs)
	c.Status, c.AdaptedScore, c.Reward, c.RewardStd, c.Repeats = "done", mean, x.dom.Reward(mean, base), std, len(res.Accs)
	if res.Reason != "" {
		c.Status, c.Reason, c.AdaptedScore, c.Reward = "invalid", res.Reason, 0, 0
	}
	c.Curve, c.Evals = res.Curve, res.Evals
}

func (x *runner) commit(c *store.Candidate, w Where) error {
	if c.Grounding == nil {
		c.Grounding = x.grounding(*c)
	}
	id, err := x.e.DB.SaveCandidate(c)
	if err != nil {
		return err
	}
	c.ID = id
	x.finished[store.CandidateKey{Round: c.Round, Task: c.Task, Index: c.Index}] = id
	x.r.send(Reward{Where: w, CandidateID: id, Kind: c.Kind, Status: c.Status, Reason: c.Reason,
		Base: c.BaseScore, Adapted: c.AdaptedScore, Reward: c.Reward, Std: c.RewardStd})
	x.drainReviews()
	return nil
}

// editKinds are the candidates whose edit was written from the task by the policy, a
// teacher or a person, and so has a grounding share; baselines and policy updates have none.
var editKinds = map[string]bool{store.KindSelfEdit: true, store.KindContinual: true, store.KindCPT: true, store.KindHuman: true, store.KindTeacher: true}

// grounding is a candidate's grounding share when its domain grounds edits, nil
// otherwise; an empty edit states nothing and has none either.
func (x *runner) grounding(c store.Candidate) *float64 {
	g, ok := x.dom.(Grounder)
	if !ok || !editKinds[c.Kind] || strings.TrimSpace(c.Edit) == "" || c.Task < 0 || c.Task >= len(x.tasks) || x.tasks[c.Task] == nil {
		return nil
	}
	share := g.Grounding(x.tasks[c.Task], c.Edit)
	return &share
}

// candidates samples, applies and scores the k self-edits of one passage, skipping
// those a previous attempt committed. Their inner loops go to the executor as one
// batch, and each candidate is committed, in candidate order, as soon as its result
// arrives: a crash loses no finished candidate.
func (x *runner) candidates(round, t int, prompt string, base float64, w Where) ([]store.Candidate, error) {
	out, missing, err := x.committed(round, t)
	if err != nil || len(missing) == 0 {
		return out, err
	}
	edits, err := x.sampleEdits(round, t, prompt, missing, w)
	if err != nil {
		return nil, err
	}
	if err := x.waitIfPaused(); err != nil {
		return nil, err
	}
	cands := make([]store.Candidate, len(missing))
	var jobs []InnerJob
	var jobOf []int // the position in missing of each job
	for j, i := range missing {
		cw := w
		cw.Cand = i
		g := edits[j]
		c := store.Candidate{RunID: x.r.ID, Round: round, Task: t, Index: i, Kind: "self_edit", Prompt: prompt,
			Edit: strings.TrimSpace(g.Text), Tokens: len(g.Tokens), Seed: x.seed(round, t, i), BaseScore: base,
			Sampling: []byte(fmt.Sprintf(`{"temperature":%g,"top_p":%g,"max_tokens":%d}`, x.spec.Temp, x.spec.TopP, x.spec.EditTokens))}
		x.r.send(EditDone{Where: cw, Edit: c.Edit, Tokens: c.Tokens})
		if c.Edit == "" && prompt != "" {
			c.Status, c.Reason, c.Reward = "invalid", "the self-edit is empty", 0
		} else {
			job, err := x.innerJob(cw, "adapted", c.Edit, false, c.Seed)
			if err != nil {
				return nil, err
			}
			jobs = append(jobs, job)
			jobOf = append(jobOf, j)
		}
		cands[j] = c
	}
	next := 0 // the first of missing not yet committed
	commitTo := func(end int) error {
		for ; next < end; next++ {
			c := cands[next]
			cw := w
			cw.Cand = c.Index
			if err := x.commit(&c, cw); err != nil {
				return err
			}
			if x.spec.ReviewGate && x.trainsPolicy(t) {
				x.r.send(NeedsReview{Where: cw, CandidateID: c.ID, Edit: c.Edit, Reward: c.Reward})
			}
			out[c.Index] = c
		}
		return nil
	}
	first := len(missing)
	if len(jobOf) > 0 {
		first = jobOf[0]
	}
	if err := commitTo(first); err != nil { // empty edits before the first job are finished already
		return nil, err
	}
	err = x.runJobs(jobs, func(n int, res InnerResult) error {
		j := jobOf[n]
		x.score(&cands[j], res, base)
		end := len(missing) // the empty edits after this job, up to the next job, are finished too
		if n+1 < len(jobOf) {
			end = jobOf[n+1]
		}
		return commitTo(end)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// committed loads the candidates 0..k-1 of a passage that a previous attempt already
// committed, and lists the indexes still to do.
func (x *runner) committed(round, t int) ([]store.Candidate, []int, error) {
	out := make([]store.Candidate, x.spec.K)
	var missing []int
	for i := range out {
		id, ok := x.finished[store.CandidateKey{Round: round, Task: t, Index: i}]
		if !ok {
			missing = append(missing, i)
			continue
		}
		c, err := x.e.DB.Candidate(id)
		if err != nil {
			return nil, nil, err
		}
		out[i] = c
	}
	return out, missing, nil
}

// sampleEdits draws the missing candidates. Candidate i always samples with seed
// seed(round, task, i), consecutive in i, so a whole passage goes in one batch (the
// generator gives candidate i seed+i) and a resumed run draws one by one exactly what
// the first attempt would have drawn.
func (x *runner) sampleEdits(round, t int, prompt string, idx []int, w Where) ([]llama.Generation, error) {
	if prompt == "" { // the "passage" style writes nothing: the update is the passage alone
		return make([]llama.Generation, len(idx)), nil
	}
	sample := func(first, n int) ([]llama.Generation, error) {
		sc := llama.SampleConfig{Temperature: x.spec.Temp, TopP: x.spec.TopP, Seed: x.seed(round, t, first)}
		return x.lm.generate(x.ctx, []string{prompt}, n, x.spec.EditTokens, sc, func(seq int, text string) {
			cw := w
			cw.Cand = first + seq
			x.r.send(Token{Where: cw, Text: text})
		})
	}
	if len(idx) == x.spec.K {
		return sample(0, x.spec.K)
	}
	var out []llama.Generation
	for _, i := range idx {
		gens, err := sample(i, 1)
		if err != nil {
			return nil, err
		}
		out = append(out, gens[0])
	}
	return out, nil
}
