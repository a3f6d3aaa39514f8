package ui

import (
	"strings"
	"testing"
	"time"

	"seal/engine"
)

// TestGoldenLiveARCRecorded replays a real ARC run of the embedded model
// (ui/testdata/arc-events.jsonl, from `seal run --domain arc --guard=false --passages 1
// --k 2 --rounds 1 --repeats 1 --edit-tokens 32 --epochs 1 --baselines=false
// --arc-vote=false`): the base model's one-cell answer beside the expected 3×9 grid.
func TestGoldenLiveARCRecorded(t *testing.T) {
	evs := readRecorded(t, "arc-events.jsonl")
	spec := arcSpec()
	spec.K, spec.Repeats, spec.EditTokens, spec.Inner.Epochs, spec.Baselines = 2, 1, 32, 1, false
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		c := &clock{t0}
		a := liveApp(t, spec, c, size[0], size[1])
		feed(a, evs...)
		c.t = t0.Add(3 * time.Second)
		got := a.View()
		checkFits(t, "arc recorded", got, size[0], size[1])
		for _, want := range []string{"eval-rotate-90-0-0 test 0", "prediction", "expected 3×9", "9 9 0 0 0 0 9 0 9", "model v1 base (run 1)"} {
			if !strings.Contains(got, want) {
				t.Errorf("%v lacks %q:\n%s", size, want, got)
			}
		}
		golden(t, "live-arc-recorded-"+sizeName(size), got)
	}
	var invalid int
	for _, ev := range evs {
		if r, ok := ev.(engine.Reward); ok && r.Status == "invalid" {
			invalid++
		}
	}
	if invalid != 2 {
		t.Fatalf("the recording has %d invalid self-edits, want 2 (the tiny model writes no JSON config)", invalid)
	}
}
