package engine

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"seal/engine/arc"
	"seal/engine/knowledge"
	"seal/models/llama"
	"seal/models/lora"
	"seal/models/train"
	"seal/store"
)

// runner is one run's state while it executes.
type runner struct {
	e       *Engine
	r       *Run
	ctx     context.Context
	spec    RunSpec
	resumed bool

	lm       *lm
	tasks    []knowledge.Passage // the knowledge domain's passages
	arcTasks []arc.Task          // or the ARC domain's tasks
	prompter arc.Prompter
	grader   knowledge.Grader
	finished map[store.CandidateKey]int64

	version ModelVersion // the policy's weights: base + merged policy updates
	exec    Executor     // runs inner loops: Engine.Executor, or in-process
	g       *guardState  // ledger head and guard (ledger.go)
}

// Candidate indexes below 0 are the baselines stored beside a round's candidates.
const (
	idxPassage = -1 // trained on the passage only
	idxContext = -2 // passage in the prompt, no training
	idxBase    = -3 // no update at all
)

// openModel loads the spec's model, its content hash (the base of every version) and
// the grader, and runs inner loops in-process until run() picks another executor. The
// caller closes x.lm.
func (x *runner) openModel() error {
	var err error
	if x.lm, err = loadLM(x.spec.Model, x.e.Backend); err != nil {
		return err
	}
	hash := ModelHash
	if x.resumed {
		hash = VerifyModelHash // a resume trusts no cache: the run's results rest on these bytes
	}
	if x.version.Base, err = hash(x.spec.Model); err != nil {
		x.lm.close()
		return err
	}
	if x.grader, err = newGrader(x.lm, x.spec.graderSettings()); err != nil {
		x.lm.close()
		return err
	}
	x.exec = localExecutor{lm: x.lm, grader: x.grader}
	return nil
}

func (x *runner) run() error {
	if err := x.openModel(); err != nil {
		return err
	}
	defer x.lm.close()
	if err := x.loadTasks(); err != nil { // inputs.go
		return err
	}
	if x.e.Executor != nil {
		if !x.spec.Policy.Merge && x.spec.Mode == "restem" {
			return fmt.Errorf("remote inner loops need policy.merge: a worker rebuilds the policy from merged updates")
		}
		x.exec = x.e.Executor
		if p, ok := x.exec.(Publisher); ok {
			if err := p.PublishModel(x.ctx, x.version.Base, x.spec.Model); err != nil {
				return err
			}
		}
	}
	var err error
	if x.finished, err = x.e.DB.Finished(x.r.ID); err != nil {
		return err
	}
	x.r.send(RunStarted{Run: x.r.ID, Name: x.spec.Name, Tasks: x.numTasks(), Resumed: x.resumed, Device: x.lm.model.Backend.Name()})
	if err := x.startVersion(); err != nil { // the ledger: base entry, or a branch's version rebuilt (ledger.go)
		return err
	}
	switch x.spec.Mode {
	case "continual":
		return x.continual()
	case "cpt":
		return x.cpt()
	}
	return x.restem()
}

// loadPassages reads the run's slice of the SQuAD-format file (passages.go).
func (x *runner) loadPassages() ([]store.Task, error) { return x.readPassages() }

func (x *runner) numTasks() int {
	if x.spec.Domain == "arc" {
		return len(x.arcTasks)
	}
	return len(x.tasks)
}

// newGrader makes the grader that settings name; the judge is the model l itself.
func newGrader(l *lm, settings GraderSettings) (knowledge.Grader, error) {
	judge := knowledge.JudgeGrader(func(ctx context.Context, prompt string) (string, error) {
		g, err := l.generate(ctx, []string{prompt}, 1, 8, llama.SampleConfig{}, nil)
		if err != nil {
			return "", err
		}
		return g[0].Text, nil
	})
	switch settings.Kind {
	case "judge":
		return judge, nil
	case "hybrid":
		return knowledge.HybridGrader(judge), nil
	case "http":
		return knowledge.HTTPGrader(knowledge.HTTPGraderConfig{BaseURL: settings.URL, APIKey: os.Getenv("SEAL_GRADER_KEY"),
			Model: settings.Model, Timeout: 30 * time.Second, Retries: 3, Backoff: time.Second})
	case "contains", "":
		return knowledge.ContainmentGrader(), nil
	}
	return nil, fmt.Errorf("grader %q is not one of contains, judge, hybrid, http", settings.Kind)
}

