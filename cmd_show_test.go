package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"seal/store"
)

// reviewedDB is a run with four reviewed candidates: an approval of a negative
// reward, a rejection of a positive one, and two that agree with their rewards.
func reviewedDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seal.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run, err := db.CreateRun(store.Run{Name: "reviewed", Domain: "knowledge", Model: "m", Status: store.StatusDone, Config: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		reward          float64
		verdict, reason string
	}{
		{-0.2, store.VerdictApprove, ""},
		{0.4, store.VerdictReject, "invents a date"},
		{0.05, store.VerdictApprove, ""},
		{0, store.VerdictReject, "empty"},
	} {
		cand := store.Candidate{RunID: run, Index: i, Kind: store.KindSelfEdit, Edit: "edit " + string(rune('A'+i)),
			Status: store.CandidateDone, Reward: c.reward, Sampling: []byte("{}")}
		id, err := db.SaveCandidate(&cand)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SaveReview(store.Review{CandidateID: id, Verdict: c.verdict, Reason: c.reason}); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestShowPrintsVerdictsAgainstRewards(t *testing.T) {
	code, out, errOut := runCmd("show", "--db", reviewedDB(t), "1")
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"REWARD     APPROVED REJECTED  APPROVAL",
		"< 0               1        0      100%",
		"= 0               0        1        0%",
		"(0, 0.1]          1        0      100%",
		"> 0.1             0        1        0%",
		"approved with a negative reward: round 0 task 0 cand 0 reward -0.200: edit A",
		"rejected with a positive reward: round 0 task 0 cand 1 reward +0.400 (invents a date): edit B",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
}

// A store whose reviews cannot be read fails show with the store's error instead
// of printing a table without its verdicts.
func TestShowReportsUnreadableReviews(t *testing.T) {
	path := reviewedDB(t)
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("DROP TABLE reviews"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	code, out, errOut := runCmd("show", "--db", path, "1")
	if code != 1 || !strings.Contains(errOut, "reviews") || strings.Contains(out, "REWARD") {
		t.Errorf("show on a store without reviews: exit %d\n%s%s", code, out, errOut)
	}
}
