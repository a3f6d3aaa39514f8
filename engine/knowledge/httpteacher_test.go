package knowledge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"seal/engine/redact"
)

// TestHTTPTeacherWrites: the teacher posts the prompt as one user message to the
// chat completions endpoint with the key as a bearer token, and returns the reply.
func TestHTTPTeacherWrites(t *testing.T) {
	js := newJudgeServer(t, "  1. Varn lies on the Ossa.\n2. Ilda Mare founded Varn.\n", nil)
	th, err := NewHTTPTeacher(HTTPGraderConfig{BaseURL: js.URL + "/v1", APIKey: "sk-test", Model: "teacher-1", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	got, err := th.Write(context.Background(), "Passage:\nVarn\n...\n\nImplications:\n")
	if err != nil {
		t.Fatal(err)
	}
	if got != "1. Varn lies on the Ossa.\n2. Ilda Mare founded Varn." {
		t.Errorf("edit %q", got)
	}
	body := js.bodies[0]
	msgs, _ := body["messages"].([]any)
	if body["model"] != "teacher-1" || len(msgs) != 1 || !strings.Contains(msgs[0].(map[string]any)["content"].(string), "Implications:") {
		t.Errorf("request %v", body)
	}
	if body["temperature"] != 0.0 {
		t.Errorf("temperature %v, want 0: a run's teacher edits repeat", body["temperature"])
	}
}

// TestHTTPTeacherSecrets: credentials in the URL are refused naming the variable the
// key belongs in; a server that echoes the key gets it scrubbed from the error and
// from the edit itself, which is stored.
func TestHTTPTeacherSecrets(t *testing.T) {
	_, err := NewHTTPTeacher(HTTPGraderConfig{BaseURL: "https://bob:hunter22@api.example/v1", Model: "m"})
	if !errors.Is(err, redact.ErrCredentialsInURL) || strings.Contains(err.Error(), "hunter22") || !strings.Contains(err.Error(), "SEAL_TEACHER_KEY") {
		t.Errorf("credential URL: %v", err)
	}
	const key = "sk-teacher-secret-1234"
	echo := newJudgeServer(t, "", func(n int, w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, `{"error":{"message":"bad key `+key+` (`+r.Header.Get("Authorization")+`)"}}`, http.StatusUnauthorized)
		return true
	})
	th, err := NewHTTPTeacher(HTTPGraderConfig{BaseURL: echo.URL + "/v1", APIKey: key, Model: "m", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = th.Write(context.Background(), "p")
	if err == nil || strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "teacher ") || !strings.Contains(err.Error(), "401") {
		t.Errorf("echoed key: %v", err)
	}
	leak := newJudgeServer(t, "", func(n int, w http.ResponseWriter, r *http.Request) bool {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]any{"content": "1. the key is " + tok}}}})
		return true
	})
	th, err = NewHTTPTeacher(HTTPGraderConfig{BaseURL: leak.URL + "/v1", APIKey: key, Model: "m", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	edit, err := th.Write(context.Background(), "p")
	if err != nil || strings.Contains(edit, key) || !strings.Contains(edit, redact.Mask) {
		t.Errorf("an edit that echoes the key: %q, %v", edit, err)
	}
}
