package engine

import (
	"context"
	"fmt"
	"os"
	"time"

	"seal/engine/knowledge"
	"seal/models/llama"
	"seal/store"
)

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

// ExactAccuracy is the share of a candidate's stored answers that are their gold answer
// (knowledge.ExactMatch); false when it has none stored. The default grader,
// containment, credits an answer holding the gold answer anywhere, so an update that
// leaves the model reciting its training text scores there without answering: this is
// the reading that tells the two apart (`seal effect`, the history's candidate list).
func ExactAccuracy(c store.Candidate) (float64, bool) {
	if len(c.Evals) == 0 {
		return 0, false
	}
	n := 0
	for _, e := range c.Evals {
		if knowledge.ExactMatch(e.Text, e.Gold) {
			n++
		}
	}
	return float64(n) / float64(len(c.Evals)), true
}
