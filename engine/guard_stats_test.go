package engine

import (
	"math"
	"strings"
	"testing"

	"seal/engine/knowledge"
)

func bools(s string) []bool {
	out := make([]bool, len(s))
	for i, c := range s {
		out[i] = c == '1'
	}
	return out
}

func TestPairedRetention(t *testing.T) {
	cases := []struct {
		before, after string
		dropped       bool
	}{
		{"11111111", "00000000", true},      // every answer lost: no noise, a certain drop
		{"11111111", "11111111", false},     // nothing changed
		{"1111111111", "0111111111", false}, // one of ten: within the noise
		{"1111100000", "0000011111", false}, // as many gained as lost
		{"1", "0", false},                   // one probe cannot show a drop
		{"", "", false},
	}
	for _, c := range cases {
		r := PairedRetention(bools(c.before), bools(c.after), 0.05, 1.645)
		if r.Dropped != c.dropped {
			t.Errorf("%s -> %s: %+v, dropped want %v", c.before, c.after, r, c.dropped)
		}
	}
	// Numbers by hand: d = (-1, -1, 0, 0): mean -0.5, sd 0.57735, se 0.288675.
	r := PairedRetention(bools("1111"), bools("0011"), 0.05, 2)
	if r.N != 4 || r.Before != 1 || r.After != 0.5 || r.Delta != -0.5 || math.Abs(r.SE-0.288675) > 1e-6 || math.Abs(r.Noise-0.57735) > 1e-5 || r.Dropped {
		t.Errorf("hand-checked case: %+v", r)
	}
	r = PairedRetention(bools("1111"), bools("0011"), 0.05, 1)
	if !r.Dropped { // -0.5 + 0.2887 = -0.21 < -0.05
		t.Errorf("z=1: %+v, want dropped", r)
	}
}

func TestGuardSpecValidate(t *testing.T) {
	ok := DefaultGuard()
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mod  func(*GuardSpec)
		want string
	}{
		{func(g *GuardSpec) { g.Probes = -1 }, "guard.probes"},
		{func(g *GuardSpec) { g.Margin = 2 }, "guard.margin"},
		{func(g *GuardSpec) { g.Z = math.NaN() }, "guard.z"},
		{func(g *GuardSpec) { g.Confident = 0 }, "guard.confident"},
		{func(g *GuardSpec) { g.MaxFlips = -1 }, "guard.max_flips"},
		{func(g *GuardSpec) { g.Rules = append(g.Rules, knowledgeRule("x", "(")) }, `guard rule "x"`},
	} {
		g := DefaultGuard()
		c.mod(&g)
		if err := g.validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error naming %s, got %v", c.want, err)
		}
	}
	off := GuardSpec{Probes: -5}
	if err := off.validate(); err != nil {
		t.Errorf("a guard that is off is not checked: %v", err)
	}
}

func FuzzReadAudit(f *testing.F) {
	f.Add(`{"version":1,"run":1,"kind":"base","step":0,"status":"committed","base_hash":"ab","merged":true,"at":"2026-01-02T03:04:05Z"}` + "\n")
	f.Add(`{"version":2,"run":1,"parent":1,"kind":"continual","step":0,"status":"rejected","adapter_hash":"cd","merged":true,"reward":0.5,"guard":{"reasons":["x"]},"at":"2026-01-02T03:04:05Z","reviews":[{"verdict":"reject","reason":"no","source":"human","at":"2026-01-02T03:04:05Z"}]}`)
	f.Add("{}\n\n[1]")
	f.Fuzz(func(t *testing.T, s string) {
		recs, err := ReadAudit(strings.NewReader(s))
		if err != nil {
			return
		}
		var b strings.Builder
		if err := WriteAudit(&b, recs); err != nil {
			t.Fatalf("read records do not write: %v", err)
		}
		again, err := ReadAudit(strings.NewReader(b.String()))
		if err != nil || len(again) != len(recs) {
			t.Fatalf("written records do not read back: %v", err)
		}
	})
}

func knowledgeRule(name, pattern string) knowledge.Rule {
	return knowledge.Rule{Name: name, Pattern: pattern}
}
