package store

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustRun(t *testing.T, db *DB, r Run) int64 {
	t.Helper()
	id, err := db.CreateRun(r)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// cand builds a deterministic candidate for key k with nEval eval items and nCurve
// curve points, so a reader can check every field it gets back.
func cand(run int64, k CandidateKey, nEval, nCurve int) Candidate {
	tag := fmt.Sprintf("r%d/%d/%d/%d", run, k.Round, k.Task, k.Index)
	c := Candidate{RunID: run, Round: k.Round, Task: k.Task, Index: k.Index, Kind: KindSelfEdit,
		Prompt: "prompt " + tag, Edit: "edit " + tag + ", with a comma\nand a \"quote\"", Tokens: 10 + k.Index,
		Sampling: []byte(`{"temperature":1,"top_p":0.95}`), Seed: math.MaxUint64 - uint64(k.Index),
		Status: CandidateDone, BaseScore: 0.25, AdaptedScore: 0.5 + float64(k.Index)/100, Repeats: 3,
		AdapterPath: "adapters/" + tag, AdapterHash: "sha256:" + tag,
		CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 6+k.Index, time.UTC)}
	c.Reward = c.AdaptedScore - c.BaseScore
	c.RewardStd = 0.01
	if k.Index%2 == 0 { // odd indexes keep no grounding share, as ARC edits and baselines
		g := float64(k.Index%8) / 8
		c.Grounding = &g
	}
	for i := 0; i < nCurve; i++ {
		c.Curve = append(c.Curve, TrainPoint{Step: i, Loss: 3 - float64(i)/10, LR: 1e-4})
	}
	for i := 0; i < nEval; i++ {
		c.Evals = append(c.Evals, EvalItem{Repeat: i % 3, Question: i / 3, Prompt: fmt.Sprintf("q%d %s %s", i, tag, strings.Repeat("x", 64)),
			Text: fmt.Sprintf("answer %d", i), Gold: fmt.Sprintf("gold %d", i), Correct: i%2 == 0, Score: float64(i%5) / 4, Grader: "f1"})
	}
	return c
}

func sameGrounding(a, b *float64) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// sameCandidate compares everything SaveCandidate stores (NaN equal to NaN).
func sameCandidate(t *testing.T, got, want Candidate) {
	t.Helper()
	feq := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
	if got.ID != want.ID || got.RunID != want.RunID || got.Round != want.Round || got.Task != want.Task || got.Index != want.Index ||
		got.Kind != want.Kind || got.Prompt != want.Prompt || got.Edit != want.Edit || got.Tokens != want.Tokens ||
		string(got.Sampling) != string(want.Sampling) || got.Seed != want.Seed || got.Status != want.Status || got.Reason != want.Reason ||
		!feq(got.BaseScore, want.BaseScore) || !feq(got.AdaptedScore, want.AdaptedScore) || !feq(got.Reward, want.Reward) ||
		!feq(got.RewardStd, want.RewardStd) || got.Repeats != want.Repeats || got.AdapterPath != want.AdapterPath ||
		got.AdapterHash != want.AdapterHash || !got.CreatedAt.Equal(want.CreatedAt) || !sameGrounding(got.Grounding, want.Grounding) {
		t.Fatalf("candidate differs:\n got %+v\nwant %+v", got, want)
	}
	if len(got.Curve) != len(want.Curve) || len(got.Evals) != len(want.Evals) {
		t.Fatalf("candidate %d: %d curve points and %d evals, want %d and %d", got.ID, len(got.Curve), len(got.Evals), len(want.Curve), len(want.Evals))
	}
	for i := range want.Curve {
		g, w := got.Curve[i], want.Curve[i]
		if g.Step != w.Step || !feq(g.Loss, w.Loss) || !feq(g.LR, w.LR) {
			t.Fatalf("candidate %d curve point %d: got %+v want %+v", got.ID, i, g, w)
		}
	}
	for i := range want.Evals {
		g, w := got.Evals[i], want.Evals[i]
		if !feq(g.Score, w.Score) {
			t.Fatalf("candidate %d eval %d score: got %v want %v", got.ID, i, g.Score, w.Score)
		}
		g.Score, w.Score = 0, 0
		if g != w {
			t.Fatalf("candidate %d eval %d: got %+v want %+v", got.ID, i, g, w)
		}
	}
}
