package llama_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"seal/models/llama"
)

func TestGenerateMatchesGoldenGreedy(t *testing.T) {
	for _, f := range fixtures(t) {
		prompt, _ := f.ints(t, "gen_prompt")
		want, _ := f.ints(t, "gen_greedy")
		m := f.load(t, "model.safetensors")
		gens, err := m.Generate(context.Background(), [][]int32{prompt}, llama.GenerateConfig{MaxNewTokens: len(want) - len(prompt)})
		if err != nil {
			t.Fatal(err)
		}
		if got := append(append([]int32(nil), prompt...), gens[0].Tokens...); fmt.Sprint(got) != fmt.Sprint(want) || gens[0].Reason != llama.StopLength {
			t.Fatalf("%s: Generate gave %v (%s), want %v", f.name(), got, gens[0].Reason, want)
		}
		t.Logf("%s: Generate reproduces the greedy golden", f.name())
	}
}

func TestGenerateBatchEqualsAlone(t *testing.T) {
	f := fixtures(t)[0]
	m := f.load(t, "model.safetensors")
	prompts := [][]int32{{5, 6, 7}, {100, 3, 9, 44, 12}, {7}}
	cfg := llama.GenerateConfig{MaxNewTokens: 12, N: 3, Sample: llama.SampleConfig{Temperature: 1, TopP: 0.9, Seed: 42}}
	batch, err := m.Generate(context.Background(), prompts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(batch) != 9 {
		t.Fatalf("%d generations, want 3 prompts x 3", len(batch))
	}
	distinct := map[string]bool{}
	for i, g := range batch {
		// Candidate i alone, with the seed it had in the batch.
		c := cfg
		c.N = 1
		c.Sample.Seed = cfg.Sample.Seed + uint64(i)
		alone, err := m.Generate(context.Background(), [][]int32{prompts[g.Prompt]}, c)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(alone[0].Tokens) != fmt.Sprint(g.Tokens) {
			t.Errorf("candidate %d: batched %v, alone %v", i, g.Tokens, alone[0].Tokens)
		}
		if g.Prompt != i/3 {
			t.Errorf("candidate %d belongs to prompt %d", i, g.Prompt)
		}
		distinct[fmt.Sprint(g.Tokens)] = true
	}
	if len(distinct) < 6 {
		t.Errorf("sampling at temperature 1 gave only %d distinct candidates of 9", len(distinct))
	}
	again, _ := m.Generate(context.Background(), prompts, cfg)
	for i := range again {
		if fmt.Sprint(again[i].Tokens) != fmt.Sprint(batch[i].Tokens) {
			t.Fatalf("same seed, different candidate %d", i)
		}
	}
}

func TestGenerateStops(t *testing.T) {
	f := fixtures(t)[0]
	m := f.load(t, "model.safetensors")
	prompt, _ := f.ints(t, "gen_prompt")
	want, _ := f.ints(t, "gen_greedy")
	first := want[len(prompt)]

	gens, err := m.Generate(context.Background(), [][]int32{prompt}, llama.GenerateConfig{MaxNewTokens: 10, StopIDs: []int32{first}})
	if err != nil || gens[0].Reason != llama.StopEOS || len(gens[0].Tokens) != 0 {
		t.Errorf("stop id: %+v %v", gens, err)
	}

	decode := func(ids []int32) string {
		var b strings.Builder
		for i, id := range ids {
			fmt.Fprintf(&b, "<%d:%d>", id, i)
		}
		return b.String()
	}
	stop := fmt.Sprintf("<%d:1><%d:2>", want[len(prompt)+1], want[len(prompt)+2])
	var streamed []int32
	gens, err = m.Generate(context.Background(), [][]int32{prompt}, llama.GenerateConfig{MaxNewTokens: 10, StopStrings: []string{stop}, Decode: decode,
		OnToken: func(seq int, tok int32) { streamed = append(streamed, tok) }})
	if err != nil || gens[0].Reason != llama.StopString || gens[0].Text != fmt.Sprintf("<%d:0>", first) || len(gens[0].Tokens) != 3 {
		t.Errorf("stop string %q: %+v %v", stop, gens, err)
	}
	if fmt.Sprint(streamed) != fmt.Sprint(gens[0].Tokens) {
		t.Errorf("streamed %v, generated %v", streamed, gens[0].Tokens)
	}

	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	gens, err = m.Generate(ctx, [][]int32{prompt, prompt}, llama.GenerateConfig{MaxNewTokens: 50, OnToken: func(int, int32) {
		if n++; n == 4 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || gens[0].Reason != llama.StopCancelled || len(gens[0].Tokens) != 2 {
		t.Errorf("cancel: %v, %+v", err, gens)
	}

	if _, err := m.Generate(context.Background(), [][]int32{{1 << 20}}, llama.GenerateConfig{MaxNewTokens: 1}); err == nil || !strings.Contains(err.Error(), "outside the vocabulary") {
		t.Errorf("bad token id: %v", err)
	}
	if _, err := m.Generate(context.Background(), [][]int32{{}}, llama.GenerateConfig{MaxNewTokens: 1}); err == nil {
		t.Error("empty prompt must be refused")
	}
}
