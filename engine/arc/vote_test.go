package arc

import (
	"testing"
)

func TestVote(t *testing.T) {
	a, b, c := Grid{{1}}, Grid{{2}}, Grid{{3, 3}}
	pred := func(g Grid, inv string) Prediction { return Prediction{Grid: g, Inverse: inv} }
	// The most frequent grid is attempt 1, the next attempt 2.
	got := Vote([]Prediction{pred(a, ""), pred(b, "Flip(0)"), pred(a, "Transpose()"), pred(b, ""), pred(a, "Flip(1)")})
	if len(got) != 2 || !got[0].Equal(a) || !got[1].Equal(b) {
		t.Fatalf("got %v", got)
	}
	// One distinct answer: the row- and column-majority fills equal it, so one attempt.
	if got := Vote([]Prediction{pred(c, ""), pred(c, "")}); len(got) != 1 || !got[0].Equal(c) {
		t.Fatalf("got %v", got)
	}
	if got := Vote(nil); got != nil {
		t.Fatalf("no predictions: %v", got)
	}
	// Second and third tie in the pool: the one seen more often in the identity bucket
	// wins the second attempt, though it was seen later.
	preds := []Prediction{pred(a, ""), pred(a, "Flip(0)"), pred(a, "Flip(1)"),
		pred(b, "Transpose()"), pred(b, "Transpose()"), pred(c, ""), pred(c, "Rotate(270)")}
	got = Vote(preds)
	if !got[0].Equal(a) || !got[1].Equal(c) {
		t.Fatalf("tie-break: got %v, want %v then %v", got, a, c)
	}
}

func TestMajorityGrids(t *testing.T) {
	gs := []Grid{{{1, 1}, {2, 2}}, {{1, 1}, {3, 3}}, {{4, 4}, {3, 3}}, {{9}}}
	if got := majority(gs, false); !got.Equal(Grid{{1, 1}, {3, 3}}) {
		t.Fatalf("row-wise majority %v", got)
	}
	cols := []Grid{{{1, 2}, {1, 2}}, {{1, 5}, {1, 5}}, {{7, 5}, {7, 5}}}
	if got := majority(cols, true); !got.Equal(Grid{{1, 5}, {1, 5}}) {
		t.Fatalf("column-wise majority %v", got)
	}
}

func TestVotingQueries(t *testing.T) {
	task := fourDemos()
	qs := VotingQueries(task, 0, 0)
	plain, transformed := 0, map[string]bool{}
	for _, q := range qs {
		if q.Transform == nil {
			plain++
			if len(q.Demos) != 3 || !q.Input.Equal(task.Test[0].Input) {
				t.Fatalf("a leave-one-out query has %d demos", len(q.Demos))
			}
			continue
		}
		transformed[q.InverseName()] = true
		// Answering with the transformed test's true output and inverting it gives the truth.
		fwd := map[string]Transform{"Transpose()": Transpose{}, "Flip(0)": Flip{0}, "Flip(1)": Flip{1},
			"Rotate(270)": Rotate{1}, "Rotate(180)": Rotate{2}}[q.InverseName()]
		if fwd == nil || fwd.Name() != q.Transform.Name() {
			t.Fatalf("bucket %s for transform %s", q.InverseName(), q.Transform.Name())
		}
		back, err := q.Undo(fwd.Apply(task.Test[0].Output))
		if err != nil || !back.Equal(task.Test[0].Output) {
			t.Fatalf("%s does not undo its transform", q.InverseName())
		}
	}
	if plain < 4 || plain > 12 {
		t.Fatalf("%d leave-one-out queries, want 4-12", plain)
	}
	if len(transformed) != 5 {
		t.Fatalf("transformed buckets %v, want 5", transformed)
	}
	one := Task{Train: task.Train[:1], Test: task.Test}
	for _, q := range VotingQueries(one, 0, 0) {
		if len(q.Demos) != 1 {
			t.Fatal("a one-demonstration task keeps its demonstration")
		}
	}
}
