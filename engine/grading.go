package engine

import (
	"context"
	"fmt"
	"os"
	"time"

	"seal/engine/knowledge"
	"seal/models/llama"
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
