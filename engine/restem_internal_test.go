package engine

import (
	"path/filepath"
	"slices"
	"testing"

	"seal/store"
)

// --min-grounding keeps out of the policy update every self-edit grounded below it (the
// filter then picks among the rest, and a passage with none gives nothing), but never
// one a person approved or corrected: their verdict overrides the rule.
func TestMinGroundingFiltersKeptEdits(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runID, err := db.CreateRun(store.Run{Name: "r", Domain: "knowledge", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	g := func(v float64) *float64 { return &v }
	type cand struct {
		edit      string
		score     float64
		grounding *float64
	}
	save := func(task int, cs ...cand) []store.Candidate {
		var out []store.Candidate
		for i, c := range cs {
			sc := store.Candidate{RunID: runID, Task: task, Index: i, Kind: store.KindSelfEdit, Edit: c.edit, Status: store.CandidateDone,
				AdaptedScore: c.score, Reward: c.score - 0.2, Grounding: c.grounding}
			if sc.ID, err = db.SaveCandidate(&sc); err != nil {
				t.Fatal(err)
			}
			out = append(out, sc)
		}
		return out
	}
	// Passage 0: the best edit is ungrounded, the runner-up grounded. Passage 1: nothing
	// grounded enough. Passage 2: an ungrounded edit a person corrected, and one with no
	// grounding at all (a domain without it), which the rule leaves alone.
	p0 := save(0, cand{"best, invented", 0.9, g(0.4)}, cand{"grounded", 0.6, g(0.8)}, cand{"grounded, worse", 0.3, g(1)})
	p1 := save(1, cand{"invented", 0.7, g(0.2)}, cand{"invented too", 0.5, g(0.5)})
	p2 := save(2, cand{"invented, corrected", 0.8, g(0.1)}, cand{"no grounding", 0.4, nil})
	if _, err := db.SaveReview(store.Review{CandidateID: p2[0].ID, Verdict: store.VerdictApprove, Edited: "corrected by hand"}); err != nil {
		t.Fatal(err)
	}
	keptEdits := func(filter string, min float64) []string {
		x := &runner{e: &Engine{DB: db}, r: &Run{ID: runID}, spec: RunSpec{Filter: filter, MinGrounding: min}}
		var keep []kept
		for task, cs := range [][]store.Candidate{p0, p1, p2} {
			if keep, err = x.keepFrom(keep, task, "prompt", cs); err != nil {
				t.Fatal(err)
			}
		}
		var edits []string
		for _, k := range keep {
			edits = append(edits, k.edit)
		}
		return edits
	}
	for _, c := range []struct {
		filter string
		min    float64
		want   []string
	}{
		{"best", 0, []string{"best, invented", "invented", "corrected by hand"}},
		{"best", 0.75, []string{"grounded", "corrected by hand"}},
		{"positive", 0.75, []string{"grounded", "grounded, worse", "corrected by hand", "no grounding"}},
		{"positive", 0, []string{"best, invented", "grounded", "grounded, worse", "invented", "invented too", "corrected by hand", "no grounding"}},
	} {
		if got := keptEdits(c.filter, c.min); !slices.Equal(got, c.want) {
			t.Errorf("--filter %s --min-grounding %v kept %q, want %q", c.filter, c.min, got, c.want)
		}
	}
}
