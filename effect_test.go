package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"seal/store"
)

// TestEffectOrdering is the short version of the README's table: on a small sample of
// held-out passages, the embedded model answers fewer questions with no update than
// after training on the passage or on its own self-edits, and one ReST-EM round raises
// the mean reward of its self-edits. (Passage-only against self-edits is within a
// question or two at this size, either way, so it is the README's full run that
// reports it, not this test.) Every seed is fixed, so the run is the same each time on
// a machine.
func TestEffectOrdering(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded model for about two minutes")
	}
	db := filepath.Join(t.TempDir(), "seal.db")
	code, out, errs := runCmd("effect", "--db", db, "--passages", strconv.Itoa(effectSample), "--k", "3", "--rounds", "2")
	if code != 0 {
		t.Fatalf("seal effect: exit %d\n%s", code, errs)
	}
	t.Log("\n" + out)
	if !strings.Contains(out, "| train on the passage only |") {
		t.Fatalf("no table:\n%s", out)
	}
	d, err := store.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ms, err := d.Metrics(1)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]float64{}
	for _, x := range ms {
		m[x.Name] = x.Value
	}
	base, passage, self := m["round0/base"], m["passage"], m["round0/self_edit"]
	if !(base < passage && base < self) {
		t.Errorf("want no update below passage only and self-edits, got %.3f, %.3f, %.3f", base, passage, self)
	}
	if r0, r1 := m["round0/reward"], m["round1/reward"]; !(r1 > r0) {
		t.Errorf("mean reward %.3f in round 0, %.3f after one ReST-EM round: want a rise", r0, r1)
	}
}

// effectSample is the number of passages of the short version.
const effectSample = 12
