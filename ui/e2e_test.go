package ui

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"seal/engine"
	"seal/engine/knowledge/world"
	"seal/models/llama/llamatest"
	"seal/models/tiny"
	"seal/store"
)

// TestWorkbenchEndToEnd drives the real program (real engine, embedded model, SQLite)
// through a terminal: a run with the review gate on, its two candidates reviewed beside
// their passage (stepping between them), a reward, an approval and a rejection, a what-if edit, a second run, history and compare. It waits only for
// rendered text, never for time.
func TestWorkbenchEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded model")
	}
	dir := t.TempDir()
	model, err := tiny.Dir()
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "val.json")
	if err := world.WriteSQuAD(data, world.Generate(world.DefaultConfig()).Passages(world.Val)); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(dir, "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	spec := engine.DefaultSpec()
	spec.Model, spec.Data = model, data
	spec.Tasks, spec.K, spec.Rounds, spec.Repeats, spec.EditTokens, spec.QATokens = 1, 2, 1, 1, 16, 8
	spec.Inner.Epochs, spec.Policy.Epochs, spec.Baselines, spec.ReviewGate = 1, 1, true, false
	app := New(Options{DB: db, Engine: engine.New(db, llamatest.Backend()), Spec: spec, PresetDir: filepath.Join(dir, "presets"),
		Grace: 200 * time.Millisecond, UndoWindow: 200 * time.Millisecond})
	defer app.Close()
	tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(120, 36))

	waitFor := func(what string, patterns ...string) {
		t.Log("waiting for", what)
		t.Helper()
		res := make([]*regexp.Regexp, len(patterns))
		for i, p := range patterns {
			res[i] = regexp.MustCompile(p)
		}
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			for _, re := range res {
				if !re.Match(b) {
					return false
				}
			}
			return true
		}, teatest.WithDuration(60*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	}
	send := func(keys ...string) {
		for _, k := range keys {
			tm.Send(keyMsg(k))
		}
	}

	waitFor("the launcher", `new run`)
	for range launcherFieldIndex(t, "review gate") {
		send("down")
	}
	send("right")
	waitFor("the review gate on", `review gate\s+‹ on ›`)
	send("s")
	// A passage's candidates are committed together after their inner loops (one batch),
	// so both wait for a verdict at once, each beside the passage it was written from.
	waitFor("the first review prompt: the passage beside the edit, and what the edit did", `review #\d+ \(r0 p0 c0\) reward [-+]\d\.\d{3} \[a\]pprove`,
		`1 of 2 waiting`, `source · passage 0`, `The Veda Summer took place in`,
		`what this edit did`, `reward [-+]\d\.\d{3} ± \d\.\d{3} over 1 repeat`, `passage-only baseline [-+]\d\.\d{3}`,
		`[✓✗] → [✓✗]  Q1 Where did the Veda Summer happen\?`,
		`│[✓~✗] 1\. The Veda Summer`, `grounding \d\.\d\d: \d+ ✓ \d+ ~ \d+ ✗`) // each line's grounding mark
	send("]")
	waitFor("the next waiting candidate", `under review: #\d+ r0 p0 c1 2/2`, `2 of 2 waiting`)
	send("[")
	waitFor("back to the first", `under review: #\d+ r0 p0 c0 1/2`, `1 of 2 waiting`)
	send("a")
	waitFor("the second review prompt", `review #\d+ \(r0 p0 c1\) reward [-+]\d\.\d{3} \[a\]pprove`)
	send("r")
	tm.Type("off topic")
	send("enter")
	waitFor("the run to finish", `✓ done`)

	reviews, err := db.LatestReviews(1)
	if err != nil {
		t.Fatal(err)
	}
	all, err := db.Candidates(1, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		rv := reviews[c.ID]
		switch {
		case c.Kind != store.KindSelfEdit:
		case c.Index == 0 && rv.Verdict != "approve":
			t.Errorf("candidate c0 (#%d): %+v, want an approval", c.ID, rv)
		case c.Index == 1 && (rv.Verdict != "reject" || rv.Reason != "off topic"):
			t.Errorf("candidate c1 (#%d): %+v, want a rejection for being off topic", c.ID, rv)
		}
	}

	// What if: the person writes a self-edit and it is scored now, as a human candidate.
	send("w")
	waitFor("the what-if editor", `what if: r0 p0`)
	tm.Type(" Kesa Orbra lived in Veostwick.")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlS})
	waitFor("the what-if reward", `what-if #\d+ \(human\): reward [-+]\d\.\d{3}`)
	cands, err := db.Candidates(1, false)
	if err != nil {
		t.Fatal(err)
	}
	human := 0
	for _, c := range cands {
		if c.Kind == store.KindHuman {
			human++
			if !strings.Contains(c.Edit, "Kesa Orbra lived in Veostwick.") || c.Index < spec.K {
				t.Errorf("human candidate: index %d edit %q", c.Index, c.Edit)
			}
		}
	}
	if human != 1 {
		t.Errorf("%d human candidates, want 1", human)
	}

	// A second run without the gate, then history and compare.
	send("n", "left", "s")
	waitFor("the second run to finish", `run 2 ·`, `✓ done`)
	send("h")
	waitFor("history", `history\s+2 runs`)
	send(" ", " ", "c")
	waitFor("the comparison", `config differences`, `review_gate\s+true\s+false`, `reward per self-edit`)
	// What if, on a finished run opened from history.
	send("esc", "k", "enter")
	waitFor("run 2 in full", `run 2: `, `w what if`)
	send("w")
	waitFor("the what-if editor on run 2", `what if: r0 p0`)
	tm.Type(" Varn is on the Ossa.")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlS})
	waitFor("the second what-if reward", `what-if #\d+ \(human\): reward [-+]\d\.\d{3}`)
	if cands, err := db.Candidates(2, false); err != nil || cands[len(cands)-1].Kind != store.KindHuman {
		t.Errorf("run 2 has no human candidate after its what-if (%v)", err)
	}
	// The version tree of run 2 and a rollback to its head as a new run.
	head, ok, err := db.HeadVersion(2)
	if err != nil || !ok {
		t.Fatalf("run 2 has no head version (%v)", err)
	}
	send("h")
	waitFor("history again", `history\s+2 runs`)
	send("k", "v")
	waitFor("run 2's version tree", `versions of run 2`, `v\d+ base`)
	send("r")
	waitFor("the rollback question", `roll back run 2 to v\d+ as a new run\?`)
	send("y")
	waitFor("the rollback run to finish", `run 3 ·`, `\(from v\d+\)`, `✓ done`)
	if r, err := db.Run(3); err != nil || r.Parent != 2 {
		t.Errorf("run 3 is not a branch of run 2: %+v %v", r, err)
	}
	send("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(30*time.Second))
	if r, err := db.Run(3); err != nil || !strings.Contains(string(r.Config), fmt.Sprintf(`"from_version":%d`, head.ID)) {
		t.Errorf("run 3 does not start from v%d: %v", head.ID, err)
	}
	for _, id := range []int64{1, 2, 3} {
		r, err := db.Run(id)
		if err != nil || r.Status != store.StatusDone {
			t.Errorf("run %d: %+v %v", id, r.Status, err)
		}
	}
}

// launcherFieldIndex is the launcher's position of the field with that label, so that
// a test that walks the launcher with the arrow keys survives fields added above it.
func launcherFieldIndex(t *testing.T, label string) int {
	t.Helper()
	for i, f := range launcherFields {
		if f.label == label {
			return i
		}
	}
	t.Fatalf("the launcher has no field %q", label)
	return 0
}
