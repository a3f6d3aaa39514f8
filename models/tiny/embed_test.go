package tiny

import (
	"context"
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
	var ids []int32
	for _, id := range tok.EncodeSpecial("Passage:\n") {
		ids = append(ids, int32(id))
	}
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
