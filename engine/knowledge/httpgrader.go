package knowledge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"seal/engine/redact"
)

// HTTP grader defaults, used where a config field is zero.
const (
	DefaultHTTPTimeout    = 30 * time.Second
	DefaultHTTPBackoff    = 500 * time.Millisecond
	DefaultHTTPMaxBackoff = 30 * time.Second
	DefaultHTTPRetries    = 3 // what a caller should pass for the reference's "up to 3 retries"
)

// HTTPGraderConfig configures a judge behind an OpenAI-compatible chat completions API
// (OpenAI, vLLM, llama.cpp server, ...). It is off unless the engine is given one.
type HTTPGraderConfig struct {
	BaseURL    string        // e.g. "https://api.openai.com/v1"; "/chat/completions" is appended
	APIKey     string        // sent as "Authorization: Bearer ..."; empty sends no header (local servers)
	Model      string        // required, e.g. "gpt-4.1"
	Timeout    time.Duration // per request (each attempt); 0 means DefaultHTTPTimeout
	Retries    int           // further attempts after a network error, 429 or 5xx; 0 means none
	Backoff    time.Duration // wait before the first retry, doubled for each next one; 0 means DefaultHTTPBackoff
	MaxBackoff time.Duration // cap on every wait, Retry-After included; 0 means DefaultHTTPMaxBackoff
}

// HTTPGrader returns a judge that POSTs JudgePrompt as one user message to
// {BaseURL}/chat/completions with temperature 0 and parses the reply with ParseVerdict.
// Network errors, 429 and 5xx are retried with exponential backoff (a Retry-After header
// is honoured, capped at MaxBackoff); any other 4xx fails at once with the server's
// message. Every error names the endpoint URL. Verdicts are cached in memory by
// (question, gold, prediction); errors are not.
func HTTPGrader(cfg HTTPGraderConfig) (Grader, error) {
	h, err := newChatClient("grader", "SEAL_GRADER_KEY", cfg)
	if err != nil {
		return nil, err
	}
	return CachedGrader(h), nil
}

