package store

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRuns(t *testing.T) {
	db := openTemp(t)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	a := mustRun(t, db, Run{Name: "a", Domain: "knowledge", Model: "tiny", Config: []byte(`{"k":5}`), CreatedAt: t0})
	b := mustRun(t, db, Run{Name: "b", Domain: "arc", Model: "tiny", CreatedAt: t0.Add(time.Hour)})
	c := mustRun(t, db, Run{Name: "c", Domain: "knowledge", Model: "qwen", Parent: a, CreatedAt: t0.Add(2 * time.Hour)})

	r, err := db.Run(a)
	if err != nil {
		t.Fatal(err)
	}
	// Created running with no owner holding a lease: it reads as interrupted (lease.go).
	if r.ID != a || r.Name != "a" || r.Domain != "knowledge" || r.Model != "tiny" || r.Status != StatusInterrupted ||
		string(r.Config) != `{"k":5}` || !r.CreatedAt.Equal(t0) || !r.UpdatedAt.Equal(t0) || r.Parent != 0 {
		t.Fatalf("run a read back as %+v", r)
	}
	if r, _ := db.Run(c); r.Parent != a {
		t.Fatalf("parent: got %d want %d", r.Parent, a)
	}
	if r, _ := db.Run(b); r.Config != nil {
		t.Fatalf("empty config read back as %q", r.Config)
	}

	_, err = db.Run(99)
	if !errors.Is(err, ErrNotFound) || err.Error() != "store: no run 99 in "+db.Path() {
		t.Fatalf("missing run: %v", err)
	}
	if _, err := db.CreateRun(Run{Status: "bogus"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad status accepted: %v", err)
	}
	if _, err := db.CreateRun(Run{Config: []byte("{nope")}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad config accepted: %v", err)
	}
	if _, err := db.CreateRun(Run{Parent: 42}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no run 42") {
		t.Fatalf("missing parent: %v", err)
	}

	if err := db.SetRunStatus(b, StatusFailed, "out of memory"); err != nil {
		t.Fatal(err)
	}
	if r, _ := db.Run(b); r.Status != StatusFailed || r.Error != "out of memory" || !r.UpdatedAt.After(r.CreatedAt) {
		t.Fatalf("after SetRunStatus: %+v", r)
	}
	if err := db.SetRunStatus(b, "exploded", ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad status accepted: %v", err)
	}
	if err := db.SetRunStatus(77, StatusDone, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("status of a missing run: %v", err)
	}

	ids := func(f RunFilter) []int64 {
		t.Helper()
		rs, err := db.Runs(f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	for _, tc := range []struct {
		f    RunFilter
		want []int64
	}{
		{RunFilter{}, []int64{c, b, a}}, // newest first
		{RunFilter{Domain: "knowledge"}, []int64{c, a}},
		{RunFilter{Model: "tiny"}, []int64{b, a}},
		{RunFilter{Status: StatusFailed}, []int64{b}},
		{RunFilter{Domain: "knowledge", Model: "tiny"}, []int64{a}},
		{RunFilter{Limit: 2}, []int64{c, b}},
		{RunFilter{Domain: "nope"}, nil},
	} {
		if got := ids(tc.f); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("Runs(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}
}

func TestRunSummary(t *testing.T) {
	db := openTemp(t)
	run := mustRun(t, db, Run{Name: "s", CreatedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	other := mustRun(t, db, Run{Name: "o", CreatedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	save := func(c Candidate) int64 {
		t.Helper()
		id, err := db.SaveCandidate(&c)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	c1 := cand(run, CandidateKey{0, 0, 0}, 0, 0)
	c1.Reward = 0.4
	c2 := cand(run, CandidateKey{0, 0, 1}, 0, 0)
	c2.Status, c2.Reason, c2.Reward = CandidateInvalid, "no training sequences", 0
	c3 := cand(run, CandidateKey{0, 0, -1}, 0, 0)
	c3.Kind, c3.Reward = KindBaselinePassage, 5 // baselines stay out of the mean
	late := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c3.CreatedAt = late
	save(c1)
	id2 := save(c2)
	save(c3)
	save(cand(other, CandidateKey{0, 0, 0}, 0, 0))
	if err := db.SaveRound(Round{RunID: run, Round: 0, MeanReward: 0.2}); err != nil {
		t.Fatal(err)
	}
	reviewAt := late.Add(time.Hour)
	if _, err := db.SaveReview(Review{CandidateID: id2, Verdict: VerdictApprove, At: reviewAt}); err != nil {
		t.Fatal(err)
	}
	rs, err := db.Runs(RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var s RunSummary
	for _, r := range rs {
		if r.ID == run {
			s = r
		}
	}
	if s.Candidates != 3 || s.Rounds != 1 || s.Invalid != 1 || math.Abs(s.MeanReward-0.2) > 1e-12 || !s.LastActivity.Equal(reviewAt) {
		t.Fatalf("summary: %+v", s)
	}
}

func TestTasks(t *testing.T) {
	db := openTemp(t)
	run := mustRun(t, db, Run{})
	tasks := []Task{
		{Index: 0, Key: "p0", Title: "Apollo", Context: "The Apollo program...", Questions: []QA{{"Who?", "NASA"}, {"When?", "1969"}}},
		{RunID: run, Index: 1, Key: "p1", Title: "Nile", Context: "The Nile..."},
	}
	for i := 0; i < 2; i++ { // a resumed run saves the same tasks again
		if err := db.SaveTasks(run, tasks); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Tasks(run)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RunID != run || got[0].Title != "Apollo" || len(got[0].Questions) != 2 ||
		got[0].Questions[1] != (QA{"When?", "1969"}) || got[1].Key != "p1" || got[1].Questions != nil {
		t.Fatalf("tasks: %+v", got)
	}
	// Replace means replace: a shorter list leaves no stale task behind.
	if err := db.SaveTasks(run, tasks[1:]); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Tasks(run); len(got) != 1 || got[0].Index != 1 {
		t.Fatalf("after replace: %+v", got)
	}
	if err := db.SaveTasks(run, []Task{{Index: 3}, {Index: 3}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("duplicate index accepted: %v", err)
	}
	if err := db.SaveTasks(run, []Task{{RunID: run + 1, Index: 0}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("mismatched run accepted: %v", err)
	}
	if err := db.SaveTasks(999, tasks[:1]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("tasks of a missing run: %v", err)
	}
	if _, err := db.Tasks(999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Tasks of a missing run: %v", err)
	}
}

func TestCandidates(t *testing.T) {
	db := openTemp(t)
	run := mustRun(t, db, Run{})
	var want []Candidate
	for _, k := range []CandidateKey{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, 0}, {0, 0, -3}} {
		c := cand(run, k, 7, 5)
		id, err := db.SaveCandidate(&c)
		if err != nil {
			t.Fatal(err)
		}
		if id != c.ID || id == 0 {
			t.Fatalf("SaveCandidate returned %d, set ID %d", id, c.ID)
		}
		want = append(want, c)
	}
	// A diverged update: NaN and Inf survive the round trip.
	nan := cand(run, CandidateKey{2, 0, 0}, 1, 2)
	nan.AdaptedScore, nan.Reward, nan.RewardStd = math.NaN(), math.NaN(), math.Inf(1)
	nan.Curve[1].Loss = math.NaN()
	nan.Evals[0].Score = math.Inf(-1)
	nan.Sampling = nil
	nan.CreatedAt = time.Time{} // stamped now
	before := time.Now()
	if _, err := db.SaveCandidate(&nan); err != nil {
		t.Fatal(err)
	}
	if nan.CreatedAt.Before(before) {
		t.Fatalf("zero CreatedAt not stamped: %v", nan.CreatedAt)
	}
	want = append(want, nan)
	order := []int{4, 3, 2, 1, 0, 5} // by (round, task, index)

	got, err := db.Candidates(run, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d candidates, want %d", len(got), len(want))
	}
	for i, j := range order {
		sameCandidate(t, got[i], want[j])
	}
	light, err := db.Candidates(run, false)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := range order {
		w := want[j]
		w.Curve, w.Evals = nil, nil
		sameCandidate(t, light[i], w)
	}
	for _, w := range want {
		c, err := db.Candidate(w.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameCandidate(t, c, w)
	}
	if _, err := db.Candidate(12345); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no candidate 12345 in ") {
		t.Fatalf("missing candidate: %v", err)
	}
	if _, err := db.Candidates(999, false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Candidates of a missing run: %v", err)
	}
	fin, err := db.Finished(run)
	if err != nil {
		t.Fatal(err)
	}
	if len(fin) != len(want) {
		t.Fatalf("Finished has %d keys, want %d", len(fin), len(want))
	}
	for _, w := range want {
		if fin[CandidateKey{w.Round, w.Task, w.Index}] != w.ID {
			t.Fatalf("Finished misses %+v", w)
		}
	}
}

func TestDuplicateCandidate(t *testing.T) {
	db := openTemp(t)
	run := mustRun(t, db, Run{})
	c := cand(run, CandidateKey{0, 2, 1}, 3, 3)
	id, err := db.SaveCandidate(&c)
	if err != nil {
		t.Fatal(err)
	}
	again := cand(run, CandidateKey{0, 2, 1}, 9, 9)
	again.Edit = "something else"
	_, err = db.SaveCandidate(&again)
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second save of the same key: %v", err)
	}
	for _, s := range []string{"round 0, task 2, index 1", fmt.Sprintf("candidate %d", id), "never overwritten", db.Path()} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("duplicate error %q does not mention %q", err, s)
		}
	}
	if again.ID != 0 {
		t.Errorf("failed save set ID %d", again.ID)
	}
	got, err := db.Candidate(id)
	if err != nil {
		t.Fatal(err)
	}
	sameCandidate(t, got, c) // untouched, curve and evals included
	if all, _ := db.Candidates(run, false); len(all) != 1 {
		t.Fatalf("%d candidates after a refused duplicate", len(all))
	}
}

func TestCandidateValidation(t *testing.T) {
	db := openTemp(t)
	run := mustRun(t, db, Run{})
	for name, tc := range map[string]struct {
		mod  func(*Candidate)
		want error
	}{
		"no kind":           {func(c *Candidate) { c.Kind = "" }, ErrInvalid},
		"no status":         {func(c *Candidate) { c.Status = "" }, ErrInvalid},
		"invalid no reason": {func(c *Candidate) { c.Status, c.Reward = CandidateInvalid, 0 }, ErrInvalid},
		"invalid rewarded":  {func(c *Candidate) { c.Status, c.Reason = CandidateInvalid, "bad" }, ErrInvalid},
		"bad sampling":      {func(c *Candidate) { c.Sampling = []byte("{") }, ErrInvalid},
		"missing run":       {func(c *Candidate) { c.RunID = 404 }, ErrNotFound},
	} {
		c := cand(run, CandidateKey{0, 0, 0}, 2, 2)
		tc.mod(&c)
		if _, err := db.SaveCandidate(&c); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
	if _, err := db.SaveCandidate(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil candidate: %v", err)
	}
	if all, _ := db.Candidates(run, true); len(all) != 0 {
		t.Fatalf("rejected candidates were stored: %+v", all)
	}
	ok := cand(run, CandidateKey{0, 0, 0}, 0, 0)
	ok.Status, ok.Reason, ok.Reward = CandidateInvalid, "the self-edit is empty", 0
	if _, err := db.SaveCandidate(&ok); err != nil {
		t.Fatal(err)
	}
}

func TestReviews(t *testing.T) {
	db := openTemp(t)
	run := mustRun(t, db, Run{})
	other := mustRun(t, db, Run{})
	var ids []int64
	for i := 0; i < 3; i++ {
		c := cand(run, CandidateKey{0, 0, i}, 0, 0)
		if _, err := db.SaveCandidate(&c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	oc := cand(other, CandidateKey{0, 0, 0}, 0, 0)
	if _, err := db.SaveCandidate(&oc); err != nil {
		t.Fatal(err)
	}

	if _, err := db.SaveReview(Review{CandidateID: ids[0], Verdict: VerdictReject}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "needs a reason") {
		t.Fatalf("reject without reason: %v", err)
	}
	if _, err := db.SaveReview(Review{CandidateID: ids[0], Verdict: VerdictReject, Reason: "  "}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("reject with a blank reason: %v", err)
	}
	if _, err := db.SaveReview(Review{CandidateID: ids[0], Verdict: "maybe"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown verdict: %v", err)
	}
	if _, err := db.SaveReview(Review{CandidateID: ids[0], Verdict: VerdictReject, Reason: "x", Edited: "y"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("reject with edited text: %v", err)
	}
	if _, err := db.SaveReview(Review{CandidateID: 999, Verdict: VerdictApprove}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("review of a missing candidate: %v", err)
	}

	save := func(r Review) int64 {
		t.Helper()
		id, err := db.SaveReview(r)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	// Candidate 0: approve, then reject, then undo the reject (approve with an edit).
	// The later review wins even with an earlier timestamp: order is insertion order.
	at := time.Date(2025, 5, 5, 5, 5, 5, 0, time.UTC)
	save(Review{CandidateID: ids[0], Verdict: VerdictApprove, At: at})
	save(Review{CandidateID: ids[0], Verdict: VerdictReject, Reason: "copies the passage", Source: "auto:guard", At: at})
	last := save(Review{CandidateID: ids[0], Verdict: VerdictApprove, Edited: "fixed edit", At: at.Add(-time.Hour)})
	rej := save(Review{CandidateID: ids[1], Verdict: VerdictReject, Reason: "hallucinated"})
	save(Review{CandidateID: oc.ID, Verdict: VerdictReject, Reason: "other run"})

	latest, err := db.LatestReviews(run)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 2 {
		t.Fatalf("latest reviews: %+v", latest)
	}
	if r := latest[ids[0]]; r.ID != last || r.Verdict != VerdictApprove || r.Edited != "fixed edit" || r.Source != "human" || !r.At.Equal(at.Add(-time.Hour)) {
		t.Fatalf("latest review of candidate 0: %+v", r)
	}
	if r := latest[ids[1]]; r.ID != rej || r.Verdict != VerdictReject || r.Reason != "hallucinated" || r.At.IsZero() {
		t.Fatalf("latest review of candidate 1: %+v", r)
	}
	if _, ok := latest[ids[2]]; ok {
		t.Fatal("unreviewed candidate has a review")
	}
	hist, err := db.Reviews(run)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 4 || hist[1].Source != "auto:guard" || hist[3].ID != rej {
		t.Fatalf("history: %+v", hist)
	}
	if _, err := db.LatestReviews(999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reviews of a missing run: %v", err)
	}
}

func TestRoundsRetentionMetrics(t *testing.T) {
	db := openTemp(t)
	run := mustRun(t, db, Run{})
	other := mustRun(t, db, Run{})
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 2; i++ { // idempotent: saving twice leaves one row each
		for _, r := range []Round{
			{RunID: run, Round: 1, MeanReward: 0.3, StdReward: 0.1, Kept: 4, PolicyAdapterPath: "p1", PolicyHash: "h1", TrainLoss: 1.5, At: at},
			{RunID: run, Round: 0, MeanReward: 0.1, StdReward: 0.2, Kept: 2, PolicyAdapterPath: "p0", PolicyHash: "h0", TrainLoss: math.NaN(), At: at},
		} {
			if err := db.SaveRound(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.SaveRetention([]RetentionCell{{run, 1, 0, 0.5}, {run, 2, 0, 0.4}, {run, 2, 1, 0.7}, {other, 1, 0, 0.9}}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveMetrics([]Metric{{run, "cpt/base_micro", 0.1}, {run, "cpt/adapted_micro", 0.2}, {other, "x", 1}}); err != nil {
			t.Fatal(err)
		}
	}
	// A later save replaces the row.
	if err := db.SaveRound(Round{RunID: run, Round: 1, MeanReward: 0.35, Kept: 5, At: at}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveRetention([]RetentionCell{{run, 2, 1, 0.75}}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveMetrics([]Metric{{run, "cpt/base_micro", 0.15}}); err != nil {
		t.Fatal(err)
	}

	rounds, err := db.Rounds(run)
	if err != nil {
		t.Fatal(err)
	}
	if len(rounds) != 2 || rounds[0].Round != 0 || rounds[0].PolicyHash != "h0" || !math.IsNaN(rounds[0].TrainLoss) ||
		rounds[1].MeanReward != 0.35 || rounds[1].Kept != 5 || rounds[1].PolicyHash != "" || !rounds[1].At.Equal(at) || rounds[1].RunID != run {
		t.Fatalf("rounds: %+v", rounds)
	}
	cells, err := db.Retention(run)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cells) != fmt.Sprint([]RetentionCell{{run, 1, 0, 0.5}, {run, 2, 0, 0.4}, {run, 2, 1, 0.75}}) {
		t.Fatalf("retention: %v", cells)
	}
	ms, err := db.Metrics(run)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ms) != fmt.Sprint([]Metric{{run, "cpt/adapted_micro", 0.2}, {run, "cpt/base_micro", 0.15}}) {
		t.Fatalf("metrics: %v", ms)
	}

	if err := db.SaveRound(Round{RunID: 404}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("round of a missing run: %v", err)
	}
	// One bad cell rolls back the whole batch.
	if err := db.SaveRetention([]RetentionCell{{run, 9, 9, 1}, {404, 1, 1, 1}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("retention of a missing run: %v", err)
	}
	if cells, _ := db.Retention(run); len(cells) != 3 {
		t.Fatalf("a failed batch left %d cells", len(cells))
	}
	if err := db.SaveMetrics([]Metric{{run, "", 1}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unnamed metric: %v", err)
	}
	for _, f := range []func() error{
		func() error { _, err := db.Rounds(404); return err },
		func() error { _, err := db.Retention(404); return err },
		func() error { _, err := db.Metrics(404); return err },
		func() error { _, err := db.Finished(404); return err },
	} {
		if err := f(); !errors.Is(err, ErrNotFound) {
			t.Fatalf("query of a missing run: %v", err)
		}
	}
}

// fillRun gives a run one of everything, for the export tests.
func fillRun(t *testing.T, db *DB) (run int64, cands []Candidate) {
	t.Helper()
	run = mustRun(t, db, Run{Name: "export", Domain: "knowledge", Model: "tiny", Config: []byte(`{"k":2,"rounds":1}`)})
	if err := db.SaveTasks(run, []Task{{Index: 0, Title: "T0", Context: "ctx", Questions: []QA{{"q", "a"}}}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		c := cand(run, CandidateKey{0, 0, i}, 4, 3)
		if i == 1 {
			c.Status, c.Reason, c.Reward = CandidateInvalid, "unparseable, edit", 0
		}
		if i == 2 {
			c.AdaptedScore, c.Reward = math.NaN(), math.NaN()
			c.Curve[0].Loss = math.Inf(1)
		}
		if _, err := db.SaveCandidate(&c); err != nil {
			t.Fatal(err)
		}
		cands = append(cands, c)
	}
	for _, r := range []Review{
		{CandidateID: cands[0].ID, Verdict: VerdictReject, Reason: "bad"},
		{CandidateID: cands[0].ID, Verdict: VerdictApprove},
		{CandidateID: cands[2].ID, Verdict: VerdictReject, Reason: "copies"},
	} {
		if _, err := db.SaveReview(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SaveRound(Round{RunID: run, Round: 0, MeanReward: 0.2, Kept: 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveRetention([]RetentionCell{{run, 1, 0, 0.5}}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveMetrics([]Metric{{run, "base", 0.1}, {run, "adapted", 0.3}}); err != nil {
		t.Fatal(err)
	}
	// Noise in another run must not leak into the export.
	o := mustRun(t, db, Run{})
	oc := cand(o, CandidateKey{0, 0, 0}, 1, 1)
	if _, err := db.SaveCandidate(&oc); err != nil {
		t.Fatal(err)
	}
	return run, cands
}

func TestExportJSONL(t *testing.T) {
	db := openTemp(t)
	run, cands := fillRun(t, db)
	var buf bytes.Buffer
	if err := db.ExportJSONL(run, &buf); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	var order []string
	var cs []map[string]any
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		typ, _ := m["type"].(string)
		if counts[typ] == 0 {
			order = append(order, typ)
		}
		counts[typ]++
		switch typ {
		case "run":
			if m["id"].(float64) != float64(run) || m["name"] != "export" || m["config"].(map[string]any)["k"].(float64) != 2 {
				t.Fatalf("run record: %v", m)
			}
		case "candidate":
			cs = append(cs, m)
		case "task":
			if q := m["questions"].([]any); len(q) != 1 || q[0].(map[string]any)["answer"] != "a" {
				t.Fatalf("task record: %v", m)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"run": 1, "task": 1, "candidate": 3, "review": 3, "round": 1, "retention": 1, "metric": 2}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Fatalf("record counts %v, want %v", counts, want)
	}
	if strings.Join(order, ",") != "run,task,candidate,review,round,retention,metric" {
		t.Fatalf("record order %v", order)
	}
	for i, m := range cs {
		c := cands[i]
		if m["id"].(float64) != float64(c.ID) || m["edit"] != c.Edit || m["status"] != c.Status ||
			len(m["evals"].([]any)) != 4 || len(m["curve"].([]any)) != 3 || m["sampling"].(map[string]any)["top_p"].(float64) != 0.95 {
			t.Fatalf("candidate record %d: %v", i, m)
		}
	}
	// The grounding share: a number where computed, null where not (cand gives odd indexes none).
	if g, ok := cs[0]["grounding"].(float64); !ok || g != *cands[0].Grounding {
		t.Fatalf("candidate 0's grounding: %v, want %v", cs[0]["grounding"], *cands[0].Grounding)
	}
	if g, ok := cs[1]["grounding"]; !ok || g != nil {
		t.Fatalf("candidate 1's grounding: %v (present %v), want null", g, ok)
	}
	if cs[2]["reward"] != nil || cs[2]["curve"].([]any)[0].(map[string]any)["loss"] != nil {
		t.Fatalf("NaN/Inf should export as null: %v", cs[2])
	}
	// The seed is a full uint64; decode it exactly.
	var exact struct{ Seed uint64 }
	line := strings.Split(strings.TrimSpace(exportString(t, db, run)), "\n")[2]
	if err := json.Unmarshal([]byte(line), &exact); err != nil || exact.Seed != cands[0].Seed {
		t.Fatalf("seed %d (err %v), want %d", exact.Seed, err, cands[0].Seed)
	}
	if err := db.ExportJSONL(999, &buf); !errors.Is(err, ErrNotFound) {
		t.Fatalf("export of a missing run: %v", err)
	}
}

func exportString(t *testing.T, db *DB, run int64) string {
	var b strings.Builder
	if err := db.ExportJSONL(run, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestExportCSV(t *testing.T) {
	db := openTemp(t)
	run, cands := fillRun(t, db)
	var buf bytes.Buffer
	if err := db.ExportCSV(run, &buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || strings.Join(recs[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("csv: %q", recs)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	verdicts := []string{VerdictApprove, "", VerdictReject} // latest review wins
	groundings := []string{"0", "", "0.25"}                 // cand: none for odd indexes
	for i, row := range recs[1:] {
		c := cands[i]
		reward, _ := strconv.ParseFloat(row[col["reward"]], 64)
		seed, _ := strconv.ParseUint(row[col["seed"]], 10, 64)
		if row[col["id"]] != strconv.FormatInt(c.ID, 10) || row[col["index"]] != strconv.Itoa(c.Index) || row[col["kind"]] != c.Kind ||
			row[col["status"]] != c.Status || row[col["reason"]] != c.Reason || row[col["edit"]] != c.Edit ||
			row[col["verdict"]] != verdicts[i] || seed != c.Seed || !(reward == c.Reward || math.IsNaN(c.Reward) && math.IsNaN(reward)) ||
			row[col["grounding"]] != groundings[i] {
			t.Fatalf("row %d: %q for %+v", i, row, c)
		}
	}
	if err := db.ExportCSV(999, &buf); !errors.Is(err, ErrNotFound) {
		t.Fatalf("export of a missing run: %v", err)
	}
}

// TestConcurrentWrites saves from many goroutines at once, with readers running
// beside them: every save lands once, whole, and -race stays quiet.
func TestConcurrentWrites(t *testing.T) {
	db := openTemp(t)
	run := mustRun(t, db, Run{})
	const workers, each = 6, 12
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*2)
	stop := make(chan struct{})
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				c := cand(run, CandidateKey{0, w, i}, 5, 5)
				if _, err := db.SaveCandidate(&c); err != nil {
					errs <- err
					continue
				}
				if i%3 == 0 {
					if _, err := db.SaveReview(Review{CandidateID: c.ID, Verdict: VerdictApprove}); err != nil {
						errs <- err
					}
				}
				if err := db.SaveMetrics([]Metric{{run, fmt.Sprint("m", w), float64(i)}}); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	var rwg sync.WaitGroup
	for r := 0; r < 3; r++ {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				cs, err := db.Candidates(run, true)
				if err != nil {
					errs <- err
					return
				}
				for _, c := range cs { // a snapshot never shows a half-written candidate
					if len(c.Evals) != 5 || len(c.Curve) != 5 {
						errs <- fmt.Errorf("reader saw candidate %d with %d evals, %d points", c.ID, len(c.Evals), len(c.Curve))
						return
					}
				}
				if _, err := db.Runs(RunFilter{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rwg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	fin, err := db.Finished(run)
	if err != nil {
		t.Fatal(err)
	}
	if len(fin) != workers*each {
		t.Fatalf("%d candidates committed, want %d", len(fin), workers*each)
	}
	if rv, _ := db.LatestReviews(run); len(rv) != workers*((each+2)/3) {
		t.Fatalf("%d reviews", len(rv))
	}
	if ms, _ := db.Metrics(run); len(ms) != workers {
		t.Fatalf("%d metrics", len(ms))
	}
	if err := db.IntegrityCheck(); err != nil {
		t.Fatal(err)
	}
}

// TestCloseWaits closes while writes are in flight: each write either committed
// (and is in the file afterwards) or failed with ErrClosed; Close twice is fine.
func TestCloseWaits(t *testing.T) {
	db := openTemp(t)
	run := mustRun(t, db, Run{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	saved := map[int64]bool{}
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				c := cand(run, CandidateKey{0, w, i}, 10, 10)
				id, err := db.SaveCandidate(&c)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				saved[id] = true
				mu.Unlock()
			}
		}(w)
	}
	time.Sleep(20 * time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	wg.Wait()
	if _, err := db.Run(run); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	db2, err := Open(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	fin, err := db2.Finished(run)
	if err != nil {
		t.Fatal(err)
	}
	for id := range saved {
		c, err := db2.Candidate(id)
		if err != nil || len(c.Evals) != 10 || len(c.Curve) != 10 {
			t.Fatalf("candidate %d reported saved: %v, %d evals", id, err, len(c.Evals))
		}
	}
	if len(fin) != len(saved) {
		t.Fatalf("%d in the file, %d reported saved", len(fin), len(saved))
	}
}

func TestCascadeDelete(t *testing.T) {
	db := openTemp(t)
	run, _ := fillRun(t, db) // plus another run with one candidate, one point, one eval item
	if _, err := db.w.Exec(`DELETE FROM runs WHERE id = ?`, run); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"tasks": 0, "candidates": 1, "train_points": 1, "eval_items": 1, "reviews": 0, "rounds": 0, "retention": 0, "metrics": 0}
	for table, n := range want {
		var got int
		if err := db.w.QueryRow(`SELECT count(*) FROM ` + table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("%s: %d rows left, want %d", table, got, n)
		}
	}
	if err := db.IntegrityCheck(); err != nil {
		t.Fatal(err)
	}
}