// waitIfPaused holds the run at a candidate boundary while paused, and records
// reviews that arrive meanwhile.
func (x *runner) waitIfPaused() error {
	for {
		x.r.mu.Lock()
		paused, ch := x.r.paused, x.r.resume
		x.r.mu.Unlock()
		if !paused {
			return x.ctx.Err()
		}
		x.r.send(Status{Run: x.r.ID, Status: store.StatusPaused})
		select {
		case <-ch:
			x.r.send(Status{Run: x.r.ID, Status: store.StatusRunning})
		case rv := <-x.r.reviews:
			x.recordReview(rv)
		case <-x.ctx.Done():
			return x.ctx.Err()
		}
	}
}

func (x *runner) recordReview(rv review) {
	_, err := x.e.DB.SaveReview(rv.Review)
	rv.reply <- err
	if err == nil {
		x.r.send(Reviewed{CandidateID: rv.CandidateID, Verdict: rv.Verdict, Reason: rv.Reason})
	}
}

// drainReviews records reviews that are waiting, without blocking.
func (x *runner) drainReviews() {
	for {
		select {
		case rv := <-x.r.reviews:
			x.recordReview(rv)
		default:
			return
		}
	}
}

func (x *runner) seed(round, task, idx int) uint64 {
	return x.spec.Seed*1_000_003 + uint64(round)*10_007 + uint64(task)*101 + uint64(idx+3)
}