// newChatClient checks cfg and makes the chat completions client of a grader or a
// teacher (role), whose key comes from the environment variable keyEnv.
func newChatClient(role, keyEnv string, cfg HTTPGraderConfig) (*httpGrader, error) {
	if redact.HasUserinfo(cfg.BaseURL) {
		return nil, fmt.Errorf("http %s: base URL %q: %w; give the key in $%s", role, redact.Secrets(cfg.BaseURL), redact.ErrCredentialsInURL, keyEnv)
	}
	u, err := url.Parse(strings.TrimSpace(cfg.BaseURL))
	if err != nil {
		return nil, fmt.Errorf("http %s: base URL %q is not a URL", role, redact.Secrets(cfg.BaseURL))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("http %s: base URL %q must be http(s)://host[/path]", role, u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("http %s: base URL %q must not have a query or fragment", role, u.Redacted())
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, fmt.Errorf("http %s: no model named", role)
	}
	if cfg.Retries < 0 || cfg.Timeout < 0 || cfg.Backoff < 0 || cfg.MaxBackoff < 0 {
		return nil, fmt.Errorf("http %s: negative retries, timeout or backoff", role)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultHTTPTimeout
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = DefaultHTTPBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = DefaultHTTPMaxBackoff
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/chat/completions"
	return &httpGrader{role: role, cfg: cfg, endpoint: u.String(), shown: u.Redacted(), client: &http.Client{}}, nil
}

// httpGrader is an OpenAI-compatible chat completions client: the HTTP grader, and
// the teacher that writes edits (httpteacher.go).
type httpGrader struct {
	role     string // "grader" or "teacher", as errors name it
	cfg      HTTPGraderConfig
	endpoint string
	shown    string // endpoint for errors, any password redacted
	client   *http.Client
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model       string        `json:"model"`
	Messages    []chatMessage `json:"messages"`
	Temperature float64       `json:"temperature"` // 0 is sent: greedy verdicts
}

type chatResponse struct {
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
}

func (h *httpGrader) Grade(ctx context.Context, q Question, topic, prediction string) (Grade, error) {
	g, pred, done := base("http:"+h.cfg.Model, q, prediction)
	if done {
		return g, nil
	}
	reply, err := h.ask(ctx, JudgePrompt(q, topic, pred))
	if err != nil {
		g.Detail = err.Error()
		return g, err
	}
	g.Correct = ParseVerdict(reply)
	g.Detail = "judge replied " + quoteShort(reply)
	return g, nil
}

// ask runs the request with retries and returns the reply text.
func (h *httpGrader) ask(ctx context.Context, prompt string) (string, error) {
	body, err := json.Marshal(chatRequest{
		Model:    h.cfg.Model,
		Messages: []chatMessage{{Role: "user", Content: prompt}},
	})
	if err != nil {
		return "", err
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		reply, wait, err := h.try(ctx, body)
		if err == nil {
			return reply, nil
		}
		lastErr = err
		if wait < 0 || attempt >= h.cfg.Retries || ctx.Err() != nil {
			break
		}
		if wait == 0 {
			wait = h.backoff(attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("%s %s: %w (while waiting to retry after: %v)", h.role, h.shown, ctx.Err(), lastErr)
		case <-t.C:
		}
	}
	if h.cfg.Retries > 0 && !errors.Is(lastErr, errPermanent) {
		return "", fmt.Errorf("%w (gave up after %d attempts)", lastErr, h.cfg.Retries+1)
	}
	return "", lastErr
}

// errPermanent marks errors that are not retried.
var errPermanent = errors.New("not retried")

type permanentError struct{ error }

func (e permanentError) Is(target error) bool { return target == errPermanent }
func (e permanentError) Unwrap() error        { return e.error }

// try makes one attempt. On failure, wait says what next: -1 do not retry, 0 retry after
// the usual backoff, >0 retry after that long (the server's Retry-After, capped).
func (h *httpGrader) try(ctx context.Context, body []byte) (reply string, wait time.Duration, err error) {
	actx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, h.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", -1, permanentError{fmt.Errorf("%s %s: %w", h.role, h.shown, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	if h.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+h.cfg.APIKey)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		switch {
		case ctx.Err() != nil: // the caller gave up: not the grader's fault, no retry
			return "", -1, permanentError{fmt.Errorf("%s %s: %w", h.role, h.shown, ctx.Err())}
		case actx.Err() != nil:
			return "", 0, fmt.Errorf("%s %s: no reply within %v", h.role, h.shown, h.cfg.Timeout)
		default:
			return "", 0, fmt.Errorf("%s %s unreachable: %w", h.role, h.shown, unwrapURLError(err))
		}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			return "", 0, fmt.Errorf("%s %s: no complete reply within %v", h.role, h.shown, h.cfg.Timeout)
		}
		return "", 0, fmt.Errorf("%s %s: reading reply: %w", h.role, h.shown, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		var cr chatResponse
		if err := json.Unmarshal(data, &cr); err != nil {
			return "", -1, permanentError{fmt.Errorf("%s %s: reply is not a chat completion: %v", h.role, h.shown, err)}
		}
		if len(cr.Choices) == 0 || cr.Choices[0].Message.Content == nil {
			return "", -1, permanentError{fmt.Errorf("%s %s: reply has no message content: %s", h.role, h.shown, h.excerpt(data))}
		}
		return *cr.Choices[0].Message.Content, 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		err := fmt.Errorf("%s %s: %s: %s", h.role, h.shown, resp.Status, h.excerpt(data))
		return "", h.retryAfter(resp.Header.Get("Retry-After")), err
	default:
		return "", -1, permanentError{fmt.Errorf("%s %s: %s: %s", h.role, h.shown, resp.Status, h.excerpt(data))}
	}
}

func (h *httpGrader) backoff(attempt int) time.Duration {
	d := float64(h.cfg.Backoff) * math.Pow(2, float64(attempt))
	if d > float64(h.cfg.MaxBackoff) {
		return h.cfg.MaxBackoff
	}
	return time.Duration(d)
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), capped at MaxBackoff;
// 0 when absent or unreadable (then the usual backoff applies).
func (h *httpGrader) retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 && !math.IsInf(secs, 0) {
		d = time.Duration(math.Min(secs, 1e6) * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	} else {
		return 0
	}
	if d <= 0 {
		return time.Millisecond // "now": retry at once, but not with the usual backoff
	}
	return min(d, h.cfg.MaxBackoff)
}

// maxExcerpt caps what of a server's reply goes into an error, in bytes.
const maxExcerpt = 200

// excerpt is what an error quotes of a server's reply: its message, with the key and
// any Authorization echo scrubbed from the whole body first (a cut must not leave
// half a key), then cut to maxExcerpt bytes. A server that echoes the request
// (some do on 401) must not put the key into the run's error, event or history.
func (h *httpGrader) excerpt(data []byte) string {
	body := redact.Secrets(redact.Value(string(data), h.cfg.APIKey))
	return clipBytes(serverMessage(body), maxExcerpt)
}

// serverMessage pulls the message out of an OpenAI-style error body
// ({"error":{"message":...}}), or shows the body as it is.
func serverMessage(body string) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal([]byte(body), &e) == nil && len(e.Error) > 0 {
		var obj struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(e.Error, &obj) == nil && obj.Message != "" {
			return obj.Message
		}
		var s string
		if json.Unmarshal(e.Error, &s) == nil && s != "" {
			return s
		}
	}
	msg := strings.TrimSpace(strings.ToValidUTF8(body, "\uFFFD"))
	if msg == "" {
		return "(empty body)"
	}
	return msg
}

// clipBytes cuts s to at most n bytes on a character boundary, marking the cut.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// unwrapURLError drops net/http's `Post "URL":` wrapper, since our message names the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
