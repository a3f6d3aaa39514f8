package engine

import (
	"slices"
	"testing"

	"seal/models/llama/llamatest"
)

// TestExampleTrainsOnTheText guards the inner loop's training data: a text with no
// prompt is trained on in full (it once became BOS alone, and every update learned
// nothing), and a prompt is left out of the loss.
func TestExampleTrainsOnTheText(t *testing.T) {
	dir, err := llamatest.GoldenFolder(t.TempDir(), "llama32_tiny")
	if err != nil {
		t.Fatal(err)
	}
	l, err := loadLM(dir, llamatest.Backend())
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	text := "Varn lies on the river Ossa."
	ex := l.example("", text)
	want := append(l.encode(text), l.eos[0])
	if !slices.Equal(ex.Tokens, want) {
		t.Fatalf("example(\"\", text) = %v, want encode(text)+EOS = %v", ex.Tokens, want)
	}
	for i, m := range ex.LossMask {
		if !m {
			t.Fatalf("token %d of a prompt-less example is out of the loss", i)
		}
	}
	ex = l.example("Question: where is Varn?\n", "On the Ossa.")
	p := l.encode("Question: where is Varn?\n")
	if len(ex.Tokens) <= len(p)+1 || ex.LossMask[len(p)-1] || !ex.LossMask[len(p)] || !ex.LossMask[len(ex.Tokens)-1] {
		t.Fatalf("prompt %d tokens; example %v with mask %v", len(p), ex.Tokens, ex.LossMask)
	}
}
