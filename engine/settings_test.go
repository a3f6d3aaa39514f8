package engine

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

func writeSettings(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func specJSON(s RunSpec) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestReadSettingsFlagNamesAndOlderKeys(t *testing.T) {
	flagNamed := writeSettings(t, `passages = 4
top-p = 0.9
edit-tokens = 48
temperature = 1
lora-rank = 8
targets = "q_proj,k_proj"
guard = false
review = true
seed = 7
`)
	older := writeSettings(t, `tasks = 4
top_p = 0.9
edit_tokens = 48
temperature = 1.0
review_gate = true
seed = 7
[inner]
rank = 8
targets = ["q_proj", "k_proj"]
[guard]
on = false
`)
	a, b := DefaultSpec(), DefaultSpec()
	ga, err := ReadSettings(flagNamed, &a)
	if err != nil {
		t.Fatal(err)
	}
	gb, err := ReadSettings(older, &b)
	if err != nil {
		t.Fatal(err)
	}
	if specJSON(a) != specJSON(b) {
		t.Fatalf("flag-named and older keys differ:\n%s\n%s", specJSON(a), specJSON(b))
	}
	if a.Tasks != 4 || a.TopP != 0.9 || a.Temp != 1 || a.Inner.Rank != 8 || a.Guard.On || !a.ReviewGate || a.Seed != 7 || strings.Join(a.Inner.Targets, ",") != "q_proj,k_proj" {
		t.Fatalf("settings not read: %+v", a)
	}
	for _, g := range []map[string]bool{ga, gb} {
		for _, n := range []string{"passages", "top-p", "edit-tokens", "temperature", "lora-rank", "targets", "guard", "review", "seed"} {
			if !g[n] {
				t.Errorf("%s not counted as given: %v", n, g)
			}
		}
	}
}

func TestReadSettingsErrorsNameKeyAndFile(t *testing.T) {
	cases := []struct{ text, want string }{
		{"k = 2\npasages = 4\n", `unknown key "pasages" (the keys are the flags of seal run: name, domain`},
		{"db = \"x.db\"\n", `unknown key "db"`},
		{"[inner]\nrank = 4\nrnak = 5\n", `unknown key "inner.rnak"`},
		{"[policy]\nrank = 4\nrnak = 5\n", `unknown key "policy.rnak"`},
		{"[guard]\non = true\nprobez = 5\n", `unknown key "guard.probez"`},
		{"k = \"two\"\n", `key "k": `},
		{"temperature = \"hot\"\n", `key "temperature": `},
		{"[inner]\nbatch = 1.5\n", `key "inner.batch": `},
		{"tasks = 3\npassages = 4\n", `keys "passages" and "tasks" both set passages; keep one`},
		{"k = \n", "run.toml"},
	}
	for _, c := range cases {
		path := writeSettings(t, c.text)
		s := DefaultSpec()
		_, err := ReadSettings(path, &s)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), path) {
			t.Errorf("%q: error %v, want %q after the file's name", c.text, err, c.want)
		}
	}
}

// A preset written by the workbench reads back as the same spec, and so does one in the
// older format (the RunSpec itself encoded, as presets were saved before).
func TestSettingsFileRoundTrip(t *testing.T) {
	odd := EmbeddedSpec()
	odd.Name, odd.Tasks, odd.Temp, odd.TopP, odd.Inner.Dropout, odd.Policy.LR, odd.Guard.Z = "x", 9, 0.7, 0.95, 0.1, 2e-4, 2
	for _, spec := range []RunSpec{DefaultSpec(), EmbeddedSpec(), ARCSpec(), odd} {
		for _, doc := range []any{SettingsFile(spec), spec} {
			var buf bytes.Buffer
			if err := toml.NewEncoder(&buf).Encode(doc); err != nil {
				t.Fatal(err)
			}
			path := writeSettings(t, buf.String())
			got := DefaultSpec()
			given, err := ReadSettings(path, &got)
			if err != nil {
				t.Fatalf("%v\n%s", err, buf.String())
			}
			ApplyPreset(&got, given) // every setting was given: the preset changes nothing
			if specJSON(got) != specJSON(spec) {
				t.Fatalf("round trip changed the spec:\n%s\n%s\nfile:\n%s", specJSON(spec), specJSON(got), buf.String())
			}
		}
	}
}

