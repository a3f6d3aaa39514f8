package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seal/engine"
)

// Choosing ARC in the launcher brings ARC's defaults, as `seal run --domain arc`
// does, except for the settings changed by hand; going back brings knowledge's.
func TestLauncherDomainAppliesItsDefaults(t *testing.T) {
	spec := engine.DefaultSpec()
	engine.ApplyPreset(&spec, nil) // as `seal ui` opens it
	l := newLauncher(spec, t.TempDir())
	for l.cursor = 0; launcherFields[l.cursor].name != "k"; l.cursor++ {
	}
	l.update(keyMsg("enter"))
	l.input.SetValue("7")
	l.update(keyMsg("enter"))
	l.cursor = 0
	l.update(keyMsg("right"))
	arc := engine.DefaultSpec()
	arc.Domain = "arc"
	engine.ApplyPreset(&arc, map[string]bool{"k": true})
	arc.K = 7
	if l.spec.Domain != "arc" || specText(l.spec) != specText(arc) {
		t.Fatalf("knowledge → arc in the launcher:\n got %s\nwant %s", specText(l.spec), specText(arc))
	}
	if l.spec.Rounds != engine.ARCSpec().Rounds || l.spec.Style != "" {
		t.Errorf("ARC's defaults not applied: rounds %d, style %q", l.spec.Rounds, l.spec.Style)
	}
	l.update(keyMsg("right"))
	back := spec
	back.K = 7
	if specText(l.spec) != specText(back) {
		t.Errorf("arc → knowledge in the launcher:\n got %s\nwant %s", specText(l.spec), specText(back))
	}
}

func specText(s engine.RunSpec) string {
	out := ""
	for _, f := range launcherFields {
		out += f.name + "=" + f.get(&s) + " "
	}
	return out
}

// A preset folder that cannot be read says why, instead of reading as empty.
func TestLauncherPresetFolderErrorShown(t *testing.T) {
	file := filepath.Join(t.TempDir(), "presets")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l := newLauncher(engine.DefaultSpec(), file)
	l.update(keyMsg("o"))
	if !strings.Contains(l.err, "not a directory") {
		t.Errorf("preset folder that is a file: error %q", l.err)
	}
	l = newLauncher(engine.DefaultSpec(), filepath.Join(t.TempDir(), "none"))
	l.update(keyMsg("o"))
	if !strings.Contains(l.err, "no presets in") {
		t.Errorf("missing preset folder: error %q", l.err)
	}
}

// The launcher sets the RL passages apart from the evaluation passages, as --rl-data and
// --rl-passages do.
func TestLauncherRLFields(t *testing.T) {
	s := engine.DefaultSpec()
	set := map[string]string{"rl-data": " rl.json ", "rl-passages": "8"}
	found := 0
	for _, f := range launcherFields {
		if v, ok := set[f.name]; ok {
			found++
			if err := f.set(&s, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if found != 2 || s.RLData != "rl.json" || s.RLPassages != 8 {
		t.Errorf("launcher fields found %d; spec rl_data %q, rl_passages %d", found, s.RLData, s.RLPassages)
	}
}

// TestLauncherLabelsFitTheirColumn: a label longer than the column pushes its value out
// of line with the others.
func TestLauncherLabelsFitTheirColumn(t *testing.T) {
	for _, f := range launcherFields {
		if n := len([]rune(f.label)); n > launcherLabelWidth {
			t.Errorf("launcher label %q is %d characters; the column is %d", f.label, n, launcherLabelWidth)
		}
	}
}
