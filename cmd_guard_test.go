package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seal/engine"
	"seal/models/llama/llamatest"
)

// TestGuardCommands: a continual run, its version tree, a rollback to the first step's
// version (flags after the run number), the tree with the branch, and the audit lines.
func TestGuardCommands(t *testing.T) {
	dir := t.TempDir()
	model, err := llamatest.Folder(filepath.Join(dir, "model"), 3)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data.json")
	os.WriteFile(data, []byte(`[{"title": "Varn", "context": "Varn is a town on the river Ossa.", "questions": [{"question": "Which river is Varn on?", "answer": "Ossa"}]},
		{"title": "Rask", "context": "Rask is a painter born in 1877.", "questions": [{"question": "When was Rask born?", "answer": "1877"}]}]`), 0o644)
	db := filepath.Join(dir, "seal.db")
	code, _, errOut := runCmd("run", "--db", db, "--model", model, "--data", data, "--mode", "continual", "--style", "passage",
		"--passages", "2", "--qa-tokens", "4", "--epochs", "1", "--lora-rank", "4", "--lora-alpha", "8", "--guard=false")
	if code != 0 {
		t.Fatalf("run: %d\n%s", code, errOut)
	}
	code, out, errOut := runCmd("versions", "--db", db, "1")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.HasPrefix(out, "v1 base ") || !strings.Contains(out, "└─ v3 continual step 1") {
		t.Fatalf("versions: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCmd("rollback", "1", "--db", db, "--to", "2")
	if code != 0 || !strings.Contains(out, `"type":"version_committed"`) {
		t.Fatalf("rollback: %d\n%s", code, errOut)
	}
	code, out, _ = runCmd("versions", "--db", db, "2")
	if code != 0 || strings.Count(out, "\n") != 4 || !strings.Contains(out, "(run 2)") || !strings.Contains(out, "├─ ") {
		t.Errorf("versions after the rollback:\n%s", out)
	}
	code, out, _ = runCmd("audit", "--db", db, "1")
	recs, err := engine.ReadAudit(strings.NewReader(out))
	if code != 0 || err != nil || len(recs) != 3 || recs[0].Kind != "base" || recs[1].AdapterHash == "" || recs[2].Source != "task 1: Rask" {
		t.Errorf("audit: %d %v\n%s", code, err, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rollback", "1", "--db", db}, "Usage: seal rollback"},
		{[]string{"rollback", "x", "--db", db, "--to", "2"}, `"x" is not a run number`},
		{[]string{"rollback", "1", "--db", db, "--to", "99"}, "not in the version tree"},
		{[]string{"versions", "--db", db, "9"}, "9"},
	} {
		if code, _, errOut := runCmd(c.args...); code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("seal %v: %d %s", c.args, code, errOut)
		}
	}
}
