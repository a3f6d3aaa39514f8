package engine

import (
	"strings"
	"testing"

	"seal/engine/knowledge"
)

// TestModeAndStyleLists: the one list of modes is what Validate accepts and what its
// error names; every style listed is one the knowledge domain parses and generates.
func TestModeAndStyleLists(t *testing.T) {
	spec := DefaultSpec()
	spec.Model, spec.Data = "model", "data.json"
	for _, m := range ModeNames() {
		spec.Mode = m
		if err := spec.Validate(); err != nil {
			t.Errorf("mode %q: %v", m, err)
		}
	}
	spec.Mode = "bogus"
	err := spec.Validate()
	if err == nil || !strings.Contains(err.Error(), strings.Join(ModeNames(), ", ")) {
		t.Errorf("an unknown mode: %v", err)
	}
	if len(StyleNames()) == 0 || StyleNames()[0] != string(knowledge.StyleImplications) {
		t.Errorf("styles %v: want the main prompt first", StyleNames())
	}
	for _, s := range StyleNames() {
		if st, err := knowledge.ParseStyle(s); err != nil || !st.Generates() {
			t.Errorf("style %q: %v", s, err)
		}
	}
}
