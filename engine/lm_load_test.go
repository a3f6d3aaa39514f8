package engine

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"seal/internal/shareddata"
	"seal/models/llama/llamatest"
)

// TestLoadModelIsThePolicysLoader: LoadModel, which seal generate uses, loads a folder
// as the policy does (same stop ids), reads other weight files when named, and refuses
// a missing backend by naming the folder.
func TestLoadModelIsThePolicysLoader(t *testing.T) {
	dir, err := llamatest.GoldenFolder(t.TempDir(), "llama32_tiny")
	if err != nil {
		t.Fatal(err)
	}
	b := llamatest.Backend()
	m, err := LoadModel(dir, b)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	l, err := loadLM(dir, b)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	if len(m.StopIDs) == 0 || !slices.Equal(m.StopIDs, l.eos) || m.Net.Config.VocabSize != l.model.Config.VocabSize {
		t.Errorf("LoadModel stop ids %v, the policy's %v", m.StopIDs, l.eos)
	}
	if _, err := LoadModel(dir, nil); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("no backend: %v", err)
	}
	// The golden fixture's bf16 copy, read in place of model.safetensors.
	golden, err := shareddata.Golden()
	if err != nil {
		t.Fatal(err)
	}
	bf16, err := os.ReadFile(filepath.Join(golden, "llama32_tiny", "model.bf16.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.bf16.safetensors"), bf16, 0o644); err != nil {
		t.Fatal(err)
	}
	m16, err := LoadModel(dir, b, "model.bf16.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer m16.Close()
	if m16.Checkpoint.DTypes()["BF16"] == 0 {
		t.Errorf("weights named model.bf16.safetensors read as %v", m16.Checkpoint.DTypes())
	}
}
