package tiny

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"seal/models/llama"
	"seal/models/llama/llamatest"
	"seal/models/tokenizer"
)

// TestEmbeddedDefaultLoads installs the embedded model, loads it like any checkpoint,
// and has it answer a closed-book question in the engine's format.
func TestEmbeddedDefaultLoads(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Dir()
	if err != nil || again != dir {
		t.Fatalf("second install %q, %v", again, err)
	}
	ck, err := llama.OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	if ck.Config.TorchDType != "bfloat16" || ck.Config.NumParams() < 1e6 {
		t.Errorf("unexpected embedded model: %+v", ck.Config)
	}
	tok, err := tokenizer.Load(dir + "/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := llama.Load(ck, llamatest.Backend(), llama.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.EncodeSpecial32("Passage:\n")
	gens, err := m.Generate(context.Background(), [][]int32{ids}, llama.GenerateConfig{MaxNewTokens: 8, StopIDs: toInt32(ck.Config.EOSTokenIDs)})
	if err != nil || len(gens[0].Tokens) == 0 {
		t.Fatalf("generation: %v %+v", err, gens)
	}
}

func toInt32(xs []int) []int32 {
	out := make([]int32, len(xs))
	for i, x := range xs {
		out[i] = int32(x)
	}
	return out
}

// TestDirNeverRewritesAFileInPlace: a second process that finds the folder unfinished
// writes it again while the first may have the weights memory-mapped; each file must
// be replaced (a new inode), never truncated and rewritten under the first reader.
func TestDirNeverRewritesAFileInPlace(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	held, err := os.Open(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	before, _ := held.Stat()
	os.Remove(filepath.Join(dir, "complete")) // as another process sees it before the marker
	if _, err := Dir(); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(before, after) {
		t.Fatal("model.safetensors was rewritten in place under an open reader")
	}
	if st, _ := held.Stat(); st.Size() != before.Size() {
		t.Fatalf("the held file changed size: %d → %d", before.Size(), st.Size())
	}
}
