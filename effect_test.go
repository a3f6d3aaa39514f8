package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"seal/engine"
	"seal/engine/arc"
	"seal/models/llama/llamatest"
	"seal/store"
)

// TestEffectOrdering is the short version of the README's table: on the first 16
// passages of the world's val split, the embedded model answers fewer questions with no
// update than after training on the passage, and fewer than with the passage in
// context. How sure the sample makes that: resampling the 48 val passages the embedded
// model was measured on at its preset (engine.EmbeddedSpec; README, the fresh-world
// table) 20,000 times, 16 at a time, both orderings held in every sample (no update
// 0.031, passage only 0.897, in context 0.275; on these first 16: 0.041, 0.886, 0.296;
// the bare-words model before it: 99.4%).
// The self-edits' place against the passage is the table's finding, not
// an ordering this test may assume (README). Every seed is fixed, so the run is the same
// each time on a machine. The one ReST-EM round trains on one RL passage of the world's
// train split, none of the 16.
func TestEffectOrdering(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded model for about two minutes")
	}
	db := filepath.Join(t.TempDir(), "seal.db")
	code, out, errs := runCmd("effect", "--db", db, "--passages", strconv.Itoa(effectSample), "--k", "1", "--rounds", "1",
		"--rl-passages", "1", "--teacher", "none")
	if code != 0 {
		t.Fatalf("seal effect: exit %d\n%s", code, errs)
	}
	t.Log("\n" + out)
	for _, want := range []string{"| train on the passage only |", "| own self-edits after 1 ReST-EM round (mean of k) |", "RL passages apart from the evaluation passages: 1 fresh passages per round"} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q in the table:\n%s", want, out)
		}
	}
	d, err := store.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ms, err := d.Metrics(1)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]float64{}
	for _, x := range ms {
		m[x.Name] = x.Value
	}
	base, passage, context := m["round0/base"], m["passage"], m["context"]
	if !(base < passage && base < context) {
		t.Errorf("want no update < passage only and no update < passage in context, got %.3f, %.3f, %.3f", base, passage, context)
	}
}

// effectSample is the number of passages of the short version.
const effectSample = 16

