package ui

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"seal/engine"
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
	cv, err := loadCompare(db, []int64{1, 2})
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

func TestHistoryFilterAndDetail(t *testing.T) {
	db := storeWithRuns(t)
	h := newHistory()
	loadHistory(&h, db)
	if len(h.runs) != 2 || h.runs[0].ID != 2 {
		t.Fatalf("history lists %+v, want both runs, newest first", h.runs)
	}
	for filter, want := range map[string]int{"status:done": 1, "model:tiny": 1, "model:/m/qwen": 1, "domain:arc": 0, "": 2} {
		h.filter.SetValue(filter)
		loadHistory(&h, db)
		if len(h.runs) != want || h.err != "" {
			t.Errorf("filter %q: %d runs (err %q), want %d", filter, len(h.runs), h.err, want)
		}
	}
	text, err := runDetail(db, 2, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"run 2: run B", "status failed", `"review_gate": true`, "round0/self_edit", "Kesa was born in Veostwick",
		"adapted 1.000 (exact 0.500)"} { // the answers read by exact match beside the grader's score
		if !strings.Contains(text, want) {
			t.Errorf("detail lacks %q:\n%s", want, text)
		}
	}
	if _, err := runDetail(db, 9, 100); err == nil {
		t.Error("a run that does not exist opened")
	}
}
