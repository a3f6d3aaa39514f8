package ui

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"seal/engine"
	"seal/models/llama/llamatest"
	"seal/store"
)

// ledgerStore holds a continual run with versions v1 (base) and v2 (step 0), a held
// change v3 (step 1) and a run branched from v2 with its own step v4.
func ledgerStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg, _ := json.Marshal(continualSpec())
	run1, err := db.CreateRun(store.Run{Name: "cont", Domain: "knowledge", Model: "/m/tiny", Status: store.StatusDone, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	run2, err := db.CreateRun(store.Run{Name: "cont (from v2)", Domain: "knowledge", Model: "/m/tiny", Status: store.StatusDone, Config: cfg, Parent: run1})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []store.LedgerEntry{
		{RunID: run1, Kind: store.LedgerBase, Status: store.LedgerCommitted, BaseHash: "b0b0b0b0b0b0b0b0"},
		{RunID: run1, Parent: 1, Kind: store.LedgerContinual, Step: 0, Status: store.LedgerCommitted, AdapterHash: "a1a1a1a1a1a1a1a1", Source: "Kesa Orbra"},
		{RunID: run1, Parent: 2, Kind: store.LedgerContinual, Step: 1, Status: store.LedgerHeld, AdapterHash: "a2a2a2a2a2a2a2a2", Reason: "retention dropped"},
		{RunID: run2, Parent: 2, Kind: store.LedgerContinual, Step: 1, Status: store.LedgerCommitted, AdapterHash: "a3a3a3a3a3a3a3a3"},
	} {
		if _, err := db.SaveLedgerEntry(e); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestVersionTreeCursorAndRollbackQuestion(t *testing.T) {
	db := ledgerStore(t)
	v, err := loadVersions(db, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.entries) != 4 || v.entries[v.cursor].ID != 2 {
		t.Fatalf("entries %d, cursor on v%d, want 4 and the run's head v2", len(v.entries), v.entries[v.cursor].ID)
	}
	var rolled [2]int64
	v.roll = func(run, version int64) tea.Cmd { rolled = [2]int64{run, version}; return nil }
	v.update(keyMsg("down")) // the held v3 comes before the branch (id order)
	if e, _ := v.selected(); e.ID != 3 {
		t.Fatalf("down: on v%d, want v3", e.ID)
	}
	v.update(keyMsg("r"))
	if v.confirm || !strings.Contains(v.err, "v3 was held, never applied") {
		t.Fatalf("a held change is not a version: confirm %v err %q", v.confirm, v.err)
	}
	v.update(keyMsg("up"))
	v.update(keyMsg("r"))
	if !v.confirm || !strings.Contains(v.view(100, 10), "roll back run 1 to v2 as a new run?") {
		t.Fatalf("r on a version asks first:\n%s", v.view(100, 10))
	}
	v.update(keyMsg("n"))
	if v.confirm || rolled != [2]int64{} || v.err != "rollback not started" {
		t.Fatalf("another key takes the question back: confirm %v rolled %v err %q", v.confirm, rolled, v.err)
	}
	v.update(keyMsg("r"))
	v.update(keyMsg("y"))
	if rolled != [2]int64{1, 2} {
		t.Fatalf("y rolled back %v, want run 1 to v2", rolled)
	}
	if _, err := loadVersions(storeWithRuns(t), 1); err == nil || !strings.Contains(err.Error(), "no version tree") {
		t.Fatalf("a run without a ledger: %v", err)
	}
	for l, want := range map[string]int64{"v12 base": 12, "│  ├─ v7 continual": 7, "└─ v3 policy": 3} {
		if id, ok := lineVersion(l); !ok || id != want {
			t.Errorf("lineVersion(%q) = %d %v", l, id, ok)
		}
	}
	if _, ok := lineVersion("├─ x"); ok {
		t.Error("a line without a version id was read")
	}
}

func TestGoldenVersionTree(t *testing.T) {
	db := ledgerStore(t)
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		c := &clock{t0}
		a := testApp(t, continualSpec(), c)
		a.o.DB = db
		a.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		loaded(t, a, press(a, "h"))
		_, cmd := a.Update(keyMsg("v")) // on the newest run: the branch, run 2
		a.Update(cmd())
		if a.screen != screenVersions || a.versions.run != 2 {
			t.Fatalf("v in history: screen %d run %d", a.screen, a.versions.run)
		}
		press(a, "r")
		got := a.View()
		checkFits(t, "versions", got, size[0], size[1])
		for _, want := range []string{"versions of run 2", "v1 base", "v3 continual step 1", "[HELD: retention", "›   └─ v4 continual step 1", "roll back run 2 to v4"} {
			if !strings.Contains(got, want) {
				t.Errorf("%v lacks %q:\n%s", size, want, got)
			}
		}
		golden(t, "versions-"+sizeName(size), got)
		press(a, "x", "esc")
		if a.screen != screenHistory {
			t.Fatalf("esc goes back to history, screen %d", a.screen)
		}
	}
}

// TestRollbackProblemStaysOnTheTree: the engine's refusal is shown where the person
// asked, and a live run blocks a rollback.
func TestRollbackProblemStaysOnTheTree(t *testing.T) {
	db := ledgerStore(t)
	c := &clock{t0}
	a := testApp(t, continualSpec(), c)
	a.o.DB, a.o.Engine = db, engine.New(db, llamatest.Backend())
	loaded(t, a, loadVersionTree(db, 1))
	cmd := a.rollback(1, 99)
	a.Update(cmd())
	if a.screen != screenVersions || !strings.Contains(a.versions.err, "rollback: version 99 is not in the version tree of run 1") {
		t.Fatalf("screen %d, err %q", a.screen, a.versions.err)
	}
	a.run = &engine.Run{ID: 5}
	if a.rollback(1, 2) != nil || !strings.Contains(a.versions.err, "run 5 is still going") {
		t.Fatalf("a live run: %q", a.versions.err)
	}
}

// TestVersionTreeExport: e and E on the version tree ask for a folder and export the
// selected version through the engine; a version of two adapters is refused as one
// adapter with the pointer to E, the merged export's line is shown, esc cancels, and a
// held change is not exported.
func TestVersionTreeExport(t *testing.T) {
	dir := t.TempDir()
	model, err := llamatest.Folder(filepath.Join(dir, "model"), 3)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data.json")
	os.WriteFile(data, []byte(`[{"title": "Varn", "context": "Varn is a town on the river Ossa.", "questions": [{"question": "Which river is Varn on?", "answer": "Ossa"}]},
		{"title": "Rask", "context": "Rask is a painter born in 1877.", "questions": [{"question": "When was Rask born?", "answer": "1877"}]}]`), 0o644)
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	spec := engine.DefaultSpec()
	spec.Model, spec.Data, spec.Mode, spec.Style, spec.Tasks, spec.QATokens = model, data, "continual", "passage", 2, 4
	spec.Inner.Epochs, spec.Inner.Rank, spec.Inner.Alpha, spec.Guard.On = 1, 4, 8, false
	e := engine.New(db, llamatest.Backend())
	r, err := e.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	for range r.Events() {
	}
	if err := r.Wait(); err != nil {
		t.Fatal(err)
	}

	a := testApp(t, continualSpec(), &clock{t0})
	a.o.DB, a.o.Engine = db, e
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 20})
	loaded(t, a, loadVersionTree(db, r.ID))
	exportTo := func(k, folder string) {
		t.Helper()
		press(a, k)
		if !a.versions.typing() || !strings.Contains(a.View(), "to folder:") {
			t.Fatalf("%s asks for no folder:\n%s", k, a.View())
		}
		a.Update(keyMsg(folder))
		cmd := press(a, "enter")
		if cmd == nil {
			t.Fatalf("enter after %s started nothing (err %q)", k, a.versions.err)
		}
		a.Update(cmd())
	}
	exportTo("e", filepath.Join(dir, "one"))
	if !strings.Contains(a.versions.err, "export it with --merged") || !strings.Contains(a.View(), "export: version 3 is 2 adapters") {
		t.Errorf("the head as one adapter: err %q\n%s", a.versions.err, a.View())
	}
	exportTo("E", filepath.Join(dir, "merged"))
	if a.versions.err != "" || !strings.Contains(a.View(), "version v3 (continual) written to "+filepath.Join(dir, "merged")) {
		t.Errorf("merged export: err %q\n%s", a.versions.err, a.View())
	}
	if _, err := os.Stat(filepath.Join(dir, "merged", "model.safetensors")); err != nil {
		t.Error(err)
	}
	press(a, "up", "e")
	if !strings.Contains(a.View(), "export v2 as a PEFT adapter to folder:") {
		t.Fatalf("e on v2:\n%s", a.View())
	}
	press(a, "esc")
	if a.versions.typing() || a.versions.err != "export cancelled" || a.screen != screenVersions {
		t.Errorf("esc: typing %v err %q screen %d", a.versions.typing(), a.versions.err, a.screen)
	}
	v := versionsView{run: 1, entries: []store.LedgerEntry{{ID: 3, Status: store.LedgerHeld}}}
	if v.askExport(false) != nil || v.exporting || !strings.Contains(v.err, "only committed versions can be exported") {
		t.Errorf("a held change: exporting %v err %q", v.exporting, v.err)
	}
}