// effectDB is a finished run on 3 evaluation passages and 1 RL passage, with every
// condition the table knows, scores chosen so each row's mean is known.
func effectDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seal.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := `{"domain":"knowledge","mode":"restem","data":"val.json","rl_data":"train.json","rl_passages":1,"rounds":1}`
	run, err := db.CreateRun(store.Run{Name: "effect", Domain: "knowledge", Model: "m", Status: store.StatusDone, Config: []byte(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	qa := []store.QA{{Question: "q?", Answer: "a"}, {Question: "r?", Answer: "b"}}
	if err := db.SaveTasks(run, []store.Task{{Index: 0, Key: "0", Questions: qa}, {Index: 1, Key: "1", Questions: qa}, {Index: 2, Key: "2", Questions: qa}, {Index: 3, Key: "rl:0", Questions: qa}}); err != nil {
		t.Fatal(err)
	}
	save := func(round, task, idx int, kind string, acc float64) {
		c := store.Candidate{RunID: run, Round: round, Task: task, Index: idx, Kind: kind, Status: store.CandidateDone, AdaptedScore: acc, Sampling: []byte("{}")}
		if _, err := db.SaveCandidate(&c); err != nil {
			t.Fatal(err)
		}
	}
	for task, accs := range [][]float64{{0, 0.5, 0, 0.5, 0.5, 1, 1, 1}, {0, 0.5, 0.5, 0.5, 0, 0.5, 0.5, 1}, {0.5, 1, 0, 1, 0.5, 0.5, 1, 1}} {
		save(0, task, -3, store.KindBaselineBase, accs[0])
		save(0, task, -1, store.KindBaselinePassage, accs[1])
		save(0, task, -2, store.KindBaselineContext, accs[2])
		save(0, task, -5, "baseline_steps", accs[3])
		save(0, task, 0, store.KindSelfEdit, accs[4])
		save(0, task, 1, store.KindSelfEdit, accs[5])
		save(1, task, 0, store.KindSelfEdit, accs[6])
		save(0, task, -6, "teacher", accs[7])
	}
	save(0, 3, 0, store.KindSelfEdit, 0) // an RL passage: in no row
	return path
}

// The table of a stored run: every condition in order with its mean over the evaluation
// passages, a 95% interval, the paired difference from the row above, and what the
// numbers are over.
func TestEffectTableOfStoredRun(t *testing.T) {
	code, out, errs := runCmd("effect", "--db", effectDB(t), "--run", "1", "--resamples", "2000")
	if code != 0 {
		t.Fatalf("seal effect --run 1: exit %d: %s", code, errs)
	}
	rows := []string{
		"| no update | 0.167 |",
		"| passage in context, no update | 0.167 |",
		"| train on the passage only | 0.667 |",
		"| train on the passage repeated to the self-edits' steps (step-matched) | 0.667 |",
		"| train on the model's own self-edits, round 0 (mean of k) | 0.500 |",
		"| the best of the k self-edits per passage, round 0 (what ReST-EM keeps) | 0.667 |",
		"| own self-edits after 1 ReST-EM round (mean of k) | 0.833 |",
		"| train on a teacher's self-edits | 1.000 |",
	}
	at := 0
	for _, r := range rows {
		i := strings.Index(out, r)
		if i < at {
			t.Fatalf("row %q missing or out of order in\n%s", r, out)
		}
		at = i
	}
	for _, want := range []string{
		"| condition | closed-book accuracy | 95% CI | difference from the row above (paired) | 95% CI |",
		"(step-matched) | 0.667 | [0.500, 1.000] | +0.000 | [+0.000, +0.000] |", // the same as passage only on every passage: no width
		"mean over 3 passages; 95% intervals by a percentile bootstrap over passages (2000 resamples, seed 1)",
		"3 passages, 6 questions", "RL passages apart from the evaluation passages: 1 fresh passages per round from train.json",
		// The orderings the method expects, each a paired difference over the passages.
		"| no update <= 0.05 | 0.167 | [", "| missed |\n| passage only >= 0.30 | 0.667 | [0.500, 1.000] | met |",
		"| own self-edits (round 0) - step-matched >= 0, interval above 0 | -0.167 |",
		"| after 1 ReST-EM round - step-matched >= +0.05, interval above 0 | +0.167 |",
		"| after 1 ReST-EM round - round 0 >= +0.05, interval above 0 | +0.333 |",
		"| after 1 ReST-EM round - (step-matched + half the teacher's gain over it) >= 0, interval above 0 | +0.000 | [-0.250, +0.250] | missed |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}

// `seal show` says where a ReST-EM run's policy updates came from.
func TestShowSaysWhereRLPassagesCameFrom(t *testing.T) {
	code, out, errs := runCmd("show", "--db", effectDB(t), "1")
	if code != 0 || !strings.Contains(out, "RL passages apart from the evaluation passages: 1 fresh passages per round from train.json") {
		t.Fatalf("seal show: exit %d: %s\n%s", code, errs, out)
	}
	if got := rlLine([]byte(`{"mode":"restem"}`)); !strings.Contains(got, "RL and evaluation passages are the same") {
		t.Errorf("a run without --rl-data: %q", got)
	}
}

// On the default data, the evaluation passages come from the split asked for and a
// ReST-EM run's RL passages from the world's train split, as many per round as
// evaluation passages; a split of given data, or an unknown split, is refused.
func TestDefaultDataSplitsAndRLPassages(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	spec := engine.EmbeddedSpec()
	spec.Tasks = 7
	if err := defaultDataOfSplit(&spec, "test"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(spec.Data, "-test.json") || !strings.HasSuffix(spec.RLData, "-train.json") || spec.RLPassages != 7 {
		t.Errorf("data %s, rl data %s, %d RL passages per round", spec.Data, spec.RLData, spec.RLPassages)
	}
	if err := spec.Validate(); err != nil {
		t.Error(err)
	}
	val := engine.EmbeddedSpec()
	if err := defaultModelAndData(&val); err != nil || !strings.HasSuffix(val.Data, "-val.json") || val.RLData != spec.RLData {
		t.Errorf("the default split: data %s, rl data %s (%v)", val.Data, val.RLData, err)
	}
	cpt := engine.EmbeddedSpec()
	cpt.Mode = "cpt"
	if err := defaultModelAndData(&cpt); err != nil || cpt.RLData != "" {
		t.Errorf("cpt has no rounds to take RL passages for: rl data %q (%v)", cpt.RLData, err)
	}
	bad := engine.EmbeddedSpec()
	if err := defaultDataOfSplit(&bad, "dev"); err == nil || !strings.Contains(err.Error(), `--split "dev": the knowledge domain's default data has the splits test, val`) {
		t.Errorf("unknown split: %v", err)
	}
	given := engine.EmbeddedSpec()
	given.Data = "mine.json"
	if err := defaultDataOfSplit(&given, "test"); err == nil || !strings.Contains(err.Error(), "--data mine.json was given") {
		t.Errorf("split of given data: %v", err)
	}
	if given.RLData != "" {
		t.Errorf("given data took the default RL passages %s", given.RLData)
	}
}

// On the default data an ARC run's RL tasks are the procedural training tasks, apart
// from the eval tasks: the ARC table's 2 rounds of 8 by default, and `seal run`'s as
// many per round as --passages; the file holds enough for either and loads as ARC data.
func TestARCDefaultRLTasks(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	spec := effectSpec("arc")
	if err := defaultDataOfSplit(&spec, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(spec.Data, "eval_challenges.json") || !strings.HasSuffix(spec.RLData, "train_challenges.json") ||
		spec.Rounds != 2 || spec.RLPassages != 8 {
		t.Fatalf("ARC table: data %s, rl data %s, %d rounds of %d RL tasks", spec.Data, spec.RLData, spec.Rounds, spec.RLPassages)
	}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	rl, err := arc.Load(spec.RLData, engine.ARCSolutionsPath(spec.RLData, ""))
	if err != nil {
		t.Fatal(err)
	}
	eval, err := arc.Load(spec.Data, engine.ARCSolutionsPath(spec.Data, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(rl) < spec.Rounds*spec.RLPassages || len(rl) < 3*8 {
		t.Errorf("%d RL tasks: fewer than the table's rounds × RL tasks", len(rl))
	}
	pair := func(p arc.Pair) string { return arc.Format(p.Input) + "\n->\n" + arc.Format(p.Output) }
	held := map[string]bool{}
	for _, task := range eval {
		held[pair(task.Test[0])] = true
	}
	for _, task := range rl {
		if !task.Solved() || held[pair(task.Test[0])] {
			t.Fatalf("RL task %s: solved %v, or an eval task's test", task.ID, task.Solved())
		}
	}
	run := engine.EmbeddedARCSpec()
	if err := defaultModelAndData(&run); err != nil || run.RLData != spec.RLData || run.RLPassages != run.Tasks {
		t.Errorf("seal run --domain arc: rl data %s, %d RL tasks per round for %d eval tasks (%v)", run.RLData, run.RLPassages, run.Tasks, err)
	}
}

// An ARC run's table: pass@2 per task of in context, the fixed config, each round's own
// self-edits (an invalid edit scores 0) and the oracle, in that order, with the valid
// share per round under it.
func TestEffectTableOfStoredARCRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seal.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	run, err := db.CreateRun(store.Run{Name: "arc effect", Domain: "arc", Model: "m", Status: store.StatusDone,
		Config: []byte(`{"domain":"arc","mode":"restem","data":"eval_challenges.json","rl_data":"train_challenges.json","rl_passages":1,"rounds":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SaveTasks(run, []store.Task{{Index: 0, Key: "a-0"}, {Index: 1, Key: "b-0"}, {Index: 2, Key: "rl:c-0"}}); err != nil {
		t.Fatal(err)
	}
	good := `{"data_generation":{"use_basic_augmentations":true,"use_size_augmentations":false,"use_chain_augmentations":false,"use_repeat_augmentations":false},"training":{"strategy":"train_using_output_tokens","learning_rate":0.001,"num_train_epochs":2}}`
	save := func(task, idx int, kind, status, edit string, score float64) {
		c := store.Candidate{RunID: run, Task: task, Index: idx, Kind: kind, Status: status, Edit: edit, AdaptedScore: score, Reward: score, Sampling: []byte("{}")}
		if status == "invalid" {
			c.Reason = "no JSON object in the text"
		}
		if _, err := db.SaveCandidate(&c); err != nil {
			t.Fatal(err)
		}
	}
	for task, s := range [][]float64{{0, 1, 1, 0, 1}, {0, 0, 1, 1, 1}} {
		save(task, -3, store.KindBaselineBase, "done", "", s[0])
		save(task, -1, "baseline_fixed", "done", good, s[1])
		save(task, 0, store.KindSelfEdit, "done", good, s[2])
		save(task, 1, store.KindSelfEdit, "done", good, s[3])
		save(task, -2, "baseline_oracle", "done", good, s[4])
	}
	save(1, 2, store.KindSelfEdit, "invalid", "not a config", 0) // scores 0 and is not valid
	save(2, -3, store.KindBaselineBase, "done", "", 1)           // the RL task's: no part of the table
	save(2, 0, store.KindSelfEdit, "done", good, 1)
	// A stopped run: one task has its round-1 self-edit, the other not yet.
	late := store.Candidate{RunID: run, Round: 1, Task: 0, Index: 0, Kind: store.KindSelfEdit, Status: "done", Edit: good, AdaptedScore: 1, Reward: 1, Sampling: []byte("{}")}
	if _, err := db.SaveCandidate(&late); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, errs := runCmd("effect", "--db", path, "--run", "1", "--resamples", "2000")
	if code != 0 {
		t.Fatalf("seal effect --run 1: exit %d: %s", code, errs)
	}
	at := 0
	for _, r := range []string{"| condition | pass@2 |", "| in context | 0.000 |", "| fixed config | 0.500 |",
		"| own self-edits (round 0) | 0.583 |", "| oracle | 1.000 |", "2 tasks. Valid self-edits: round 0 0.80 of 5, round 1 1.00 of 1. RL tasks apart from the evaluation tasks: 1 fresh tasks per round from train_challenges.json",
		"| own self-edits (round 0) - in context > 0 | +0.583 |", "| valid self-edits at round 0 >= 0.90 | 0.800 (5 self-edits) | | missed |",
		"Left out, not finished on every task (the run stopped; `seal resume 1` goes on): after 1 ReST-EM round (1 of 2)."} {
		i := strings.Index(out, r)
		if i < at {
			t.Fatalf("%q missing or out of order in\n%s", r, out)
		}
		at = i
	}
}

func TestDomainArg(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{{nil, ""}, {[]string{"--domain", "arc"}, "arc"}, {[]string{"-k", "2", "--domain=arc"}, "arc"},
		{[]string{"-domain", "knowledge"}, "knowledge"}, {[]string{"--domain"}, ""}} {
		if got := domainArg(c.args); got != c.want {
			t.Errorf("domainArg(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

// The grounding note under a knowledge table: accuracy by grounding band, the
// correlation, and the kept edits' grounding against all, over own self-edits only (a
// baseline or an edit with no grounding is no part of it). The figures are worked by
// hand from the four edits.
func TestGroundingNote(t *testing.T) {
	g := func(v float64) *float64 { return &v }
	edit := func(task int, grounding *float64, acc float64) store.Candidate {
		return store.Candidate{Task: task, Kind: store.KindSelfEdit, Status: store.CandidateDone, Grounding: grounding, AdaptedScore: acc}
	}
	cands := []store.Candidate{
		edit(0, g(0.2), 0), edit(0, g(0.6), 0.5), edit(1, g(0.8), 1), edit(1, g(0.9), 0.5),
		edit(1, nil, 1), // no grounding
		{Task: 0, Kind: store.KindBaselinePassage, Status: store.CandidateDone, Grounding: g(1), AdaptedScore: 1},
		{Task: 1, Kind: store.KindSelfEdit, Status: store.CandidateInvalid, Grounding: g(0.1), AdaptedScore: 0},
	}
	note := groundingNote(cands)
	// r = 0.3 / sqrt(0.2875 * 0.5) = 0.79; kept: 0.6 (passage 0) and 0.8 (passage 1).
	for _, want := range []string{"run's 4 own self-edits", "correlation 0.79;", "grounded 0.700 on average, all of them 0.625",
		"| below 0.5 | 1 | 0.000 |", "| 0.5 to 0.75 | 1 | 0.500 |", "| 0.75 and above | 2 | 0.750 |"} {
		if !strings.Contains(note, want) {
			t.Errorf("grounding note lacks %q:\n%s", want, note)
		}
	}
	if note := groundingNote(cands[4:]); note != "" {
		t.Errorf("a run without grounded self-edits has a grounding note:\n%s", note)
	}
	if note := groundingNote([]store.Candidate{edit(0, g(0.5), 0.2), edit(1, g(0.5), 0.4)}); !strings.Contains(note, "correlation undefined (no spread)") {
		t.Errorf("edits of one grounding: %s", note)
	}
}

// TestEffectOfAnotherModel: --model measures another folder (a candidate for the embedded
// model) with the embedded settings, and the stored run names it; a missing folder is an
// error naming it.
func TestEffectOfAnotherModel(t *testing.T) {
	dir := t.TempDir()
	model, err := llamatest.Folder(filepath.Join(dir, "model"), 3)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "seal.db")
	code, out, errs := runCmd("effect", "--db", db, "--model", model, "--passages", "1", "--k", "1", "--rounds", "1", "--rl-passages", "1", "--epochs", "1", "--teacher", "none")
	if code != 0 || !strings.Contains(out, "train on the passage only") {
		t.Fatalf("seal effect --model: exit %d\n%s\n%s", code, out, errs)
	}
	d, err := store.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	run, err := d.Run(1)
	if err != nil || run.Model != model {
		t.Errorf("the stored run's model is %q (%v), want %s", run.Model, err, model)
	}
	missing := filepath.Join(dir, "none")
	if code, _, errs := runCmd("effect", "--db", db, "--model", missing, "--passages", "1"); code == 0 || !strings.Contains(errs, missing) {
		t.Errorf("seal effect --model of a missing folder: exit %d, stderr %q", code, errs)
	}
}

// seal effect takes the ReST-EM levers of seal run: a bad value is refused by name before
// anything runs, and nothing is written to the database.
func TestEffectRefusesBadLevers(t *testing.T) {
	for _, c := range []struct{ flag, value, want string }{
		{"--repeats", "0", "--repeats"},
		{"--min-grounding", "1.5", "--min-grounding"},
	} {
		db := filepath.Join(t.TempDir(), "seal.db")
		code, _, errs := runCmd("effect", "--db", db, c.flag, c.value)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("seal effect %s %s: exit %d, stderr %q; want 2 naming %s", c.flag, c.value, code, errs, c.want)
		}
		if _, err := os.Stat(db); err == nil {
			t.Errorf("seal effect %s %s made the database %s", c.flag, c.value, db)
		}
	}
}

// The grounding measure under a knowledge table: per round, and for the teacher,
// the share of self-edit lines whose names and numbers all appear in the passage, mean
// over evaluation passages of the mean over their edits (worked by hand below).
func TestFactLinesNote(t *testing.T) {
	passages := map[int]string{0: "Kalo\nKalo lies on the river Ossa.", 1: "Vinsa\nThe Vinsa Company was founded in 1924."}
	c := func(kind string, round, task int, edit string) store.Candidate {
		return store.Candidate{Kind: kind, Round: round, Task: task, Edit: edit, Status: store.CandidateDone}
	}
	cands := []store.Candidate{
		c(store.KindSelfEdit, 0, 0, "Kalo lies on the Ossa.\nKalo lies on the Tarn."), // 1 of 2 lines
		c(store.KindSelfEdit, 0, 0, "Kalo is a town."),                                // no name it lacks: 1
		c(store.KindSelfEdit, 0, 1, "The Vinsa Company was founded in 1925."),         // 0
		c(store.KindSelfEdit, 1, 1, "The Vinsa Company was founded in 1924."),         // 1
		c(store.KindTeacher, 0, 0, "Kalo lies on the river Ossa."),                    // 1
		c(store.KindSelfEdit, 0, 2, "Marvin sailed to Orlis."),                        // an RL passage: not in the table
		c(store.KindBaselinePassage, 0, 1, ""),
	}
	// Round 0: passage 0 (0.5 + 1) / 2 = 0.75, passage 1 0: 0.375.
	want := "own, round 0 0.375; own, " + engine.RoundCondition(1) + " 1.000; the teacher's 1.000."
	if got := factLinesNote(cands, passages); !strings.Contains(got, want) {
		t.Errorf("fact lines note %q, want it to say %q", got, want)
	}
	if got := factLinesNote(cands[5:], passages); got != "" {
		t.Errorf("a run without self-edits on its evaluation passages has a note: %q", got)
	}
}
