package knowledge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var sbQ = Question{"Which NFL team won Super Bowl 50?", "Denver Broncos"}

// judgeServer answers chat completions with reply; before, when set, may answer instead
// (return true when it wrote the response). It records request times.
type judgeServer struct {
	*httptest.Server
	mu     sync.Mutex
	times  []time.Time
	bodies []map[string]any
	n      atomic.Int32
}

func newJudgeServer(t *testing.T, reply string, before func(n int, w http.ResponseWriter, r *http.Request) bool) *judgeServer {
	js := &judgeServer{}
	js.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(js.n.Add(1))
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		js.mu.Lock()
		js.times = append(js.times, time.Now())
		js.bodies = append(js.bodies, body)
		js.mu.Unlock()
		if before != nil && before(n, w, r) {
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-test" {
			http.Error(w, "bad request shape: "+r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"), http.StatusTeapot)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": reply}}},
		})
	}))
	t.Cleanup(js.Close)
	return js
}

func (js *judgeServer) grader(t *testing.T, mod func(*HTTPGraderConfig)) Grader {
	t.Helper()
	cfg := HTTPGraderConfig{BaseURL: js.URL + "/v1/", APIKey: "sk-test", Model: "judge-1",
		Timeout: 2 * time.Second, Retries: 3, Backoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	g, err := HTTPGrader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestHTTPGraderSuccessAndRequestShape(t *testing.T) {
	js := newJudgeServer(t, "Yes.", nil)
	g, err := js.grader(t, nil).Grade(context.Background(), sbQ, "Super Bowl 50", " The Broncos \n")
	if err != nil || !g.Correct || g.Grader != "http:judge-1" || !strings.Contains(g.Detail, "Yes.") {
		t.Fatalf("%+v %v", g, err)
	}
	body := js.bodies[0]
	msgs, _ := body["messages"].([]any)
	if body["model"] != "judge-1" || len(msgs) != 1 {
		t.Fatalf("request body: %v", body)
	}
	msg := msgs[0].(map[string]any)
	if msg["role"] != "user" || msg["content"] != JudgePrompt(sbQ, "Super Bowl 50", "The Broncos") {
		t.Errorf("message: %v", msg)
	}
	if temp, ok := body["temperature"]; !ok || temp != 0.0 {
		t.Errorf("temperature 0 must be sent: %v", body)
	}

	no := newJudgeServer(t, "No.", nil)
	if g, err := no.grader(t, nil).Grade(context.Background(), sbQ, "Super Bowl 50", "Carolina"); err != nil || g.Correct {
		t.Errorf("a no: %+v %v", g, err)
	}
}

func TestHTTPGraderRetries500(t *testing.T) {
	js := newJudgeServer(t, "yes", func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n == 1 {
			http.Error(w, "overloaded", http.StatusInternalServerError)
			return true
		}
		return false
	})
	g, err := js.grader(t, nil).Grade(context.Background(), sbQ, "T", "Broncos")
	if err != nil || !g.Correct || js.n.Load() != 2 {
		t.Errorf("500 then success: %+v %v after %d requests", g, err, js.n.Load())
	}
}

func TestHTTPGraderGivesUpOn5xx(t *testing.T) {
	js := newJudgeServer(t, "yes", func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte(`{"error": {"message": "upstream down"}}`))
		return true
	})
	_, err := js.grader(t, func(c *HTTPGraderConfig) { c.Retries = 2 }).Grade(context.Background(), sbQ, "T", "Broncos")
	if err == nil || !strings.Contains(err.Error(), "upstream down") || !strings.Contains(err.Error(), "502") ||
		!strings.Contains(err.Error(), "gave up after 3 attempts") || js.n.Load() != 3 {
		t.Errorf("error %v after %d requests", err, js.n.Load())
	}
}

