package engine

import (
	"context"
	"fmt"
	"strings"

	"seal/engine/knowledge"
	"seal/engine/redact"
	"seal/store"
)

// WhatIf scores a self-edit a person wrote by hand for one passage of a stored run,
// against the model version that round's candidates saw (the base model plus the
// run's saved updates before that round, rebuilt with applySaved), and commits it as
// a candidate of kind "human". It loads its own copy of the model, so it can run
// beside a live run without touching that run's weights; the store serialises the
// writes. The returned Run streams the inner loop's events (training steps, graded
// answers) and closes after the Reward; Wait returns its error.
func (e *Engine) WhatIf(ctx context.Context, runID int64, round, task int, edit string) (*Run, error) {
	edit = strings.TrimSpace(edit)
	if edit == "" {
		return nil, fmt.Errorf("what-if: the edit is empty")
	}
	_, spec, err := e.storedSpec(runID)
	if err != nil {
		return nil, err
	}
	tasks, err := e.DB.Tasks(runID)
	if err != nil {
		return nil, err
	}
	if task < 0 || task >= len(tasks) {
		return nil, fmt.Errorf("what-if: run %d has %d passages; passage %d does not exist", runID, len(tasks), task)
	}
	if d, _ := DomainNamed(spec.Domain); d != (knowledgeDomain{}) { // a hand-written edit is scored as text
		return nil, fmt.Errorf("what-if: run %d is an %s run; hand-written edits are scored for knowledge runs", runID, spec.Domain)
	}
	if round < 0 || round >= spec.Rounds {
		return nil, fmt.Errorf("what-if: run %d has %d rounds; round %d does not exist", runID, spec.Rounds, round)
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &Run{ID: runID, Spec: spec, events: make(chan Event, 1024), cancel: cancel, done: make(chan struct{}), reviews: make(chan review)}
	go func() {
		defer close(r.done)
		defer close(r.events)
		defer cancel()
		x := &runner{e: e, r: r, ctx: ctx, spec: spec}
		r.err = redact.Error(x.whatIf(round, task, tasks[task], edit))
		if r.err != nil {
			r.send(Error{Run: runID, Message: r.err.Error()})
		}
	}()
	return r, nil
}

func (x *runner) whatIf(round, task int, t store.Task, edit string) error {
	if err := x.openModel(); err != nil {
		return err
	}
	defer x.lm.close()
	if err := x.rebuildVersion(round); err != nil {
		return err
	}
	pt := knowledgeDomain{}.FromRows([]store.Task{t})[0]
	p := pt.(passageTask).Passage
	cands, err := x.e.DB.Candidates(x.r.ID, false)
	if err != nil {
		return err
	}
	// Human candidates take indexes after the k sampled ones, so they never collide with
	// a candidate the run itself will commit (or has committed) at that key.
	index, base, haveBase := x.spec.K, 0.0, false
	for _, c := range cands {
		if c.Round != round || c.Task != task {
			continue
		}
		if c.Index >= index {
			index = c.Index + 1
		}
		if c.Kind == store.KindBaselineBase {
			base, haveBase = c.AdaptedScore, true
		}
	}
	w := Where{Run: x.r.ID, Round: round, Task: task, Cand: index}
	if !haveBase {
		s, _, err := x.evaluate(p, false, "base", 0, w)
		if err != nil {
			return err
		}
		base = s.Accuracy()
	}
	c := store.Candidate{RunID: x.r.ID, Round: round, Task: task, Index: index, Kind: store.KindHuman,
		Prompt: knowledge.SelfEditPrompt(mustStyle(x.spec.Style), p), Edit: edit, Seed: x.seed(round, task, index), BaseScore: base}
	x.r.send(EditDone{Where: w, Edit: edit})
	x.tasks = make([]Task, task+1) // innerJob finds the passage by its index
	x.tasks[task] = pt
	x.finished = map[store.CandidateKey]int64{}
	j, err := x.innerJob(w, "adapted", edit, false, c.Seed)
	if err != nil {
		return err
	}
	return x.runJobs([]InnerJob{j}, func(_ int, res InnerResult) error {
		x.score(&c, res, base)
		return x.commit(&c, w)
	})
}

// rebuildVersion puts the model in the state a round's candidates saw: ReST-EM's policy
// updates of the earlier rounds, or continual mode's merged steps before that step.
func (x *runner) rebuildVersion(round int) error {
	if x.spec.Mode == "continual" {
		cands, err := x.e.DB.Candidates(x.r.ID, false)
		if err != nil {
			return err
		}
		for _, c := range cands {
			if c.Kind == store.KindContinual && c.Round < round && c.AdapterPath != "" {
				if err := x.applySaved(c.AdapterPath, c.AdapterHash, true); err != nil {
					return err
				}
			}
		}
		return nil
	}
	rounds, err := x.e.DB.Rounds(x.r.ID)
	if err != nil {
		return err
	}
	for _, rd := range rounds {
		if rd.Round < round && rd.PolicyAdapterPath != "" {
			if err := x.applySaved(rd.PolicyAdapterPath, rd.PolicyHash, x.spec.Policy.Merge); err != nil {
				return err
			}
		}
	}
	return nil
}

func mustStyle(name string) knowledge.Style {
	s, _ := knowledge.ParseStyle(name) // the spec was validated when the run started
	return s
}
