// Package redact takes secrets out of text before it is stored, sent as an event or
// printed: an error may quote a server's reply, and a server may echo the request's
// Authorization header or a URL with a password in it.
package redact

import (
	"encoding/base64"
	"errors"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// Mask stands where a secret was.
const Mask = "REDACTED"

// SecretEnv names the environment variables that hold secrets: the HTTP grader's and teacher's
// key and the NATS password. Their values are scrubbed wherever they appear.
var SecretEnv = []string{"SEAL_GRADER_KEY", "SEAL_TEACHER_KEY", "SEAL_NATS_PASSWORD"}

// minSecret is the shortest value scrubbed by value: a one-letter "secret" would
// turn every message into masks and hide nothing worth hiding.
const minSecret = 4

var (
	// A bearer token: the scheme and at least 8 token characters (RFC 6750's b64token).
	bearerRE = regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{8,}=*`)
	// Basic credentials: base64 of user:password.
	basicRE = regexp.MustCompile(`(?i)\bbasic\s+[A-Za-z0-9+/]{4,}=*`)
	// An Authorization header echoed as text, in a header dump or in JSON.
	authRE = regexp.MustCompile(`(?i)(\b(?:proxy-)?authorization"?\s*[:=]\s*"?)[^"\r\n,}\]]+`)
	// The userinfo of a URL (scheme://user:password@host).
	userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#@\s"']+@`)
)

// Secrets returns s without the values of SecretEnv, bearer and basic credentials,
// Authorization header values and URL userinfo, each replaced by Mask.
func Secrets(s string) string {
	for _, name := range SecretEnv {
		s = Value(s, os.Getenv(name))
	}
	s = authRE.ReplaceAllString(s, "${1}"+Mask)
	s = bearerRE.ReplaceAllString(s, "Bearer "+Mask)
	s = basicRE.ReplaceAllStringFunc(s, func(m string) string {
		if !isBasicCredential(m) { // "basic arithmetic" is words, not a password
			return m
		}
		return "Basic " + Mask
	})
	return userinfoRE.ReplaceAllString(s, "${1}"+Mask+"@")
}

// isBasicCredential reports whether "Basic xyz" carries base64 of user:password.
func isBasicCredential(m string) bool {
	tok := strings.TrimSpace(m[len("basic"):])
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(tok); err == nil && strings.Contains(string(b), ":") {
			return true
		}
	}
	return false
}

// Value returns s with every occurrence of secret (and of its URL-escaped form, as a
// server may echo it in a query) replaced by Mask; secrets shorter than 4 bytes are
// left alone.
func Value(s, secret string) string {
	secret = strings.TrimSpace(secret)
	if len(secret) < minSecret {
		return s
	}
	s = strings.ReplaceAll(s, secret, Mask)
	if q := url.QueryEscape(secret); q != secret {
		s = strings.ReplaceAll(s, q, Mask)
	}
	return s
}

// Error returns err with its message scrubbed by Secrets; errors.Is and errors.As
// still see the original. nil stays nil.
func Error(err error) error {
	if err == nil {
		return nil
	}
	msg := Secrets(err.Error())
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg: msg, err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// HasUserinfo reports whether a URL carries a user name or password
// (scheme://user:password@host). Each URL of a comma-separated list is checked, as a
// NATS server list is one. A URL that does not parse is looked at as text.
func HasUserinfo(raw string) bool {
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if u, err := url.Parse(part); err == nil && u.User != nil {
			return true
		}
		if userinfoRE.MatchString(part) {
			return true
		}
	}
	return false
}

// ErrCredentialsInURL is what a refused URL's error wraps.
var ErrCredentialsInURL = errors.New("the URL holds credentials")
