package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seal/models/llama/llamatest"
	"seal/store"
)

// hostile is issue 14's attack string: a screen clear and a window title (OSC ended
// by BEL), then the 8-bit CSI and a right-to-left override.
const hostile = "x\x1b[2J\x1b]0;pwned\x07 \u009b2J \u202Egnp.exe"

// terminalControl is the first thing in out that a terminal would act on: ESC, BEL or
// another C0 control (newline, tab and the CR of CSV line ends aside), DEL, a C1
// control or a bidi control; "" when there is none.
func terminalControl(out string) string {
	i := strings.IndexFunc(out, func(r rune) bool {
		return r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r >= 0x7f && r < 0xa0 ||
			r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
	})
	if i < 0 {
		return ""
	}
	return out[i:min(len(out), i+16)]
}

func noTerminalControl(t *testing.T, what, out string) {
	t.Helper()
	if c := terminalControl(out); c != "" {
		t.Errorf("%s reaches the terminal with %q:\n%q", what, c, out)
	}
}

// hostileDB stores two runs whose every text field holds the attack: name, model
// path, error, config, passage, question, answer, self-edit, reason, review, metric
// name, and a held ledger entry's source and reason.
func hostileDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seal.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := 0; i < 2; i++ {
		cfg, _ := json.Marshal(map[string]any{"name": hostile, "k": i + 1, hostile: hostile})
		id, err := db.CreateRun(store.Run{Name: hostile, Domain: "knowledge", Model: "/m/" + hostile, Status: store.StatusFailed,
			Error: "grading: " + hostile, Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SaveTasks(id, []store.Task{{RunID: id, Key: hostile, Title: hostile, Context: hostile,
			Questions: []store.QA{{Question: hostile, Answer: hostile}}}}); err != nil {
			t.Fatal(err)
		}
		c := store.Candidate{RunID: id, Kind: store.KindSelfEdit, Edit: hostile + "\n" + hostile, Reason: hostile,
			Status: store.CandidateDone, Reward: 0.1, Sampling: []byte("{}"),
			Evals: []store.EvalItem{{Prompt: hostile, Text: hostile, Gold: hostile, Grader: hostile}}}
		cid, err := db.SaveCandidate(&c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SaveReview(store.Review{CandidateID: cid, Verdict: store.VerdictReject, Reason: hostile}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveMetrics([]store.Metric{{RunID: id, Name: hostile, Value: 0.5}}); err != nil {
			t.Fatal(err)
		}
		base, err := db.SaveLedgerEntry(store.LedgerEntry{RunID: id, Kind: store.LedgerBase, Status: store.LedgerCommitted, BaseHash: "sha256:b" + hostile})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SaveLedgerEntry(store.LedgerEntry{RunID: id, Parent: base, Kind: store.LedgerContinual, Status: store.LedgerHeld,
			AdapterHash: "sha256:a" + hostile, Source: "task 0: " + hostile, Edit: hostile, Reason: hostile, CandidateID: cid}); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// Every command that prints stored text prints it without a control sequence; the
// JSON ones (audit, export) keep every string exact.
func TestCommandsPrintNoTerminalControl(t *testing.T) {
	db := hostileDB(t)
	for _, args := range [][]string{
		{"runs"}, {"show", "1"}, {"compare", "1", "2"}, {"versions", "1"}, {"audit", "1"},
		{"export", "--format", "csv", "1"}, {"export", "1"},
	} {
		code, out, errOut := runCmd(append([]string{args[0], "--db", db}, args[1:]...)...)
		if code != 0 || !strings.Contains(out, "x\uFFFD") && args[0] != "audit" && args[0] != "export" {
			t.Errorf("seal %v: exit %d, want the text with each sequence shown as U+FFFD:\n%s%s", args, code, out, errOut)
		}
		noTerminalControl(t, "seal "+strings.Join(args, " "), out+errOut)
		if args[0] == "audit" || args[0] == "export" && len(args) == 2 {
			exactStrings(t, "seal "+strings.Join(args, " "), out)
		}
	}
}

// exactStrings checks that JSON lines decode and that the attack string comes back
// exactly in them (at least once).
func exactStrings(t *testing.T, what, out string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	found := false
	for sc.Scan() {
		var v any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: line %q: %v", what, sc.Text(), err)
		}
		found = found || strings.Contains(sc.Text(), `\u009b2J \u202egnp.exe`) && containsString(v, hostile)
	}
	if !found {
		t.Errorf("%s: the stored string does not come back exactly:\n%s", what, out)
	}
}

func containsString(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, s)
	case map[string]any:
		for k, y := range x {
			if strings.Contains(k, s) || containsString(y, s) {
				return true
			}
		}
	case []any:
		for _, y := range x {
			if containsString(y, s) {
				return true
			}
		}
	}
	return false
}

// seal run's progress on stderr and its JSON events on stdout carry a hostile run
// name, passage and question without a control sequence.
func TestRunPrintsNoTerminalControl(t *testing.T) {
	dir := t.TempDir()
	model, err := llamatest.Folder(filepath.Join(dir, "model"), 3)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data.json")
	b, _ := json.Marshal([]map[string]any{{"title": hostile, "context": "Varn is a town. " + hostile,
		"questions": []map[string]string{{"question": "Which town? " + hostile, "answer": "Varn"}}}})
	os.WriteFile(data, b, 0o644)
	code, out, errOut := runCmd("run", "--db", filepath.Join(dir, "seal.db"), "--model", model, "--data", data, "--name", hostile,
		"--passages", "1", "--k", "1", "--rounds", "1", "--repeats", "1", "--edit-tokens", "8", "--qa-tokens", "4", "--epochs", "1",
		"--lora-rank", "4", "--lora-alpha", "8", "--guard=false", "--baselines=false")
	if code != 0 || !strings.Contains(errOut, "x\uFFFD") {
		t.Fatalf("run: exit %d\n%s", code, errOut)
	}
	noTerminalControl(t, "seal run's stderr", errOut)
	noTerminalControl(t, "seal run's events", out)
	if !strings.Contains(out, `"name":"x\u001b[2J\u001b]0;pwned\u0007 \u009b2J \u202egnp.exe"`) {
		t.Errorf("run_started does not carry the exact name:\n%s", out)
	}
}

// A run stored before URLs with credentials were refused, or with an error from before
// errors were scrubbed, shows neither secret.
func TestShowScrubsSecretsOfOlderRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seal.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := []byte(`{"grader":"http","grader_url":"https://alice:0ld-pa55word@api.example/v1"}`)
	if _, err := db.CreateRun(store.Run{Name: "old", Domain: "knowledge", Model: "m", Status: store.StatusFailed, Config: cfg,
		Error: "grader: 401: echo Authorization: Bearer sk-0ld-key-123456789"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, errOut := runCmd("show", "--db", path, "1")
	if code != 0 || strings.Contains(out, "0ld-pa55word") || strings.Contains(out, "sk-0ld-key") || !strings.Contains(out, "api.example") {
		t.Errorf("show: exit %d\n%s%s", code, out, errOut)
	}
}
