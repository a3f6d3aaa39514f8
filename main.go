// Command seal is a terminal workbench for self-adapting language models (SEAL).
// This file parses flags and subcommands and wires the rooms together; nothing else.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"seal/models/bench"
	"seal/models/llama"
	"seal/models/lora"
	"seal/models/tensor"
	"seal/models/tokenizer"
	"seal/store/termsafe"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code, so tests can call it.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && !isHelpFlag(args[0]) {
		return cmdWorkbench(args, stdout, stderr)
	}
	if isHelpFlag(args[0]) {
		printHelp(stdout)
		return 0
	}
	if c, ok := lookup(args[0]); ok {
		return c.run(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "seal: unknown command %q\n\n", args[0])
	printHelp(stderr)
	return 2
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

func cmdInspect(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("inspect", stderr)
	weights := fs.String("weights", "", "weight file(s) to read instead of model.safetensors or its index, comma-separated (e.g. model.bf16.safetensors)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	code := 0
	for i, dir := range fs.Args() {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := inspect(stdout, dir, *weights); err != nil {
			fmt.Fprintf(stderr, "seal inspect: %v\n", err)
			code = 1
		}
	}
	return code
}

// inspect prints what a folder holds: model, adapter and tokenizer parts, each if present.
func inspect(w io.Writer, dir, weights string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	has := func(name string) bool { _, err := os.Stat(filepath.Join(dir, name)); return err == nil }
	found := false
	fmt.Fprintf(w, "%s\n", dir)
	if has("config.json") {
		found = true
		if err := inspectModel(w, dir, weights); err != nil {
			return err
		}
	}
	if has("adapter_config.json") {
		found = true
		if err := inspectAdapter(w, dir); err != nil {
			return err
		}
	}
	if has("tokenizer.json") || has("tokenizer_config.json") {
		found = true
		if err := inspectTokenizer(w, dir); err != nil {
			return err
		}
	} else if has("config.json") {
		fmt.Fprintf(w, "  tokenizer      none (no tokenizer.json)\n")
	}
	if !found {
		return fmt.Errorf("%s holds no config.json, adapter_config.json or tokenizer.json", dir)
	}
	return nil
}

func inspectModel(w io.Writer, dir, weights string) error {
	var files []string
	if weights != "" {
		files = strings.Split(weights, ",")
	}
	ck, err := llama.OpenCheckpoint(dir, files...)
	if err != nil {
		return err
	}
	defer ck.Close()
	c := ck.Config
	tied := ""
	if c.TieWordEmbeddings {
		tied = ", tied embeddings"
	}
	fmt.Fprintf(w, "  architecture   %s (model_type %q)\n", c.Arch, c.ModelType)
	fmt.Fprintf(w, "  shape          %d layers, hidden %d, intermediate %d, heads %d (kv %d), head_dim %d, vocab %d\n",
		c.NumLayers, c.HiddenSize, c.IntermediateSize, c.NumHeads, c.NumKVHeads, c.HeadDim, c.VocabSize)
	fmt.Fprintf(w, "  parameters     %s%s\n", humanCount(c.NumParams()), tied)
	rope := fmt.Sprintf("theta %g", c.RopeTheta)
	if c.RopeScaling.Type == "llama3" {
		rope += fmt.Sprintf(", llama3 scaling x%g (original context %d)", c.RopeScaling.Factor, c.RopeScaling.OriginalMaxPositionEmbeddings)
	}
	fmt.Fprintf(w, "  rope           %s; context %d; rms_norm_eps %g\n", rope, c.MaxPositions, c.RMSNormEps)
	var extras []string
	if c.AttentionBias {
		extras = append(extras, "q/k/v bias")
	}
	if c.OutputBias {
		extras = append(extras, "o bias")
	}
	if c.MLPBias {
		extras = append(extras, "mlp bias")
	}
	if c.QKNorm {
		extras = append(extras, "q/k norm")
	}
	if len(extras) > 0 {
		fmt.Fprintf(w, "  extras         %s\n", strings.Join(extras, ", "))
	}
	var names []string
	for _, f := range ck.Weights.Files() {
		names = append(names, filepath.Base(f))
	}
	fmt.Fprintf(w, "  weights        %s: %d tensors, %s, %s\n", strings.Join(names, ", "), len(ck.Weights.Names()), dtypeSummary(ck.DTypes()), humanBytes(ck.WeightBytes()))
	fmt.Fprintf(w, "  special ids    bos %s, eos %s, pad %s\n", idOrNone(c.BOSTokenID), idsOrNone(c.EOSTokenIDs), idOrNone(c.PadTokenID))
	return nil
}

func inspectAdapter(w io.Writer, dir string) error {
	a, err := lora.Load(dir)
	if err != nil {
		return err
	}
	c := a.Config
	scale := "alpha/r"
	if c.UseRSLoRA {
		scale = "alpha/sqrt(r) (rsLoRA)"
	}
	fmt.Fprintf(w, "  adapter        PEFT LoRA, r %d, alpha %g, scale %s = %g, dropout %g\n", c.Rank, c.Alpha, scale, c.Scale(""), c.Dropout)
	fmt.Fprintf(w, "  targets        %s (%d modules, %s parameters)\n", strings.Join(a.Targets(), ", "), len(a.Modules), humanCount(int64(a.NumParams())))
	if len(c.RankPattern)+len(c.AlphaPattern) > 0 {
		fmt.Fprintf(w, "  patterns       %d rank_pattern, %d alpha_pattern entries\n", len(c.RankPattern), len(c.AlphaPattern))
	}
	if c.BaseModel != "" {
		fmt.Fprintf(w, "  base model     %s\n", termsafe.Line(c.BaseModel)) // from the folder's adapter_config.json
	}
	return nil
}

func inspectTokenizer(w io.Writer, dir string) error {
	path := filepath.Join(dir, "tokenizer.json")
	if _, err := os.Stat(path); err == nil {
		tok, err := tokenizer.Load(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  tokenizer      %s\n", tok.Summary())
	}
	cfg, err := tokenizer.LoadConfig(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  special tokens bos %s, eos %s, pad %s\n", quoteOrNone(cfg.BOSToken), quoteOrNone(cfg.EOSToken), quoteOrNone(cfg.PadToken))
	if _, err := cfg.Template(); errors.Is(err, tokenizer.ErrNoChatTemplate) {
		fmt.Fprintf(w, "  chat template  none\n")
	} else if err != nil {
		return err
	} else {
		fmt.Fprintf(w, "  chat template  present (%s, %d characters)\n", filepath.Base(cfg.ChatTemplateFile), len(cfg.ChatTemplate))
	}
	return nil
}

func dtypeSummary(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s x%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func humanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f B", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2f M", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f K", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func idOrNone(id int) string {
	if id < 0 {
		return "none"
	}
	return fmt.Sprint(id)
}

func idsOrNone(ids []int) string {
	if len(ids) == 0 {
		return "none"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, "/")
}

func quoteOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return fmt.Sprintf("%q", s)
}

func cmdGenerate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("generate", stderr)
	modelDir := fs.String("model", "", "Hugging Face model folder (config.json, *.safetensors, tokenizer.json)")
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
		return 2
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
	ck, err := llama.OpenCheckpoint(o.dir, files...)
	if err != nil {
		return err
	}
	defer ck.Close()
	tok, err := tokenizer.Load(filepath.Join(o.dir, "tokenizer.json"))
	if err != nil {
		return err
	}
	tcfg, err := tokenizer.LoadConfig(o.dir)
	if err != nil {
		return err
	}
	m, err := llama.Load(ck, o.backend, llama.LoadOptions{})
	if err != nil {
		return err
	}
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
	var ids []int
	if text != o.prompt {
		ids = tok.Encode(text)
	} else {
		ids = tok.EncodeSpecial(text)
	}
	prompt := toInt32(ids)
	cfg := o.cfg
	cfg.StopIDs = append(cfg.StopIDs, tcfg.StopIDs(tok, ck.Config.EOSTokenIDs)...)
	decode := func(ids []int32) string {
		s, _ := tok.DecodeSkipSpecial(toInt(ids))
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

func toInt32(xs []int) []int32 {
	out := make([]int32, len(xs))
	for i, x := range xs {
		out[i] = int32(x)
	}
	return out
}

func toInt(xs []int32) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}

func cmdBench(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", stderr)
	quick := fs.Bool("quick", false, "small, fast measurements (a first look, not figures to report)")
	skip1B := fs.Bool("skip-1b", false, "leave out the Llama-3.2-1B-shaped model (2.5 GB of weights)")
	device := addDeviceFlag(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	b, err := device.open("seal bench", stderr)
	if err != nil {
		fmt.Fprintf(stderr, "seal bench: %v\n", err)
		return 2
	}
	if err := bench.Run(stdout, bench.Options{Quick: *quick, Skip1B: *skip1B, Backend: b}); err != nil {
		fmt.Fprintf(stderr, "seal bench: %v\n", err)
		return 1
	}
	return 0
}
