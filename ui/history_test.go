package ui

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"seal/engine"
	"seal/engine/effect"
	"seal/store"
)

// storeWithRuns makes a store with two finished runs that differ in k and the review
// gate, with metrics, a round and one self-edit per passage each.
func storeWithRuns(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for i, r := range []struct {
		k      int
		gate   bool
		model  string
		status string
		metric float64
		loss   float64
		edit   string
		reward float64
	}{
		{3, false, "/m/tiny-abc", store.StatusDone, 0.25, 0.8, "Kesa was born in 1880 .", 0.1},
		{5, true, "/m/qwen", store.StatusFailed, 0.5, 0.9, "Kesa was born in Veostwick in 1880 .", 0.3},
	} {
		spec := engine.DefaultSpec()
		spec.K, spec.ReviewGate, spec.Model = r.k, r.gate, r.model
		cfg, _ := json.Marshal(spec)
		id, err := db.CreateRun(store.Run{Name: "run " + string(rune('A'+i)), Domain: "knowledge", Model: r.model, Status: r.status, Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SaveMetrics([]store.Metric{{RunID: id, Name: "round0/self_edit", Value: r.metric}, {RunID: id, Name: "policy_loss", Value: r.loss}}); err != nil {
			t.Fatal(err)
		}
		// One answer that recites its gold answer among other words: correct by containment, not exact.
		evals := []store.EvalItem{{Text: " Kesa lived in Veostwick in 1880", Gold: "Veostwick", Correct: true}, {Text: " 1880", Gold: "1880", Correct: true}}
		if _, err := db.SaveCandidate(&store.Candidate{RunID: id, Kind: store.KindSelfEdit, Edit: r.edit, Status: store.CandidateDone, Reward: r.reward,
			AdaptedScore: 1, Evals: evals, Sampling: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestCompareView(t *testing.T) {
	db := storeWithRuns(t)
	cv, err := loadCompare(db, []int64{1, 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := cv.render(120)
	for _, want := range []string{
		"baseline * = run 1",
		"review_gate", "false", "true", // a key that differs, with both values
		"0.500 +0.250",   // a metric delta against the baseline
		"0.900 +0.100",   // a loss that went up
		"+Veostwick +in", // the word diff of the best self-edits
	} {
		if !strings.Contains(out, want) {
			t.Errorf("compare view lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "inner.rank") {
		t.Errorf("a key that is the same in both runs is shown:\n%s", out)
	}
	cv.base = 1
	if out := cv.render(120); !strings.Contains(out, "0.250 -0.250") || !strings.Contains(out, "baseline * = run 2") {
		t.Errorf("after changing the baseline:\n%s", out)
	}
	if !lowerIsBetter("policy_loss") || lowerIsBetter("round0/self_edit") {
		t.Error("metric direction")
	}
}

// TestCompareViewPaired: with Options.Paired the view shows each run's effect table paired
// with the baseline's, for the baseline chosen now, and why when runs cannot be paired.
func TestCompareViewPaired(t *testing.T) {
	db := storeWithRuns(t)
	var asked [][]int64
	paired := func(_ *store.DB, ids []int64) map[[2]int]effect.Compared {
		asked = append(asked, ids)
		row := effect.PairedRow{Label: "train on the passage only", A: 0.25, B: 0.5, Diff: effect.Interval{Est: 0.25, Lo: 0.1, Hi: 0.4, N: 48}}
		return map[[2]int]effect.Compared{
			{0, 1}: {Items: "passages", Readings: []effect.Reading{{Metric: "exact match", Pairing: effect.Pairing{Items: 48, ItemsA: 48, ItemsB: 64, Rows: []effect.PairedRow{row}}}}},
			{1, 0}: {Reason: "run 2 has no evaluation passages"},
		}
	}
	cv, err := loadCompare(db, []int64{1, 2}, paired)
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || len(asked[0]) != 2 || asked[0][0] != 1 || asked[0][1] != 2 {
		t.Errorf("pairs asked for at load: %v, want once, for runs 1 and 2 in order", asked)
	}
	out := cv.render(120)
	for _, want := range []string{"effect tables paired with the baseline", "run 2 vs run 1  48 passages", "exact match",
		"train on the passage only", "0.250  0.500  +0.250 [+0.100, +0.400]"} {
		if !strings.Contains(out, want) {
			t.Errorf("paired section lacks %q:\n%s", want, out)
		}
	}
	cv.base = 1
	if out := cv.render(120); !strings.Contains(out, "run 1 vs run 2  run 2 has no evaluation passages") {
		t.Errorf("after changing the baseline, the other pairing's reason:\n%s", out)
	}
	if out := func() string { cv, _ := loadCompare(db, []int64{1, 2}, nil); return cv.render(120) }(); strings.Contains(out, "paired with the baseline") {
		t.Errorf("without Options.Paired the view has no paired section:\n%s", out)
	}
}
