package knowledge

import (
	"context"
	"strings"

	"seal/engine/redact"
)

// HTTPTeacher writes self-edits through an OpenAI-compatible chat completions API:
// the "stronger model's synthetic data" baseline (the paper's GPT-4.1 row). It sends
// the policy's own self-edit prompt as one user message at temperature 0, so a run's
// teacher edits are as repeatable as the server allows. The transport, retries and the
// scrubbing of errors are the HTTP grader's.
type HTTPTeacher struct{ c *httpGrader }

// NewHTTPTeacher checks cfg as HTTPGrader does (a URL with credentials in it is
// refused: the key comes from $SEAL_TEACHER_KEY, never from the URL or the run's
// settings).
func NewHTTPTeacher(cfg HTTPGraderConfig) (*HTTPTeacher, error) {
	c, err := newChatClient("teacher", "SEAL_TEACHER_KEY", cfg)
	if err != nil {
		return nil, err
	}
	return &HTTPTeacher{c: c}, nil
}

// Write asks the teacher to continue prompt and returns its reply, with the key
// scrubbed out should the server echo it (the reply is stored as the edit).
func (t *HTTPTeacher) Write(ctx context.Context, prompt string) (string, error) {
	reply, err := t.c.ask(ctx, prompt)
	if err != nil {
		return "", err
	}
	return redact.Value(strings.TrimSpace(reply), t.c.cfg.APIKey), nil
}

// Endpoint is the chat completions URL the teacher posts to, any password redacted.
func (t *HTTPTeacher) Endpoint() string { return t.c.shown }
