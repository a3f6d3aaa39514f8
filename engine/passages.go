package engine

import (
	"errors"
	"fmt"
	"strings"

	"seal/engine/knowledge"
)

// readPassages reads the run's slice of the SQuAD-format file (--offset, --passages):
// only that slice is kept in memory, a slice that runs past the file's end is an error,
// and every passage is checked, before any work, to be usable and to fit the model.
func readPassages(l *lm, s RunSpec) ([]Task, error) {
	ps, total, err := knowledge.LoadSQuADRange(s.Data, s.Offset, s.Tasks)
	if err != nil {
		return nil, err
	}
	if err := sliceWithin(s, total, "passages"); err != nil {
		return nil, err
	}
	var out []Task
	for i, p := range ps {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("%s: passage %d: %w", s.Data, s.Offset+i, err)
		}
		if err := passageFits(l, s, p, s.Offset+i); err != nil {
			return nil, err
		}
		out = append(out, passageTask{Passage: p, key: fmt.Sprint(s.Offset + i)})
	}
	return out, nil
}

// readRLPassages reads the RL passages of every round (--rl-data: --rounds × --rl-passages
// from the file's start, in order), checked as the evaluation passages are. Their keys
// start "rl:", so a resume tells them from the evaluation passages stored before them.
func readRLPassages(l *lm, s RunSpec) ([]Task, error) {
	want := s.Rounds * s.RLPassages
	ps, total, err := knowledge.LoadSQuADRange(s.RLData, 0, want)
	if err != nil {
		return nil, fmt.Errorf("--rl-data: %w", err)
	}
	if total < want {
		return nil, fmt.Errorf("--rl-data %s has %d passages; --rounds %d × --rl-passages %d asks for %d (disjoint between rounds)",
			s.RLData, total, s.Rounds, s.RLPassages, want)
	}
	var out []Task
	for i, p := range ps {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("--rl-data %s: passage %d: %w", s.RLData, i, err)
		}
		rs := s
		rs.Data = s.RLData
		if err := passageFits(l, rs, p, i); err != nil {
			return nil, err
		}
		out = append(out, passageTask{Passage: p, key: rlKeyPrefix + fmt.Sprint(i)})
	}
	return out, nil
}

// rlKeyPrefix marks a stored task as an RL passage (its index in --rl-data follows).
const rlKeyPrefix = "rl:"

func isRLKey(key string) bool { return strings.HasPrefix(key, rlKeyPrefix) }

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
