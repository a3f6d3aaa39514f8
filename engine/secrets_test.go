package engine_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"seal/models/llama/llamatest"
	"strings"
	"sync/atomic"
	"testing"

	"seal/engine"
	"seal/engine/redact"
	"seal/store"
)

// A run graded by a server that answers 401 with the request's Authorization header
// echoed: the run fails, and the key is nowhere: not in Wait's error, not in the
// Error event, not in the runs table (the database and WAL files read raw).
func TestGraderKeyNeverStoredOrSent(t *testing.T) {
	const key = "sk-proj-Zq81xWv0c4KeyNeverShown"
	t.Setenv("SEAL_GRADER_KEY", key)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"bad key","echo":"Authorization: ` + r.Header.Get("Authorization") + `"} key=` + key))
	}))
	defer srv.Close()
	dir := t.TempDir()
	tw := newTinyWorld(t) // the embedded model answers in words, so the grader is asked
	dbPath := filepath.Join(dir, "seal.db")
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	spec := engine.EmbeddedSpec()
	spec.Model, spec.Data = tw.model, writeSQuAD(t, filepath.Join(dir, "data.json"), tw.val[:1])
	spec.Tasks, spec.K, spec.Rounds, spec.Repeats, spec.Baselines = 1, 1, 1, 1, false
	spec.EditTokens, spec.QATokens, spec.Inner.Epochs = 16, 8, 1
	spec.Grader, spec.GraderURL, spec.GraderName = "http", srv.URL+"/v1", "judge"
	r, err := engine.New(db, llamatest.Backend()).Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for ev := range r.Events() {
		if e, ok := ev.(engine.Error); ok {
			msgs = append(msgs, e.Message)
		}
	}
	werr := r.Wait()
	if werr == nil || len(msgs) == 0 || calls.Load() == 0 {
		t.Fatalf("the run should fail on the grader (%d calls): err %v, error events %q", calls.Load(), werr, msgs)
	}
	rec, _ := db.Run(r.ID)
	for what, s := range map[string]string{"Wait's error": werr.Error(), "the Error event": strings.Join(msgs, "\n"), "runs.error": rec.Error} {
		if strings.Contains(s, key) || strings.Contains(s, key[:16]) {
			t.Errorf("%s holds the key: %s", what, s)
		}
		if !strings.Contains(s, "401") {
			t.Errorf("%s lost the cause (401): %s", what, s)
		}
	}
	for _, p := range []string{dbPath, dbPath + "-wal"} {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(key[:16])) {
			t.Errorf("%s holds the key", p)
		}
	}
}

// A grader URL with a password is refused before anything is stored, and the
// refusal does not repeat the password.
func TestGraderURLWithCredentialsRefused(t *testing.T) {
	spec := engine.DefaultSpec()
	spec.Model, spec.Data = "m", "d.json"
	spec.Grader, spec.GraderURL = "http", "https://alice:pa55w0rd-x@api.example/v1"
	err := spec.Validate()
	if !errors.Is(err, redact.ErrCredentialsInURL) || strings.Contains(err.Error(), "pa55w0rd") ||
		!strings.Contains(err.Error(), "--grader-url") || !strings.Contains(err.Error(), "SEAL_GRADER_KEY") {
		t.Errorf("Validate = %v: want a refusal naming --grader-url and $SEAL_GRADER_KEY, without the password", err)
	}
}
