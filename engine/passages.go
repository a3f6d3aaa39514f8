package engine

import (
	"errors"
	"fmt"

	"seal/engine/knowledge"
)

// readPassages reads a slice of a SQuAD-format file (the run's --offset and --passages
// of --data, or every round's RL passages of --rl-data): only that slice is kept in
// memory, a slice that runs past the file's end is an error, and every passage is
// checked, before any work, to be usable and to fit the model.
func readPassages(l *lm, s RunSpec, from TaskSlice) ([]Task, error) {
	ps, total, err := knowledge.LoadSQuADRange(from.File, from.Offset, from.Count)
	if err != nil {
		if from.RL {
			return nil, fmt.Errorf("--rl-data: %w", err)
		}
		return nil, err
	}
	if err := from.Within(total, "passages"); err != nil {
		return nil, err
	}
	fs := s
	fs.Data = from.Name()
	var out []Task
	for i, p := range ps {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("%s: passage %d: %w", from.Name(), from.Offset+i, err)
		}
		if err := passageFits(l, fs, p, from.Offset+i); err != nil {
			return nil, err
		}
		out = append(out, passageTask{Passage: p, key: from.Key(fmt.Sprint(from.Offset + i))})
	}
	return out, nil
}

// passageFits checks that each prompt the run builds from passage p, with the tokens
// generated after it, fits the model's context: a longer one would run on positions the
// model never saw, silently.
func passageFits(l *lm, s RunSpec, p knowledge.Passage, index int) error {
	where := fmt.Sprintf("%s: passage %d", s.Data, index)
	style, err := knowledge.ParseStyle(s.Style)
	if err != nil {
		return err
	}
	if prompt := knowledge.SelfEditPrompt(style, p); prompt != "" {
		if err := fits(l, where, "its self-edit prompt", prompt, s.EditTokens, "--edit-tokens"); err != nil {
			return err
		}
	} else if err := fits(l, where, "its text", p.Title+"\n"+p.Context, 0, ""); err != nil {
		return err // the passage itself is the training sequence
	}
	for j, q := range p.Questions {
		what := fmt.Sprintf("question %d's prompt", j)
		prompt := knowledge.QAPrompt(p, q)
		if s.Baselines {
			what, prompt = fmt.Sprintf("question %d's prompt with the passage in context", j), knowledge.InContextPrompt(p, q)
		}
		if err := fits(l, where, what, prompt, s.QATokens, "--qa-tokens"); err != nil {
			return err
		}
	}
	return nil
}

// fits is the one length check: prompt tokens plus budget within max_position_embeddings.
func fits(l *lm, where, what, prompt string, budget int, flag string) error {
	n, ctx := len(l.encode(prompt)), l.ck.Config.MaxPositions
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
	for _, p := range x.passages() {
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
