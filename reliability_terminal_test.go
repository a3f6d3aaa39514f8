package main

// Attacks 4 and 5 of issue 14 against the built binary: escape sequences in a run
// name, a passage, a question and its answer; a grader key echoed back by the server;
// credentials in URLs.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oneCandidateRun is the smallest run the embedded model makes: one passage, one candidate.
var oneCandidateRun = []string{"--passages", "1", "--k", "1", "--rounds", "1", "--repeats", "1",
	"--edit-tokens", "16", "--qa-tokens", "4", "--epochs", "1"}

// hostileData writes a SQuAD-format file whose title, passage, question and answer
// carry the attack string.
func hostileData(t *testing.T, dir string) string {
	t.Helper()
	b, _ := json.Marshal([]map[string]any{{"title": "Varn " + hostile, "context": "Varn is a town on the river Ossa. " + hostile,
		"questions": []map[string]string{{"question": "Which river is Varn on? " + hostile, "answer": "Ossa " + hostile}}}})
	path := filepath.Join(dir, "hostile.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReliabilityTerminalInjection(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "seal.db")
	data := hostileData(t, dir)
	args := append([]string{"run", "--db", db, "--name", hostile, "--data", data}, oneCandidateRun...)
	r := runBinary(t, dir, 60*time.Second, nil, args...)
	if r.Code != 0 {
		t.Fatalf("seal run: exit %d\n%s", r.Code, r.Stderr)
	}
	noTerminalControl(t, "seal run's stderr", r.Stderr)
	noTerminalControl(t, "seal run's events", r.Stdout)
	if !strings.Contains(r.Stderr, "run 1: x\uFFFD") {
		t.Errorf("seal run does not show the name with the sequences marked:\n%s", r.Stderr)
	}
	for _, cmd := range [][]string{{"runs"}, {"show", "1"}, {"versions", "1"}, {"compare", "1", "1"},
		{"export", "--format", "csv", "1"}, {"export", "1"}, {"audit", "1"}} {
		r := runBinary(t, dir, 20*time.Second, nil, append([]string{cmd[0], "--db", db}, cmd[1:]...)...)
		what := "seal " + strings.Join(cmd, " ")
		if r.Code != 0 {
			t.Errorf("%s: exit %d\n%s", what, r.Code, r.Stderr)
			continue
		}
		noTerminalControl(t, what, r.Stdout+r.Stderr)
		switch cmd[0] {
		case "runs", "show":
			if !strings.Contains(r.Stdout, "x\uFFFD") {
				t.Errorf("%s does not show the name with the sequences marked:\n%s", what, r.Stdout)
			}
		case "export":
			if len(cmd) == 2 {
				exactStrings(t, what, r.Stdout) // the run's name and its passage, as stored
			}
		}
	}
}

// The grader's server answers 401 with the Authorization header echoed. The run
// fails, naming the 401, and the key is nowhere: stderr, the error event, runs,
// show, export (JSONL and CSV), the database and its WAL.
func TestReliabilitySecretsScrubbed(t *testing.T) {
	const key = "sk-proj-R3liab1lityKeyMustNotLeak"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"detail":"invalid key","you_sent":{"Authorization":"` + r.Header.Get("Authorization") + `"}} ` + r.Header.Get("Authorization")))
	}))
	defer srv.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "seal.db")
	env := []string{"SEAL_GRADER_KEY=" + key}
	args := append([]string{"run", "--db", db, "--grader", "http", "--grader-url", srv.URL + "/v1", "--guard=false"}, oneCandidateRun...)
	r := runBinary(t, dir, 60*time.Second, env, args...)
	if r.Code == 0 || !strings.Contains(r.Stderr, "401") || !strings.Contains(r.Stdout, `"type":"error"`) {
		t.Fatalf("seal run against a 401 grader: exit %d, want a failure naming the 401\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	outs := map[string]string{"seal run's stderr": r.Stderr, "seal run's events": r.Stdout}
	for _, cmd := range [][]string{{"runs"}, {"show", "1"}, {"export", "1"}, {"export", "--format", "csv", "1"}} {
		r := runBinary(t, dir, 20*time.Second, nil, append([]string{cmd[0], "--db", db}, cmd[1:]...)...)
		outs["seal "+strings.Join(cmd, " ")] = r.Stdout + r.Stderr
	}
	if !strings.Contains(outs["seal show 1"], "401") {
		t.Errorf("show lost the cause:\n%s", outs["seal show 1"])
	}
	for _, p := range []string{db, db + "-wal"} {
		b, _ := os.ReadFile(p)
		outs[p] = string(b)
	}
	for what, out := range outs {
		for _, part := range []string{key, key[:14], key[len(key)-14:]} {
			if strings.Contains(out, part) {
				t.Errorf("%s holds the key (%q)", what, part)
			}
		}
	}
}

// URLs with credentials are refused before anything runs or is stored, by a message
// that names the flag and where the secret goes instead, and does not repeat it.
func TestReliabilityCredentialURLRefused(t *testing.T) {
	const pw = "Pa55w0rd-in-a-URL"
	dir := t.TempDir()
	db := filepath.Join(dir, "seal.db")
	cfg := filepath.Join(dir, "k.toml")
	os.WriteFile(cfg, []byte("grader = \"http\"\ngrader-url = \"https://alice:"+pw+"@api.example/v1\"\n"), 0o644)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{append([]string{"run", "--db", db, "--grader", "http", "--grader-url", "https://alice:" + pw + "@api.example/v1"}, oneCandidateRun...),
			[]string{"--grader-url", "SEAL_GRADER_KEY"}},
		{append([]string{"run", "--db", db, "--config", cfg}, oneCandidateRun...), []string{"--grader-url", "SEAL_GRADER_KEY"}},
		{append([]string{"run", "--db", db, "--nats", "nats://alice:" + pw + "@127.0.0.1:1"}, oneCandidateRun...), []string{"--nats", "SEAL_NATS_PASSWORD"}},
		{[]string{"worker", "--nats", "nats://alice:" + pw + "@127.0.0.1:1"}, []string{"--nats", "SEAL_NATS_PASSWORD"}},
	} {
		r := runBinary(t, dir, 30*time.Second, nil, c.args...)
		what := "seal " + strings.Join(c.args, " ")
		if r.Code == 0 || strings.Contains(r.Stdout+r.Stderr, pw) {
			t.Errorf("%s: exit %d, want a refusal without the password:\n%s%s", what, r.Code, r.Stdout, r.Stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(r.Stderr, w) {
				t.Errorf("%s: the refusal does not name %q:\n%s", what, w, r.Stderr)
			}
		}
	}
	if b, err := os.ReadFile(db); err == nil && bytes.Contains(b, []byte(pw)) {
		t.Error("the database holds the password")
	}
	if r := runBinary(t, dir, 20*time.Second, nil, "runs", "--db", db); strings.Count(r.Stdout, "\n") > 1 {
		t.Errorf("a refused run was stored:\n%s", r.Stdout)
	}
}

// The workbench in a real terminal (tmux): the history, a run's detail and its version
// tree of a database full of the attack leave the terminal's title alone and show
// the text with the sequences marked.
func TestReliabilityWorkbenchInjection(t *testing.T) {
	bin := sealBinary(t)
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	db := hostileDB(t)
	sock := filepath.Join(dir, "tmux.sock")
	tm := func(args ...string) string {
		out, _ := exec.Command(tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		return string(out)
	}
	if out, err := exec.Command(tmux, "-S", sock, "new-session", "-d", "-x", "120", "-y", "40",
		"XDG_CONFIG_HOME="+dir+" "+bin+" --db "+db+"; sleep 60").CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	defer tm("kill-server")
	title := strings.TrimSpace(tm("display-message", "-p", "#{pane_title}"))
	wait := func(what, want string) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			screen := tm("capture-pane", "-p")
			if strings.Contains(screen, want) {
				return screen
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s after 20s; the screen:\n%s", what, screen)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait("launcher", "new run")
	for _, step := range []struct{ keys, what, want string }{
		{"h", "history", "REWARD"}, {"Enter", "run detail", "candidates"}, {"Escape", "history again", "REWARD"}, {"v", "version tree", "versions of run"},
	} {
		tm("send-keys", step.keys)
		screen := wait(step.what, step.want)
		time.Sleep(100 * time.Millisecond) // the rest of the frame
		if now := strings.TrimSpace(tm("display-message", "-p", "#{pane_title}")); now != title || strings.Contains(now, "pwned") {
			t.Errorf("after the %s the terminal's title is %q (was %q)", step.what, now, title)
		}
		if !strings.Contains(screen+tm("capture-pane", "-p"), "x\uFFFD") {
			t.Errorf("the %s does not show the text with the sequences marked:\n%s", step.what, screen)
		}
	}
	tm("send-keys", "q")
}