func TestApplyPreset(t *testing.T) {
	s := DefaultSpec()
	s.K = 2
	ApplyPreset(&s, map[string]bool{"k": true, "lora-rank": true})
	e := EmbeddedSpec()
	if s.K != 2 || s.Inner.Rank != DefaultSpec().Inner.Rank || s.Inner.Alpha != e.Inner.Alpha || s.Temp != e.Temp || len(s.Inner.Targets) != 7 {
		t.Fatalf("embedded preset: %+v", s)
	}
	// The inner loop's settings chosen on val for the embedded model come with it
	// (`seal run` and the workbench, not only `seal effect`), unless given.
	if s.Inner.LR != e.Inner.LR || s.Inner.Epochs != e.Inner.Epochs || s.Inner.Batch != e.Inner.Batch {
		t.Errorf("embedded preset's inner loop: lr %g, %d epochs, batch %d; want %g, %d, %d",
			s.Inner.LR, s.Inner.Epochs, s.Inner.Batch, e.Inner.LR, e.Inner.Epochs, e.Inner.Batch)
	}
	g := DefaultSpec()
	g.Inner.LR, g.Inner.Batch = 3e-3, 4
	ApplyPreset(&g, map[string]bool{"lr": true, "batch": true})
	if g.Inner.LR != 3e-3 || g.Inner.Batch != 4 || g.Inner.Epochs != e.Inner.Epochs {
		t.Errorf("given lr and batch: %+v", g.Inner)
	}
	a := DefaultSpec()
	a.Domain, a.Model = "arc", "/m"
	ApplyPreset(&a, map[string]bool{"domain": true, "model": true})
	// ARC self-edits choose the inner learning rate and epochs: the preset leaves them.
	want := ARCSpec()
	want.Model, want.Inner.LR, want.Inner.Epochs = "/m", DefaultSpec().Inner.LR, DefaultSpec().Inner.Epochs
	if specJSON(a) != specJSON(want) {
		t.Fatalf("ARC preset:\n%s\n%s", specJSON(a), specJSON(ARCSpec()))
	}
	// The embedded model (no folder) caps ARC's test-time training examples, unless a
	// settings file gave arc_examples.
	for _, c := range []struct {
		given map[string]bool
		want  int
	}{{map[string]bool{"domain": true}, EmbeddedARCSpec().ARCExamples}, {map[string]bool{"domain": true, "arc_examples": true}, 3}} {
		e := DefaultSpec()
		e.Domain, e.ARCExamples = "arc", 3
		ApplyPreset(&e, c.given)
		if e.ARCExamples != c.want || e.ARCExamples == 0 {
			t.Errorf("embedded ARC preset given %v: arc_examples %d, want %d", c.given, e.ARCExamples, c.want)
		}
	}
	m := DefaultSpec()
	m.Model = "/m"
	ApplyPreset(&m, nil)
	if specJSON(m) != specJSON(func() RunSpec { x := DefaultSpec(); x.Model = "/m"; return x }()) {
		t.Fatal("a model folder takes no preset")
	}
}

