package engine

import (
	"context"
	"fmt"

	"seal/engine/knowledge"
	"seal/store"
)

// runner is one run's state while it executes.
type runner struct {
	e       *Engine
	r       *Run
	ctx     context.Context
	spec    RunSpec
	resumed bool

	dom      Domain // the run's domain (domain.go)
	lm       *lm
	tasks    []Task // the evaluation tasks, then (with --rl-data) every round's RL passages
	nEval    int    // how many of tasks are evaluation tasks
	grader   knowledge.Grader
	finished map[store.CandidateKey]int64

	version ModelVersion // the policy's weights: base + merged policy updates
	exec    Executor     // runs inner loops: Engine.Executor, or in-process
	g       *guardState  // ledger head and guard (ledger.go)
	teach   teacher      // the run's teacher, nil without one (teacher.go)
}

// Candidate indexes below 0 are the baselines stored beside a round's candidates.
const (
	idxPassage = -1 // trained on the passage only
	idxContext = -2 // passage in the prompt, no training
	idxBase    = -3 // no update at all
	// -4 is a held policy update (idxPolicy, ledger.go)
	idxTeacher = -5 // an edit written by the run's teacher (teacher.go)
	idxSteps   = -6 // the passage repeated to the self-edits' steps (stepmatch.go)
)

// openModel loads the spec's model, its content hash (the base of every version) and
// the grader, and runs inner loops in-process until run() picks another executor. The
// caller closes x.lm.
func (x *runner) openModel() error {
	var err error
	if x.dom, err = domainOf(x.spec); err != nil {
		return err
	}
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
	x.exec = localExecutor{m: x.model()}
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
	if err := x.openTeacher(); err != nil {
		return err
	}
	defer x.closeTeacher()
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

// numTasks is the number of evaluation tasks (the RL passages stored after them are not counted).
func (x *runner) numTasks() int { return x.nEval }

// trainsPolicy reports whether task t's kept self-edits may train the policy (and so
// wait for a person's verdict under the review gate): every task without --rl-data,
// only the RL passages with it.
func (x *runner) trainsPolicy(t int) bool { return !x.spec.SeparateRL() || t >= x.nEval }

// rlTasks are round's own block of RL passages (--rl-data), whose kept self-edits train
// the policy; none in the last round, which only measures.
func (x *runner) rlTasks(round int) []int {
	var out []int
	for i := range x.spec.RLPassages {
		if t := x.nEval + round*x.spec.RLPassages + i; round < x.spec.Rounds && t < len(x.tasks) {
			out = append(out, t)
		}
	}
	return out
}

// model is the policy as a domain sees it.
func (x *runner) model() *Model {
	return &Model{lm: x.lm, grader: x.grader, version: &x.version, cache: x.e.Dir}
}

// passage is knowledge task t; the modes and the guard that read passages run only
// on knowledge tasks (Validate, DomainInfo.Modes and ProbesFromData see to it).
func (x *runner) passage(t int) knowledge.Passage { return x.tasks[t].(passageTask).Passage }

// passages are the run's knowledge passages: none for another domain.
func (x *runner) passages() []knowledge.Passage {
	var out []knowledge.Passage
	for _, t := range x.tasks {
		if p, ok := t.(passageTask); ok {
			out = append(out, p.Passage)
		}
	}
	return out
}

func (x *runner) seed(round, task, idx int) uint64 {
	return x.spec.Seed*1_000_003 + uint64(round)*10_007 + uint64(task)*101 + uint64(idx+3)
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
	a, err := loadCheckedAdapter(dir, hash)
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
