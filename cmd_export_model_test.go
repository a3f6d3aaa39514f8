package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seal/engine"
	"seal/models/llama/llamatest"
	"seal/store"
)

// TestExportModelCommand: a continual run's head exported merged and its first step as
// a PEFT adapter, flags before and after the run number; each folder loads back with
// the version's fingerprint. The head as one adapter, an occupied --out and a missing
// --out are refused with the reason.
func TestExportModelCommand(t *testing.T) {
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
	code, out, _ := runCmd("audit", "--db", db, "1")
	recs, err := engine.ReadAudit(strings.NewReader(out))
	if code != 0 || err != nil || len(recs) != 3 {
		t.Fatalf("audit: %d %v\n%s", code, err, out)
	}
	merged, adapter := filepath.Join(dir, "merged"), filepath.Join(dir, "adapter")
	code, out, errOut = runCmd("export-model", "--db", db, "--merged", "1", "--out", merged)
	if code != 0 || !strings.Contains(out, "version v3 (continual) written to "+merged+" as a Hugging Face model folder") {
		t.Fatalf("export-model --merged: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCmd("export-model", "1", "--db", db, "--version", "2", "--out", adapter)
	if code != 0 || !strings.Contains(out, "as a PEFT adapter for") {
		t.Fatalf("export-model --version 2: %d\n%s%s", code, out, errOut)
	}
	d, err := openDB(db, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	e := engine.New(d, llamatest.Backend())
	if fp, err := e.FolderFingerprint(merged, "", false); err != nil || fp != recs[2].Fingerprint {
		t.Errorf("merged folder: %.12s %v, want %.12s", fp, err, recs[2].Fingerprint)
	}
	if fp, err := e.FolderFingerprint(model, adapter, recs[1].Merged); err != nil || fp != recs[1].Fingerprint {
		t.Errorf("adapter folder: %.12s %v, want %.12s", fp, err, recs[1].Fingerprint)
	}
	if recs[2].Kind != store.LedgerContinual {
		t.Errorf("head kind %s", recs[2].Kind)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export-model", "1", "--db", db, "--out", filepath.Join(dir, "x")}, 1, "export it with --merged"},
		{[]string{"export-model", "1", "--db", db, "--merged", "--out", merged}, 1, "not empty; nothing is overwritten"},
		{[]string{"export-model", "1", "--db", db}, 2, "Usage: seal export-model"},
		{[]string{"export-model", "x", "--db", db, "--out", filepath.Join(dir, "x")}, 2, `"x" is not a run number`},
		{[]string{"export-model", "1", "--db", db, "--version", "9", "--out", filepath.Join(dir, "x")}, 1, "not in the version tree"},
	} {
		code, _, errOut := runCmd(c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("seal %s: exit %d, stderr %q; want %d and %q", strings.Join(c.args, " "), code, errOut, c.code, c.want)
		}
	}
}