func TestValidateNamesFlagsAndRanges(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		set  func(*RunSpec)
		want string
	}{
		{func(s *RunSpec) { s.Temp = -1 }, "--temperature -1 is out of range: want a finite number >= 0"},
		{func(s *RunSpec) { s.Temp = float32(nan) }, "--temperature NaN is out of range"},
		{func(s *RunSpec) { s.Temp = float32(inf) }, "--temperature +Inf is out of range"},
		{func(s *RunSpec) { s.TopP = 0 }, "--top-p 0 is out of range: want a number in (0, 1]"},
		{func(s *RunSpec) { s.TopP = 2 }, "--top-p 2 is out of range"},
		{func(s *RunSpec) { s.Inner.LR = nan }, "--lr NaN is out of range: want a finite number > 0"},
		{func(s *RunSpec) { s.Inner.LR = inf }, "--lr +Inf is out of range"},
		{func(s *RunSpec) { s.Inner.Alpha = nan }, "--lora-alpha NaN is out of range"},
		{func(s *RunSpec) { s.Guard.Margin = nan }, "--guard-margin NaN is out of range"},
		{func(s *RunSpec) { s.Guard.On = false; s.Guard.Margin = inf }, "--guard-margin +Inf is out of range"},
		{func(s *RunSpec) { s.Policy.LR = nan }, "policy.lr NaN is out of range"},
		{func(s *RunSpec) { s.Inner.Dropout = 1 }, "inner.dropout 1 is out of range"},
		{func(s *RunSpec) { s.K = 0 }, "--k 0 is out of range: want at least 1"},
		{func(s *RunSpec) { s.Rounds = 0 }, "--rounds 0 is out of range"},
		{func(s *RunSpec) { s.Repeats = -1 }, "--repeats -1 is out of range"},
		{func(s *RunSpec) { s.Inner.Epochs = 0 }, "--epochs 0 is out of range"},
		{func(s *RunSpec) { s.Inner.Rank = 0 }, "--lora-rank 0 is out of range"},
		{func(s *RunSpec) { s.EditTokens = 0 }, "--edit-tokens 0 is out of range"},
		{func(s *RunSpec) { s.QATokens = -3 }, "--qa-tokens -3 is out of range"},
		{func(s *RunSpec) { s.Tasks = -1 }, "--passages -1 is out of range: want at least 0"},
		{func(s *RunSpec) { s.Offset = -1 }, "--offset -1 is out of range"},
		{func(s *RunSpec) { s.Guard.Probes = -1 }, "--guard-probes -1 is out of range"},
		{func(s *RunSpec) {}, ""},
		{func(s *RunSpec) { s.Temp, s.TopP = 0, 1 }, ""},
	}
	for i, c := range cases {
		s := DefaultSpec()
		s.Model, s.Data = "/m", "/d"
		c.set(&s)
		err := s.Validate()
		if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: %v, want %q", i, err, c.want)
		}
	}
}

// SwitchDomain gives the settings `seal run --domain D` would, keeps what was given,
// and going back restores the first domain's defaults.
func TestSwitchDomainAppliesTheDomainsPreset(t *testing.T) {
	knowledge := DefaultSpec()
	ApplyPreset(&knowledge, nil) // the embedded model's settings, as `seal ui` opens the launcher
	arc := DefaultSpec()
	arc.Domain = "arc"
	ApplyPreset(&arc, map[string]bool{"domain": true})
	if got := SwitchDomain(knowledge, "arc", nil); specJSON(got) != specJSON(arc) {
		t.Errorf("knowledge → arc:\n got %s\nwant %s", specJSON(got), specJSON(arc))
	}
	if got := SwitchDomain(arc, "knowledge", nil); specJSON(got) != specJSON(knowledge) {
		t.Errorf("arc → knowledge:\n got %s\nwant %s", specJSON(got), specJSON(knowledge))
	}
	given := knowledge
	given.K, given.Temp = 7, 0.3
	got := SwitchDomain(given, "arc", map[string]bool{"k": true, "temperature": true})
	if got.K != 7 || got.Temp != 0.3 || got.Rounds != arc.Rounds || got.Filter != arc.Filter || got.Style != "" {
		t.Errorf("given settings: k %d temperature %v rounds %d filter %q style %q; want 7, 0.3, ARC's %d and %q, no style",
			got.K, got.Temp, got.Rounds, got.Filter, got.Style, arc.Rounds, arc.Filter)
	}
}