func TestHTTPGraderHonoursRetryAfter(t *testing.T) {
	js := newJudgeServer(t, "yes", func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "1") // one second, capped below at 80ms
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"error": {"message": "rate limited"}}`))
			return true
		}
		return false
	})
	start := time.Now()
	g, err := js.grader(t, func(c *HTTPGraderConfig) { c.MaxBackoff = 80 * time.Millisecond }).Grade(context.Background(), sbQ, "T", "Broncos")
	if err != nil || !g.Correct || js.n.Load() != 2 {
		t.Fatalf("429 then success: %+v %v after %d requests", g, err, js.n.Load())
	}
	gap := js.times[1].Sub(js.times[0])
	if gap < 80*time.Millisecond || time.Since(start) > 900*time.Millisecond {
		t.Errorf("waited %v between attempts: want Retry-After (1s) capped at 80ms, not the 1ms backoff", gap)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	h := &httpGrader{cfg: HTTPGraderConfig{MaxBackoff: 10 * time.Second}}
	cases := []struct {
		v        string
		min, max time.Duration
	}{
		{"", 0, 0},
		{"garbage", 0, 0},
		{"-3", 0, 0},
		{"2", 2 * time.Second, 2 * time.Second},
		{"0.5", 500 * time.Millisecond, 500 * time.Millisecond},
		{"0", time.Millisecond, time.Millisecond},
		{"100000", 10 * time.Second, 10 * time.Second}, // capped
		{time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat), 3 * time.Second, 5 * time.Second},
		{time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), time.Millisecond, time.Millisecond},
	}
	for _, c := range cases {
		if got := h.retryAfter(c.v); got < c.min || got > c.max {
			t.Errorf("retryAfter(%q) = %v, want [%v, %v]", c.v, got, c.min, c.max)
		}
	}
	h.cfg.Backoff, h.cfg.MaxBackoff = time.Millisecond, 5*time.Millisecond
	for i, want := range []time.Duration{1, 2, 4, 5, 5} {
		if got := h.backoff(i); got != want*time.Millisecond {
			t.Errorf("backoff(%d) = %v, want %vms", i, got, want)
		}
	}
}

func TestHTTPGrader4xxFailsAtOnce(t *testing.T) {
	js := newJudgeServer(t, "yes", func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error": {"message": "Incorrect API key provided: sk-***", "type": "invalid_request_error"}}`))
		return true
	})
	_, err := js.grader(t, nil).Grade(context.Background(), sbQ, "T", "Broncos")
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "Incorrect API key provided") ||
		!strings.Contains(err.Error(), js.URL+"/v1/chat/completions") {
		t.Errorf("401: %v", err)
	}
	if js.n.Load() != 1 {
		t.Errorf("401 retried: %d requests", js.n.Load())
	}

	plain := newJudgeServer(t, "yes", func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		http.Error(w, "model not found", http.StatusNotFound)
		return true
	})
	if _, err := plain.grader(t, nil).Grade(context.Background(), sbQ, "T", "x"); err == nil ||
		!strings.Contains(err.Error(), "model not found") || plain.n.Load() != 1 {
		t.Errorf("404 with a plain body: %v after %d", err, plain.n.Load())
	}
}

func TestHTTPGraderTimeout(t *testing.T) {
	js := newJudgeServer(t, "yes", func(_ int, _ http.ResponseWriter, r *http.Request) bool {
		select { // sleep far past the client's timeout, but leave when it hangs up
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return true
	})
	start := time.Now()
	_, err := js.grader(t, func(c *HTTPGraderConfig) { c.Timeout = 40 * time.Millisecond; c.Retries = 1 }).
		Grade(context.Background(), sbQ, "T", "Broncos")
	if err == nil || !strings.Contains(err.Error(), "no reply within 40ms") || !strings.Contains(err.Error(), js.URL) {
		t.Errorf("timeout: %v", err)
	}
	if js.n.Load() != 2 || time.Since(start) > 2*time.Second {
		t.Errorf("timeouts are retried like network errors: %d requests in %v", js.n.Load(), time.Since(start))
	}
}

func TestHTTPGraderUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	g, err := HTTPGrader(HTTPGraderConfig{BaseURL: "http://" + addr + "/v1", Model: "m", Retries: 2, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	gr, err := g.Grade(context.Background(), sbQ, "T", "Broncos")
	want := "http://" + addr + "/v1/chat/completions"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "unreachable") ||
		!strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Errorf("unreachable: %v (want the URL %s)", err, want)
	}
	if gr.Correct || gr.Detail != err.Error() {
		t.Errorf("the grade carries the reason: %+v", gr)
	}
}

func TestHTTPGraderCache(t *testing.T) {
	js := newJudgeServer(t, "yes", nil)
	g := js.grader(t, nil)
	for _, pred := range []string{"Broncos", " Broncos\n", "Broncos"} {
		if gr, err := g.Grade(context.Background(), sbQ, "Super Bowl 50", pred); err != nil || !gr.Correct {
			t.Fatalf("%+v %v", gr, err)
		}
	}
	if js.n.Load() != 1 {
		t.Errorf("cached verdict asked again: %d requests", js.n.Load())
	}
	g.Grade(context.Background(), sbQ, "Super Bowl 50", "Denver")
	if js.n.Load() != 2 {
		t.Errorf("a new prediction must be asked: %d requests", js.n.Load())
	}
	if gr, _ := g.Grade(context.Background(), sbQ, "T", ""); gr.Correct || js.n.Load() != 2 {
		t.Errorf("an empty prediction is wrong without a request: %+v, %d requests", gr, js.n.Load())
	}
}

