package engine

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"seal/engine/arc"
	"seal/store"
)

// TestARCEffectPerTask: a run's candidates become paired per-task vectors, one per
// condition in the table's order; a self-edit condition is the mean over a task's k
// edits with an invalid one counting 0; the valid share is counted per round from
// the edits' text; an RL task ("rl:" key) is no part of the table, though it has only
// some of the conditions; a task missing a condition is an error naming both.
func TestARCEffectPerTask(t *testing.T) {
	good := arc.FixedConfig().JSON()
	tasks := []store.Task{{Key: "a-0"}, {Key: "b-0"}, {Key: "rl:train-c-0"}}
	cand := func(round, task, index int, kind, status, edit string, score float64) store.Candidate {
		return store.Candidate{Round: round, Task: task, Index: index, Kind: kind, Status: status, Edit: edit, AdaptedScore: score, Reward: score}
	}
	cands := []store.Candidate{
		cand(0, 2, -3, "baseline_base", "done", "", 1), cand(0, 2, 0, "self_edit", "done", "not json", 1), // the RL task's
		cand(0, 0, -3, "baseline_base", "done", "", 0), cand(0, 1, -3, "baseline_base", "done", "", 1),
		cand(0, 0, -1, "baseline_fixed", "done", good, 1), cand(0, 1, -1, "baseline_fixed", "done", good, 0),
		cand(0, 0, -2, "baseline_oracle", "done", good, 1), cand(0, 1, -2, "baseline_oracle", "done", good, 1),
		// round 0: task a one success of two; task b one success and one unparseable edit
		cand(0, 0, 0, "self_edit", "done", good, 1), cand(0, 0, 1, "self_edit", "done", good, 0),
		cand(0, 1, 0, "self_edit", "done", good, 1), cand(0, 1, 1, "self_edit", "invalid", "not json", 0),
		cand(1, 0, -3, "baseline_base", "done", "", 1), cand(1, 1, -3, "baseline_base", "done", "", 1), // a later round's base is not the in-context row
		cand(1, 0, 0, "self_edit", "done", good, 1), cand(1, 0, 1, "self_edit", "done", good, 1),
		cand(1, 1, 0, "self_edit", "done", good, 1), cand(1, 1, 1, "self_edit", "done", good, 0),
		{Round: 0, Task: -1, Kind: "policy"}, // a round's policy update belongs to no task
	}
	got, err := arcEffect(9, tasks, cands)
	if err != nil {
		t.Fatal(err)
	}
	want := ARCEffect{Run: 9, Tasks: []string{"a-0", "b-0"},
		Conditions: []string{ARCInContext, ARCFixed, "own self-edits (round 0)", "after 1 ReST-EM round", ARCOracle},
		Scores:     [][]float64{{0, 1}, {1, 0}, {0.5, 0.5}, {1, 0.5}, {1, 1}},
		Valid:      []float64{0.75, 1}, Edits: []int{4, 4}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if m := got.Mean("after 1 ReST-EM round"); m != 0.75 {
		t.Errorf("mean after 1 round %g, want 0.75", m)
	}
	if RoundCondition(2) != "after 2 ReST-EM rounds" {
		t.Errorf("round 2 is %q", RoundCondition(2))
	}
	part, err := arcEffect(9, tasks, cands[:len(cands)-3]) // task b has no edit in round 1: a stopped run
	if err != nil || slices.Contains(part.Conditions, "after 1 ReST-EM round") || !slices.Equal(part.Unfinished, []string{"after 1 ReST-EM round (1 of 2)"}) {
		t.Errorf("a condition some task lacks: conditions %q, unfinished %q (%v)", part.Conditions, part.Unfinished, err)
	}
}

func TestValidARCEdit(t *testing.T) {
	for text, want := range map[string]bool{
		arc.FixedConfig().JSON():                         true,
		"```json\n" + arc.FixedConfig().JSON() + "\n```": true,
		"{}":        false,
		"no config": false,
		strings.Replace(arc.FixedConfig().JSON(), "0.0001", "5", 1): false, // a learning rate past the limits
	} {
		if got := ValidARCEdit(text); got != want {
			t.Errorf("ValidARCEdit(%q) = %v, want %v", text, got, want)
		}
	}
}
