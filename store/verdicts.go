package store

import (
	"math"
	"sort"
)

// How a person's verdicts line up with the rewards. Pure functions over what a run
// stored, so run detail and `seal show` print the same numbers.

// rewardZero is how close to 0 a reward counts as "no change": rewards are
// differences of mean scores, and a sum of float repeats may miss 0 by rounding.
const rewardZero = 1e-9

// RewardBand is a range of rewards and the verdicts given to candidates in it.
type RewardBand struct {
	Name               string // "< 0", "= 0", "(0, 0.1]", "> 0.1"
	Approved, Rejected int
}

// Reviewed is the number of verdicts in the band.
func (b RewardBand) Reviewed() int { return b.Approved + b.Rejected }

// ApprovalRate is the approved share of the band's verdicts, NaN when it has none.
func (b RewardBand) ApprovalRate() float64 {
	if b.Reviewed() == 0 {
		return math.NaN()
	}
	return float64(b.Approved) / float64(b.Reviewed())
}

// Disagreement is a verdict that goes against the reward's sign.
type Disagreement struct {
	Candidate Candidate
	Review    Review
}

// VerdictStats are a run's verdicts against its rewards.
type VerdictStats struct {
	// Bands split rewards in [-1, 1] at 0 and 0.1: worse than no update, no change,
	// a small gain (up to 0.1, about one question of ten more right, or within the
	// noise of a few repeats) and a clear gain. ARC's pass@2 rewards fall in
	// "= 0" and "> 0.1" only.
	Bands []RewardBand
	// ApprovedNegative are approvals of candidates whose reward is below 0;
	// RejectedPositive are rejections of candidates whose reward is above 0. Both
	// in (round, task, index) order.
	ApprovedNegative, RejectedPositive []Disagreement
}

// RewardBandNames are the bands of VerdictStats, in order.
var RewardBandNames = []string{"< 0", "= 0", "(0, 0.1]", "> 0.1"}

// rewardBand is the index in RewardBandNames of a reward's band.
func rewardBand(r float64) int {
	switch {
	case r < -rewardZero:
		return 0
	case r <= rewardZero:
		return 1
	case r <= 0.1:
		return 2
	default:
		return 3
	}
}

// VerdictStatsOf counts the latest verdict (reviews, as LatestReviews gives them) on
// each candidate by reward band and lists the verdicts that go against the reward.
// Candidates without a verdict are not counted.
func VerdictStatsOf(cands []Candidate, reviews map[int64]Review) VerdictStats {
	st := VerdictStats{Bands: make([]RewardBand, len(RewardBandNames))}
	for i, n := range RewardBandNames {
		st.Bands[i].Name = n
	}
	sorted := append([]Candidate(nil), cands...)
	sort.SliceStable(sorted, func(i, j int) bool { return candLess(sorted[i], sorted[j]) })
	for _, c := range sorted {
		rv, ok := reviews[c.ID]
		if !ok {
			continue
		}
		b := &st.Bands[rewardBand(c.Reward)]
		switch rv.Verdict {
		case VerdictApprove:
			b.Approved++
			if c.Reward < -rewardZero {
				st.ApprovedNegative = append(st.ApprovedNegative, Disagreement{c, rv})
			}
		case VerdictReject:
			b.Rejected++
			if c.Reward > rewardZero {
				st.RejectedPositive = append(st.RejectedPositive, Disagreement{c, rv})
			}
		}
	}
	return st
}

func candLess(a, b Candidate) bool {
	if a.Round != b.Round {
		return a.Round < b.Round
	}
	if a.Task != b.Task {
		return a.Task < b.Task
	}
	return a.Index < b.Index
}

// RoundOverRound is one task's self-edits in the run's first round and in its
// last, so a person sees what ReST-EM changed in the policy's writing.
type RoundOverRound struct {
	Task        int
	First, Last []Candidate // self-edits of round 0 and of round LastRound, by index
	LastRound   int         // 0 when the run has one round: then Last is empty
}

// RoundOverRoundOf picks task's self-edits of round 0 and of the last round any
// self-edit was written in.
func RoundOverRoundOf(cands []Candidate, task int) RoundOverRound {
	out := RoundOverRound{Task: task}
	for _, c := range cands {
		if c.Kind == KindSelfEdit {
			out.LastRound = max(out.LastRound, c.Round)
		}
	}
	for _, c := range cands {
		if c.Kind != KindSelfEdit || c.Task != task {
			continue
		}
		switch {
		case c.Round == 0:
			out.First = append(out.First, c)
		case c.Round == out.LastRound:
			out.Last = append(out.Last, c)
		}
	}
	byIndex := func(cs []Candidate) {
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].Index < cs[j].Index })
	}
	byIndex(out.First)
	byIndex(out.Last)
	return out
}
