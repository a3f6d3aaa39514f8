package ui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"seal/engine"
)

func specString(s engine.RunSpec) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// A preset is read as `seal run --config` reads a file: a file with only `k = 2` gives
// the run `seal run --k 2` gives (the embedded model's preset for the rest), presets
// saved with the flags' names and presets saved before (the RunSpec's own keys) load
// back whole.
func TestPresetsReadAsSettingsFiles(t *testing.T) {
	dir := t.TempDir()
	only := filepath.Join(dir, "only-k.toml")
	os.WriteFile(only, []byte("k = 2\n"), 0o644)
	got, err := readPreset(only)
	if err != nil {
		t.Fatal(err)
	}
	want := engine.DefaultSpec()
	want.K = 2
	engine.ApplyPreset(&want, map[string]bool{"k": true})
	if specString(got) != specString(want) || got.Inner.Rank != engine.EmbeddedSpec().Inner.Rank {
		t.Fatalf("k = 2 alone:\n%s\nwant\n%s", specString(got), specString(want))
	}

	spec := engine.EmbeddedSpec()
	spec.Name, spec.Model, spec.Tasks, spec.TopP, spec.Guard.On = "p", "/m", 7, 0.8, false
	saved := filepath.Join(dir, "saved.toml")
	if err := writePreset(saved, spec); err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(saved)
	if !strings.Contains(string(text), "passages = 7") || !strings.Contains(string(text), "top-p = ") {
		t.Errorf("the preset is not written with the flags' names:\n%s", text)
	}
	older := filepath.Join(dir, "older.toml")
	f, _ := os.Create(older)
	toml.NewEncoder(f).Encode(spec) // how presets were saved before
	f.Close()
	for _, path := range []string{saved, older} {
		got, err := readPreset(path)
		if err != nil {
			t.Fatal(err)
		}
		if specString(got) != specString(spec) {
			t.Errorf("%s does not load back:\n%s\nwant\n%s", filepath.Base(path), specString(got), specString(spec))
		}
	}
}
