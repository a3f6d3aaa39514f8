package main

import (
	"path/filepath"
	"regexp"
	"testing"

	"seal/store"
)

// TestShowGroundingColumn: seal show prints each candidate's grounding share to three
// places, and "-" for one without (a baseline, an ARC edit, a run from before); and beside
// its score its answers read by exact match (a recitation holding the gold answer: 0).
func TestShowGroundingColumn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seal.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id, err := db.CreateRun(store.Run{Name: "g", Domain: "knowledge", Status: store.StatusDone, Config: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	share := 0.75
	for _, c := range []store.Candidate{
		{RunID: id, Index: 0, Kind: store.KindSelfEdit, Status: store.CandidateDone, Edit: "The Veda Summer lasted nine weeks.", Grounding: &share,
			AdaptedScore: 1, Evals: []store.EvalItem{{Text: " nine weeks in Anbelby", Gold: "nine weeks", Correct: true}}},
		{RunID: id, Index: 1, Kind: store.KindBaselineBase, Status: store.CandidateDone},
	} {
		if _, err := db.SaveCandidate(&c); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	code, out, errOut := runCmd("show", "--db", path, "1")
	if code != 0 {
		t.Fatalf("show: %d %s", code, errOut)
	}
	for _, want := range []string{`(?m)^ROUND .* ADAPTED\s+EXACT\s+REWARD .* ±\s+GROUND  VERDICT / EDIT$`, `(?m) self_edit .* 1\.000\s+0\.000\s+\+0\.000 .* 0\.750  The Veda Summer`, `(?m) baseline_base .* -  $`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("show output does not match %s:\n%s", want, out)
		}
	}
}
