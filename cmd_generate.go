package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"seal/engine"
	"seal/models/llama"
	"seal/models/tensor"
	"seal/models/tokenizer"
	"seal/store/termsafe"
)

func cmdGenerate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("generate", stderr)
	modelDir := new(string)
	addModelFlag(fs, modelDir, "")
	weights := fs.String("weights", "", "weight file(s) to read instead of model.safetensors, comma-separated")
	prompt := fs.String("prompt", "", "the user message (or the raw prompt with --raw)")
	system := fs.String("system", "", "a system message, when the chat template is used")
	raw := fs.Bool("raw", false, "send the prompt as it is, without the chat template")
	maxTokens := fs.Int("max-tokens", 256, "most new tokens per candidate")
	n := fs.Int("n", 1, "candidates to sample (decoded together in one batch)")
	temp := fs.Float64("temperature", 0, "sampling temperature; 0 is greedy")
	topP := fs.Float64("top-p", 1, "nucleus sampling mass")
	topK := fs.Int("top-k", 0, "keep the k most likely tokens; 0 is off")
	seed := fs.Uint64("seed", 0, "random seed (candidate i uses seed+i)")
	stop := fs.String("stop", "", "stop strings, separated by |")
	device := addDeviceFlag(fs)
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if *modelDir == "" || *prompt == "" {
		fs.Usage()
		return 2
	}
	b, err := device.open("seal generate", stderr)
	if err != nil {
		fmt.Fprintf(stderr, "seal generate: %v\n", err)
		return 2
	}
	if err := generate(stdout, stderr, generateOptions{
		backend: b, dir: *modelDir, weights: *weights, prompt: *prompt, system: *system, raw: *raw,
		cfg: llama.GenerateConfig{MaxNewTokens: *maxTokens, N: *n,
			Sample: llama.SampleConfig{Temperature: float32(*temp), TopP: float32(*topP), TopK: *topK, Seed: *seed}},
		stops: *stop,
	}); err != nil {
		fmt.Fprintf(stderr, "seal generate: %v\n", err)
		return 1
	}
	return 0
}

type generateOptions struct {
	backend                             tensor.Backend
	dir, weights, prompt, system, stops string
	raw                                 bool
	cfg                                 llama.GenerateConfig
}

func generate(stdout, stderr io.Writer, o generateOptions) error {
	var files []string
	if o.weights != "" {
		files = strings.Split(o.weights, ",")
	}
	lm, err := engine.LoadModel(o.dir, o.backend, files...)
	if err != nil {
		return err
	}
	defer lm.Close()
	tok, tcfg, m := lm.Tokenizer, lm.TokConfig, lm.Net
	text := o.prompt
	if tmpl, err := tcfg.Template(); err == nil && !o.raw {
		var msgs []tokenizer.Message
		if o.system != "" {
			msgs = append(msgs, tokenizer.Message{Role: "system", Content: o.system})
		}
		msgs = append(msgs, tokenizer.Message{Role: "user", Content: o.prompt})
		if text, err = tmpl.Render(msgs, tokenizer.RenderOptions{AddGenerationPrompt: true}); err != nil {
			return err
		}
	} else if err != nil && !errors.Is(err, tokenizer.ErrNoChatTemplate) {
		return err
	}
	// A template that writes the BOS token itself gets none added; a raw prompt gets
	// what the tokenizer's post-processor adds.
	var prompt []int32
	if text != o.prompt {
		prompt = tok.Encode32(text)
	} else {
		prompt = tok.EncodeSpecial32(text)
	}
	cfg := o.cfg
	cfg.StopIDs = append(cfg.StopIDs, lm.StopIDs...)
	decode := func(ids []int32) string {
		s, _ := tok.DecodeSkipSpecial32(ids)
		return s
	}
	cfg.Decode = decode
	if o.stops != "" {
		cfg.StopStrings = strings.Split(o.stops, "|")
	}
	// With one candidate, stream: print each new piece of text as soon as it is whole UTF-8.
	if max(cfg.N, 1) == 1 {
		var got []int32
		printed := 0
		cfg.OnToken = func(_ int, t int32) {
			got = append(got, t)
			s := decode(got)
			if n := stablePrefix(s); n > printed {
				fmt.Fprint(stdout, termsafe.Text(s[printed:n])) // a model can write escape sequences too
				printed = n
			}
		}
		gens, err := m.Generate(context.Background(), [][]int32{prompt}, cfg)
		if err != nil {
			return err
		}
		g := gens[0]
		if len(g.Text) > printed {
			fmt.Fprint(stdout, termsafe.Text(g.Text[printed:]))
		} else if printed > len(g.Text) {
			// Part of a stop string was printed before it completed.
			fmt.Fprintf(stderr, "\n[stopped at a stop string; the text ends after %d bytes]", len(g.Text))
		}
		fmt.Fprintln(stdout)
		fmt.Fprintf(stderr, "[%d prompt tokens, %d new, %s]\n", len(prompt), len(gens[0].Tokens), gens[0].Reason)
		return nil
	}
	gens, err := m.Generate(context.Background(), [][]int32{prompt}, cfg)
	if err != nil {
		return err
	}
	for i, g := range gens {
		fmt.Fprintf(stdout, "--- candidate %d (%d tokens, %s)\n%s\n", i, len(g.Tokens), g.Reason, termsafe.Text(g.Text))
	}
	return nil
}

// stablePrefix is how much of decoded text can be printed for good: a token may carry
// half of a multi-byte character, which decodes as U+FFFD until the next token completes it.
func stablePrefix(s string) int {
	n := len(s)
	for i := 0; i < 3 && strings.HasSuffix(s[:n], "\uFFFD"); i++ {
		n -= len("\uFFFD")
	}
	return n
}
