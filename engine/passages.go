package engine

import (
	"errors"
	"fmt"

	"seal/engine/arc"
	"seal/engine/knowledge"
	"seal/store"
)

// readPassages reads the run's slice of the SQuAD-format file (--offset, --passages):
// only that slice is kept in memory, a slice that runs past the file's end is an error,
// and every passage is checked, before any work, to be usable and to fit the model.
func (x *runner) readPassages() ([]store.Task, error) {
	ps, total, err := knowledge.LoadSQuADRange(x.spec.Data, x.spec.Offset, x.spec.Tasks)
	if err != nil {
		return nil, err
	}
	if err := sliceWithin(x.spec, total, "passages"); err != nil {
		return nil, err
	}
	var rows []store.Task
	for i, p := range ps {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("%s: passage %d: %w", x.spec.Data, x.spec.Offset+i, err)
		}
		if err := x.passageFits(p, x.spec.Offset+i); err != nil {
			return nil, err
		}
		x.tasks = append(x.tasks, p)
		qs := make([]store.QA, len(p.Questions))
		for j, q := range p.Questions {
			qs[j] = store.QA{Question: q.Question, Answer: q.Answer}
		}
		rows = append(rows, store.Task{RunID: x.r.ID, Index: i, Key: fmt.Sprint(x.spec.Offset + i), Title: p.Title, Context: p.Context, Questions: qs})
	}
	return rows, nil
}

// sliceWithin refuses an --offset or --passages that asks for more than the file holds
// (of what: "passages" or "ARC sub-tasks"), instead of quietly running on fewer.
func sliceWithin(s RunSpec, total int, what string) error {
	switch {
	case s.Offset >= total:
		return fmt.Errorf("%s has %d %s; --offset %d is past the end", s.Data, total, what, s.Offset)
	case s.Tasks > 0 && s.Offset+s.Tasks > total:
		return fmt.Errorf("%s has %d %s; --passages %d (from --offset %d) asks for more; use --passages 0 for all",
			s.Data, total, what, s.Tasks, s.Offset)
	}
	return nil
}

// passageFits checks that each prompt the run builds from passage p, with the tokens
// generated after it, fits the model's context: a longer one would run on positions the
// model never saw, silently.
func (x *runner) passageFits(p knowledge.Passage, index int) error {
	where := fmt.Sprintf("%s: passage %d", x.spec.Data, index)
	style, err := knowledge.ParseStyle(x.spec.Style)
	if err != nil {
		return err
	}
	if prompt := knowledge.SelfEditPrompt(style, p); prompt != "" {
		if err := x.fits(where, "its self-edit prompt", prompt, x.spec.EditTokens, "--edit-tokens"); err != nil {
			return err
		}
	} else if err := x.fits(where, "its text", p.Title+"\n"+p.Context, 0, ""); err != nil {
		return err // the passage itself is the training sequence
	}
	for j, q := range p.Questions {
		what := fmt.Sprintf("question %d's prompt", j)
		prompt := knowledge.QAPrompt(p, q)
		if x.spec.Baselines {
			what, prompt = fmt.Sprintf("question %d's prompt with the passage in context", j), knowledge.InContextPrompt(p, q)
		}
		if err := x.fits(where, what, prompt, x.spec.QATokens, "--qa-tokens"); err != nil {
			return err
		}
	}
	return nil
}

// arcTaskFits checks an ARC sub-task's self-edit prompt against the context (test-time
// training already clips its own sequences to it).
func (x *runner) arcTaskFits(t arc.Task) error {
	prompt, err := x.prompter.SelfEditPrompt(t)
	if err != nil {
		return fmt.Errorf("%s: task %s: %w", x.spec.Data, t.ID, err)
	}
	return x.fits(fmt.Sprintf("%s: task %s", x.spec.Data, t.ID), "its self-edit prompt", prompt, x.spec.EditTokens, "--edit-tokens")
}

// fits is the one length check: prompt tokens plus budget within max_position_embeddings.
func (x *runner) fits(where, what, prompt string, budget int, flag string) error {
	n, ctx := len(x.lm.encode(prompt)), x.lm.ck.Config.MaxPositions
	if n+budget <= ctx {
		return nil
	}
	if flag == "" {
		return fmt.Errorf("%s: %s is %d tokens, longer than the model's context of %d tokens (max_position_embeddings)", where, what, n, ctx)
	}
	return fmt.Errorf("%s: %s is %d tokens and %s %d more may be generated: %d, longer than the model's context of %d tokens (max_position_embeddings)",
		where, what, n, flag, budget, n+budget, ctx)
}

// probePassages reads the probe file only as far as the guard's general probe set
// reaches (loadGeneralProbes walks the same prefix): the passages in file order up to
// the one that brings the probe questions to g.Probes, or up to an unusable one, which
// loadGeneralProbes reports. A large data file is not held whole for a few probes.
func (x *runner) probePassages(path string) ([]knowledge.Passage, error) {
	mine := map[string]bool{}
	for _, p := range x.tasks {
		mine[p.Title+"\x00"+p.Context] = true
	}
	var prefix []knowledge.Passage
	questions := 0
	_, err := knowledge.ScanSQuAD(path, func(_ int, p knowledge.Passage) bool {
		if questions >= x.spec.Guard.Probes {
			return false
		}
		prefix = append(prefix, p)
		if mine[p.Title+"\x00"+p.Context] {
			return true
		}
		if err := p.Validate(); err != nil {
			return errors.Is(err, knowledge.ErrNoQuestions)
		}
		questions += len(p.Questions)
		return true
	})
	return prefix, err
}

// loadPassages reads the run's slice of the SQuAD-format file (passages.go).
func (x *runner) loadPassages() ([]store.Task, error) { return x.readPassages() }
