package store

import (
	"math"
	"testing"
)

func TestVerdictStatsOfBandsAndDisagreements(t *testing.T) {
	c := func(id int64, round, task, index int, reward float64) Candidate {
		return Candidate{ID: id, Round: round, Task: task, Index: index, Kind: KindSelfEdit, Reward: reward}
	}
	cands := []Candidate{
		c(6, 1, 0, 0, 0.5),      // > 0.1, rejected: a disagreement
		c(1, 0, 0, 0, -0.2),     // < 0, approved: a disagreement
		c(2, 0, 0, 1, -0.1),     // < 0, rejected
		c(3, 0, 1, 0, 1e-12),    // = 0 (rounding), approved: no disagreement
		c(4, 0, 1, 1, 0.1),      // (0, 0.1], rejected: a disagreement
		c(5, 0, 1, 2, 0.05),     // (0, 0.1], no verdict: not counted
		c(7, 1, 1, 0, 0.100001), // > 0.1, approved
	}
	reviews := map[int64]Review{
		6: {CandidateID: 6, Verdict: VerdictReject, Reason: "contradicts the passage"},
		1: {CandidateID: 1, Verdict: VerdictApprove},
		2: {CandidateID: 2, Verdict: VerdictReject, Reason: "noise"},
		3: {CandidateID: 3, Verdict: VerdictApprove},
		4: {CandidateID: 4, Verdict: VerdictReject, Reason: "copies the title"},
		7: {CandidateID: 7, Verdict: VerdictApprove},
	}
	st := VerdictStatsOf(cands, reviews)
	want := []RewardBand{{"< 0", 1, 1}, {"= 0", 1, 0}, {"(0, 0.1]", 0, 1}, {"> 0.1", 1, 1}}
	if len(st.Bands) != len(want) {
		t.Fatalf("bands %+v", st.Bands)
	}
	for i, w := range want {
		if st.Bands[i] != w {
			t.Errorf("band %d = %+v, want %+v", i, st.Bands[i], w)
		}
	}
	if r := st.Bands[0].ApprovalRate(); r != 0.5 {
		t.Errorf("approval rate of < 0 = %v, want 0.5", r)
	}
	if r := (RewardBand{}).ApprovalRate(); !math.IsNaN(r) {
		t.Errorf("approval rate of an empty band = %v, want NaN", r)
	}
	if len(st.ApprovedNegative) != 1 || st.ApprovedNegative[0].Candidate.ID != 1 {
		t.Errorf("approved negative = %+v, want candidate 1", st.ApprovedNegative)
	}
	if len(st.RejectedPositive) != 2 || st.RejectedPositive[0].Candidate.ID != 4 || st.RejectedPositive[1].Candidate.ID != 6 ||
		st.RejectedPositive[1].Review.Reason != "contradicts the passage" {
		t.Errorf("rejected positive = %+v, want candidates 4 then 6 with their reasons", st.RejectedPositive)
	}
}

func TestRoundOverRoundOf(t *testing.T) {
	c := func(round, task, index int, kind string) Candidate {
		return Candidate{Round: round, Task: task, Index: index, Kind: kind}
	}
	cands := []Candidate{
		c(0, 0, 1, KindSelfEdit), c(0, 0, 0, KindSelfEdit), c(0, 1, 0, KindSelfEdit),
		c(1, 0, 0, KindSelfEdit), c(2, 0, 1, KindSelfEdit), c(2, 0, 0, KindSelfEdit),
		c(2, 0, 0, KindBaselinePassage), c(3, 0, 0, KindBaselineBase), // baselines name no round of edits
	}
	rr := RoundOverRoundOf(cands, 0)
	if rr.LastRound != 2 {
		t.Fatalf("last round %d, want 2", rr.LastRound)
	}
	if len(rr.First) != 2 || rr.First[0].Index != 0 || rr.First[1].Index != 1 {
		t.Errorf("first %+v, want indexes 0, 1", rr.First)
	}
	if len(rr.Last) != 2 || rr.Last[0].Index != 0 || rr.Last[0].Kind != KindSelfEdit || rr.Last[1].Index != 1 {
		t.Errorf("last %+v, want self-edits 0, 1 of round 2", rr.Last)
	}
	one := RoundOverRoundOf(cands[:3], 0)
	if one.LastRound != 0 || len(one.Last) != 0 || len(one.First) != 2 {
		t.Errorf("one round: %+v, want round 0 only", one)
	}
}
