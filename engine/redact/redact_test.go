package redact

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestSecrets(t *testing.T) {
	t.Setenv("SEAL_GRADER_KEY", "sk-env-key-1234")
	t.Setenv("SEAL_NATS_PASSWORD", "natspw!99")
	basic := base64.StdEncoding.EncodeToString([]byte("alice:hunter22"))
	for _, c := range []struct{ in, gone, want string }{
		{"401: echo Bearer sk-live-abcdef123456", "sk-live-abcdef123456", "401: echo Bearer REDACTED"},
		{`{"headers":{"Authorization":"Bearer tok_abcdefgh"}}`, "tok_abcdefgh", `{"headers":{"Authorization":"REDACTED"}}`},
		{"Authorization: Basic " + basic + "\r\nHost: x", basic, "Authorization: REDACTED\r\nHost: x"},
		{"header basic " + basic + " sent", basic, "header Basic REDACTED sent"},
		{"map[Authorization:[Bearer abcdefghijk]]", "abcdefghijk", "map[Authorization:REDACTED]]"},
		{"key sk-env-key-1234 was refused", "sk-env-key-1234", "key REDACTED was refused"},
		{"nats natspw%2199 in a query, natspw!99 raw", "natspw", "nats REDACTED in a query, REDACTED raw"},
		{`Post "https://bob:s3cret@api.example/v1": refused`, "s3cret", `Post "https://REDACTED@api.example/v1": refused`},
		{"nats://u:p4ss@h:4222, tls://x@h2", "p4ss", "nats://REDACTED@h:4222, tls://REDACTED@h2"},
	} {
		got := Secrets(c.in)
		if strings.Contains(got, c.gone) || got != c.want {
			t.Errorf("Secrets(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// Ordinary words and URLs stay as they are.
	for _, s := range []string{"basic arithmetic failed", "the bearer of news", "https://api.example/v1?x=a@b",
		"grader https://api.example/v1/chat/completions: 500 Internal Server Error", "authorization failed"} {
		if got := Secrets(s); got != s {
			t.Errorf("Secrets(%q) = %q, want it unchanged", s, got)
		}
	}
}

func TestShortSecretIsNotScrubbedByValue(t *testing.T) {
	t.Setenv("SEAL_GRADER_KEY", "ab")
	if got := Secrets("a tab in a table"); got != "a tab in a table" {
		t.Errorf("a 2-byte key masked ordinary text: %q", got)
	}
}

func TestErrorKeepsChain(t *testing.T) {
	err := Error(fmt.Errorf("grading: Bearer abcdefghijkl: %w", context.Canceled))
	if strings.Contains(err.Error(), "abcdefghijkl") || !errors.Is(err, context.Canceled) {
		t.Errorf("Error = %q, Is(Canceled) %v", err, errors.Is(err, context.Canceled))
	}
	plain := errors.New("no secret here")
	if Error(plain) != plain || Error(nil) != nil {
		t.Error("an error without secrets was rewrapped")
	}
}

func TestHasUserinfo(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://user:pw@api.example/v1":        true,
		"https://user@api.example":              true,
		"nats://a:4222,nats://u:p@b:4222":       true,
		"https://api.example/v1":                false,
		"nats://host:4222, tls://host2:4222":    false,
		"https://api.example/v1?contact=a@b.cd": false,
		"http://u:p%zz@host":                    true, // does not parse: looked at as text
	} {
		if got := HasUserinfo(raw); got != want {
			t.Errorf("HasUserinfo(%q) = %v, want %v", raw, got, want)
		}
	}
}