// restem runs ReST-EM: per round, sample k self-edits per passage, score each by its
// inner loop, keep the best (or the positive) ones that no person rejected, finetune
// the policy on (prompt, edit) pairs, merge, and go on with the new policy.
func (x *runner) restem() error {
	style, _ := knowledge.ParseStyle(x.spec.Style)
	rounds, err := x.e.DB.Rounds(x.r.ID)
	if err != nil {
		return err
	}
	first, err := x.firstStep(store.LedgerPolicy)
	if err != nil {
		return err
	}
	for round := first; round < x.spec.Rounds; round++ {
		if done := roundRecord(rounds, round); done != nil {
			// A finished round: rebuild the policy from its saved update.
			if done.PolicyAdapterPath != "" {
				if err := x.applySaved(done.PolicyAdapterPath, done.PolicyHash, x.spec.Policy.Merge); err != nil {
					return err
				}
			}
			continue
		}
		var rewards []float64
		type kept struct {
			task         int
			prompt, edit string
			adapted      float64
		}
		var keep []kept
		for t := range x.numTasks() {
			w := Where{Run: x.r.ID, Round: round, Task: t}
			base, err := x.baseline(round, t)
			if err != nil {
				return err
			}
			if round == 0 && x.spec.Baselines {
				if err := x.baselines(t, base); err != nil {
					return err
				}
			}
			prompt, err := x.selfEditPrompt(style, t)
			if err != nil {
				return err
			}
			cands, err := x.candidates(round, t, prompt, base, w)
			if err != nil {
				return err
			}
			if x.spec.ReviewGate {
				if err := x.awaitReviews(cands); err != nil {
					return err
				}
			}
			reviews, err := x.e.DB.LatestReviews(x.r.ID)
			if err != nil {
				return err
			}
			var means []float64
			var usable []store.Candidate
			for _, c := range cands {
				rewards = append(rewards, c.Reward)
				rv, reviewed := reviews[c.ID]
				if c.Status != "done" || reviewed && rv.Verdict == "reject" {
					continue
				}
				if reviewed && rv.Edited != "" {
					c.Edit = rv.Edited
				}
				usable = append(usable, c)
				means = append(means, c.AdaptedScore)
			}
			if len(usable) == 0 {
				continue
			}
			if x.spec.Filter == "best" {
				b := usable[knowledge.BestOfK(means)]
				keep = append(keep, kept{t, prompt, b.Edit, b.AdaptedScore})
			} else {
				for _, c := range usable {
					if c.Reward > 0 {
						keep = append(keep, kept{t, prompt, c.Edit, c.AdaptedScore})
					}
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
				if x.spec.Domain != "arc" && (i == 0 || keep[i-1].task != k.task) {
					p := x.tasks[k.task] // the policy trains with the passage in its prompt: the rules read it too
					passages = append(passages, p.Title+"\n"+p.Context)
				}
			}
			a, curve, err := x.trainLoRA(x.spec.Policy, examples, x.seed(round, 0, -10), "policy", Where{Run: x.r.ID, Round: round})
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

// summarize stores the baseline table: macro accuracy (the mean over passages of each
// passage's accuracy) of every condition, per round for the self-edits.
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
		switch {
		case c.Kind == "baseline_base":
			add(fmt.Sprintf("round%d/base", c.Round), c.Task, c.AdaptedScore)
		case c.Kind == "self_edit" && c.Status == "done":
			add(fmt.Sprintf("round%d/self_edit", c.Round), c.Task, c.AdaptedScore)
			add(fmt.Sprintf("round%d/reward", c.Round), c.Task, c.Reward)
		case strings.HasPrefix(c.Kind, "baseline_") && c.Status == "done": // passage, context; ARC: fixed, oracle
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

// merged records an update merged into the weights in the model version, and hands it
// to an executor whose workers need it.
func (x *runner) merged(hash, dir string) error {
	x.version = x.version.With(hash)
	if p, ok := x.exec.(Publisher); ok {
		return p.PublishAdapter(x.ctx, hash, dir)
	}
	return nil
}

// applySaved re-applies a saved update after checking its content hash (nothing is
// trusted by name alone), merging it into the weights or keeping it attached.
func (x *runner) applySaved(dir, hash string, merge bool) error {
	h, err := hashFile(dir + "/adapter_model.safetensors")
	if err != nil {
		return err
	}
	if h != hash {
		return fmt.Errorf("saved adapter %s has hash %s, the store recorded %s", dir, h, hash)
	}
	a, err := lora.Load(dir)
	if err != nil {
		return err
	}
	if err := x.lm.model.SetAdapter(a); err != nil {
		return err
	}
	if merge {
		if err := x.lm.model.MergeAdapter(); err != nil {
			return err
		}
		return x.merged(hash, dir)
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

// score fills in a candidate from its inner loop. The knowledge reward is the gain over
// no update; ARC's is pass@2 success itself (docs/seal-method.md §2.7: binary). An invalid edit scores 0.
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

func (x *runner) score(c *store.Candidate, res InnerResult, base float64) {
	mean, std := knowledge.MeanStd(res.Accs)
	c.Status, c.AdaptedScore, c.Reward, c.RewardStd, c.Repeats = "done", mean, mean-base, std, len(res.Accs)
	if x.spec.Domain == "arc" {
		c.Reward = mean
	}
	if res.Reason != "" {
		c.Status, c.Reason, c.AdaptedScore, c.Reward = "invalid", res.Reason, 0, 0
	}
	c.Curve, c.Evals = res.Curve, res.Evals
}

func (x *runner) commit(c *store.Candidate, w Where) error {
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
			jobs = append(jobs, x.innerJob(round, t, i, "adapted", c.Edit, x.spec.Split, c.Seed))
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
			if x.spec.ReviewGate {
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

// awaitReviews blocks until every committed candidate of the list has a verdict.
func (x *runner) awaitReviews(cands []store.Candidate) error {
	for {
		reviews, err := x.e.DB.LatestReviews(x.r.ID)
		if err != nil {
			return err
		}
		pending := 0
		for _, c := range cands {
			if _, ok := reviews[c.ID]; !ok && c.Status == "done" {
				pending++
			}
		}
		if pending == 0 {
			return nil
		}
		select {
		case rv := <-x.r.reviews:
			x.recordReview(rv)
		case <-x.ctx.Done():
			return x.ctx.Err()
		}
	}
}
