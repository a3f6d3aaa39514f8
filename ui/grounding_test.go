package ui

import (
	"path/filepath"
	"regexp"
	"testing"

	"seal/store"
)

// TestRunDetailShowsGrounding: run detail's candidate line carries the self-edit's
// grounding share, and a candidate without one (a baseline) shows none.
func TestRunDetailShowsGrounding(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id, err := db.CreateRun(store.Run{Name: "g", Domain: "knowledge", Status: store.StatusDone, Config: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	share := 0.6
	for _, c := range []store.Candidate{
		{RunID: id, Index: 0, Kind: store.KindSelfEdit, Status: store.CandidateDone, Edit: "The Veda Summer lasted nine weeks.", Grounding: &share},
		{RunID: id, Index: 1, Kind: store.KindBaselineBase, Status: store.CandidateDone},
	} {
		if _, err := db.SaveCandidate(&c); err != nil {
			t.Fatal(err)
		}
	}
	text, err := runDetail(db, id, 120)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^#1 r0 p0 c0 self_edit done .* ± 0\.000  grounding 0\.600$`).MatchString(text) {
		t.Errorf("the self-edit's line lacks its grounding share:\n%s", text)
	}
	if !regexp.MustCompile(`(?m)^#2 r0 p0 c1 baseline_base done .* ± 0\.000$`).MatchString(text) {
		t.Errorf("the baseline's line should show no grounding share:\n%s", text)
	}
}