func TestHTTPGraderCallerCancels(t *testing.T) {
	js := newJudgeServer(t, "yes", func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := js.grader(t, func(c *HTTPGraderConfig) {
		c.Retries = 100
		c.Backoff = 10 * time.Millisecond
		c.MaxBackoff = time.Second
	}).
		Grade(ctx, sbQ, "T", "x")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("caller's deadline: %v after %v", err, time.Since(start))
	}
}

func TestHTTPGraderBadReply(t *testing.T) {
	js := newJudgeServer(t, "yes", func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Write([]byte(`{"choices": []}`))
		return true
	})
	if _, err := js.grader(t, nil).Grade(context.Background(), sbQ, "T", "x"); err == nil ||
		!strings.Contains(err.Error(), "no message content") || js.n.Load() != 1 {
		t.Errorf("empty choices: %v after %d", err, js.n.Load())
	}
}

func TestHTTPGraderConfigValidation(t *testing.T) {
	bad := []HTTPGraderConfig{
		{BaseURL: "", Model: "m"},
		{BaseURL: "localhost:8000/v1", Model: "m"},
		{BaseURL: "ftp://host/v1", Model: "m"},
		{BaseURL: "http:///v1", Model: "m"},
		{BaseURL: "http://host/v1?key=1", Model: "m"},
		{BaseURL: "http://ho st/v1", Model: "m"},
		{BaseURL: "http://host/v1", Model: " "},
		{BaseURL: "http://host/v1", Model: "m", Retries: -1},
		{BaseURL: "http://host/v1", Model: "m", Timeout: -time.Second},
	}
	for _, c := range bad {
		if _, err := HTTPGrader(c); err == nil {
			t.Errorf("HTTPGrader(%+v) accepted", c)
		}
	}
	if _, err := HTTPGrader(HTTPGraderConfig{BaseURL: "https://api.openai.com/v1", Model: "gpt-4.1"}); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

// A server that echoes the request's headers on 401 and 500 (some proxies do) must
// not get the key into the error: not raw, not as a bearer token, not cut in half.
func TestHTTPGraderErrorsNeverHoldTheKey(t *testing.T) {
	const key = "sk-live-7f3a9c2e5b1d4f60"
	for _, c := range []struct{ status, pad int }{{http.StatusUnauthorized, 0}, {http.StatusInternalServerError, 0},
		{http.StatusUnauthorized, maxExcerpt - 40}} { // the last puts the key across the excerpt's cut
		status := c.status
		js := newJudgeServer(t, "Yes.", func(n int, w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(status)
			w.Write([]byte(strings.Repeat("x", c.pad) + " got Authorization: " + r.Header.Get("Authorization") + "; key " + key +
				` {"headers":{"authorization":"` + r.Header.Get("Authorization") + `"}}`))
			return true
		})
		_, err := js.grader(t, func(c *HTTPGraderConfig) { c.APIKey = key; c.Retries = 1 }).Grade(context.Background(), sbQ, "t", "Denver")
		if err == nil {
			t.Fatalf("status %d: no error", status)
		}
		msg := err.Error()
		for _, part := range []string{key, key[:12], "sk-live"} {
			if strings.Contains(msg, part) {
				t.Errorf("status %d: the error holds %q: %s", status, part, msg)
			}
		}
		if !strings.Contains(msg, fmt.Sprint(status)) || len(msg) > maxExcerpt+200 {
			t.Errorf("status %d: error %q (%d bytes) should name the status and stay short", status, msg, len(msg))
		}
	}
}

func TestHTTPGraderRefusesCredentialsInURL(t *testing.T) {
	_, err := HTTPGrader(HTTPGraderConfig{BaseURL: "https://alice:pa55word@api.example/v1", Model: "m"})
	if err == nil || strings.Contains(err.Error(), "pa55word") || !strings.Contains(err.Error(), "SEAL_GRADER_KEY") {
		t.Fatalf("err = %v: want a refusal naming $SEAL_GRADER_KEY without the password", err)
	}
}
