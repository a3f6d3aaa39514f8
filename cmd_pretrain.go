package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"seal/engine/arc/procedural"
	"slices"
	"strings"
	"syscall"

	"seal/engine/knowledge/world"
	"seal/models/llama"
	"seal/models/tensor"
	"seal/models/tiny"
	"seal/models/tokenizer"
)

const (
	bosToken = "<|begin_of_text|>"
	eosToken = "<|end_of_text|>"
)

// cmdPretrain makes a small model from nothing: the synthetic world, a BPE tokenizer
// trained on its corpus, and full-parameter pretraining, resumable from checkpoints.
func cmdPretrain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("pretrain", stderr)
	out := fs.String("out", "", "folder for the model (config.json, model.safetensors, tokenizer.json) and its data splits")
	seed := fs.Uint64("seed", 1, "seed of the world, the corpus, the weights and the batches")
	chars := fs.Int("chars", 28_000_000, "knowledge corpus size in characters (the world's train and drill splits only)")
	mix := world.EmbeddedMix()
	fs.Float64Var(&mix.SelfEditShare, "self-edit-share", mix.SelfEditShare, "share of train subjects with a self-edit (implications) document")
	fs.Float64Var(&mix.InContextShare, "in-context-share", mix.InContextShare, "share of train subjects with an in-context question document")
	fs.IntVar(&mix.DrillInContext, "drill-in-context", mix.DrillInContext, "in-context questions per drill passage (facts seen only there: where reading the prompt is learned)")
	fs.BoolVar(&mix.DrillTogether, "drill-together", mix.DrillTogether, "a drill passage's in-context questions in one document, the passage read once for them all")
	fs.Float64Var(&mix.FreshWorlds, "fresh-worlds", mix.FreshWorlds, "further worlds (other seeds) whose subjects join the drill, each passage in one self-edit and --drill-in-context in-context documents, too many to memorise (a fraction: that share of the last world's subjects)")
	fs.Float64Var(&mix.SelfQAShare, "self-qa-share", mix.SelfQAShare, "share of the self-edit documents written in the self-qa style (every fact of the passage asked and answered) instead of as implications")
	arcDocs := fs.Int("arc-docs", procedural.PretrainCorpusDocs, "procedural ARC tasks in the corpus (each a few demonstrations and the answer, in the TTT text format)")
	arcEdits := fs.Int("arc-edit-docs", procedural.PretrainSelfEditDocs, "ARC self-edit documents in the corpus (a task's self-edit prompt and a JSON config of varied quality)")
	vocab := fs.Int("vocab", 4096, "tokenizer vocabulary size")
	digits := fs.String("digits", "grouped", "how the tokenizer splits numbers: grouped (up to three digits a token, as Llama 3) or single (one digit a token, as Qwen2: a number is copied digit by digit)")
	words := fs.String("words", "bare", "how the tokenizer cuts words: glued (a word takes the space before it, as Llama 3: \" Anbelby\" mid-sentence, \"Anbelby\" at a line's start) or bare (the space a token of its own: a word is the same tokens wherever it stands)")
	hidden := fs.Int("hidden", 256, "hidden size")
	layers := fs.Int("layers", 4, "layers")
	heads := fs.Int("heads", 8, "attention heads")
	kvHeads := fs.Int("kv-heads", 4, "key/value heads")
	inter := fs.Int("intermediate", 688, "MLP size")
	steps := fs.Int("steps", 3000, "optimizer steps")
	batch := fs.Int("batch", 11, "sequences per step")
	seq := fs.Int("seq", 384, "tokens per sequence (384: with bare words as much text as 256 glued ones)")
	lr := fs.Float64("lr", 1e-3, "peak learning rate (cosine decay after warmup)")
	warmup := fs.Int("warmup", 100, "warmup steps")
	longSteps := fs.Int("long-steps", 400, "steps of the last phase on long windows (0: none), so the model reads the ARC self-edit prompts (up to ~740 tokens) whole")
	longSeq := fs.Int("long-seq", 1024, "tokens per sequence in the long phase")
	longBatch := fs.Int("long-batch", 4, "sequences per step in the long phase")
	longLR := fs.Float64("long-lr", 2e-4, "peak learning rate of the long phase (its own warmup, then cosine decay)")
	longWarmup := fs.Int("long-warmup", 10, "warmup steps of the long phase")
	every := fs.Int("checkpoint-every", 100, "steps between checkpoints")
	device := addDeviceFlag(fs)
	ship := fs.String("ship", "", "after pretraining, also write the bf16 copy for embedding to this folder (models/tiny/default is the embedded one)")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if *out == "" {
		fs.Usage()
		return 2
	}
	if bad := !(mix.SelfEditShare >= 0 && mix.SelfEditShare <= 1 && mix.InContextShare >= 0 && mix.InContextShare <= 1 && mix.SelfQAShare >= 0 && mix.SelfQAShare <= 1) || mix.DrillInContext < 0 || !(mix.FreshWorlds >= 0 && mix.FreshWorlds <= 16); bad {
		fmt.Fprintf(stderr, "seal pretrain: --self-edit-share, --in-context-share and --self-qa-share must lie in [0, 1], --drill-in-context be >= 0 and --fresh-worlds lie in [0, 16]\n")
		return 2
	}
	pattern, err := splitPattern(*digits, *words)
	if err != nil {
		fmt.Fprintf(stderr, "seal pretrain: %v\n", err)
		return 2
	}
	b, err := device.open("seal pretrain", stderr)
	if err != nil {
		fmt.Fprintf(stderr, "seal pretrain: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := llama.Config{Arch: llama.ArchLlama, ModelType: "llama", VocabSize: *vocab, HiddenSize: *hidden, IntermediateSize: *inter,
		NumLayers: *layers, NumHeads: *heads, NumKVHeads: *kvHeads, HeadDim: *hidden / max(*heads, 1), MaxPositions: 2048,
		RMSNormEps: 1e-5, RopeTheta: 10000, RopeScaling: llama.RopeScaling{Type: "default"}, TieWordEmbeddings: true, PadTokenID: -1}
	cfg := tiny.PretrainConfig{Model: c, Steps: *steps, Batch: *batch, SeqLen: *seq, LR: *lr, Warmup: *warmup,
		WeightDecay: 0.1, Seed: *seed, CheckpointEvery: *every}
	if *longSteps > 0 {
		cfg.Long = &tiny.LongPhase{Steps: *longSteps, Batch: *longBatch, SeqLen: *longSeq, LR: *longLR, Warmup: *longWarmup}
	}
	if err := pretrain(ctx, b, *out, *seed, *chars, mix, *arcDocs, *arcEdits, pattern, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "seal pretrain: %v\n", err)
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "run the same command again to resume from the last checkpoint\n")
		}
		return 1
	}
	if *ship != "" {
		if err := tiny.Ship(*out, *ship); err != nil {
			fmt.Fprintf(stderr, "seal pretrain: ship: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "wrote the bf16 copy to %s\n", *ship)
	}
	return 0
}

func pretrain(ctx context.Context, b tensor.Backend, out string, seed uint64, chars int, mix world.Mix, arcDocs, arcEdits int, pattern string, cfg tiny.PretrainConfig, stdout, stderr io.Writer) error {
	if err := os.MkdirAll(filepath.Join(out, "data"), 0o755); err != nil {
		return err
	}
	w := world.Generate(world.Config{Seed: seed, People: world.DefaultConfig().People, Places: world.DefaultConfig().Places,
		Orgs: world.DefaultConfig().Orgs, Events: world.DefaultConfig().Events, HeldOut: world.DefaultConfig().HeldOut, Drill: world.DefaultConfig().Drill})
	for _, s := range world.Splits() {
		if err := world.WriteSQuAD(filepath.Join(out, "data", string(s)+".json"), w.Passages(s)); err != nil {
			return err
		}
	}
	// Grid documents go in among the knowledge documents, so that every stretch of
	// training sees both.
	docs := append(w.CorpusMix(seed, chars, mix), procedural.CorpusDocs(seed, arcDocs)...)
	docs = append(docs, procedural.SelfEditDocs(seed, arcEdits)...)
	r := rand.New(rand.NewPCG(seed, 0xa2c))
	r.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
	total := 0
	for _, d := range docs {
		total += len(d)
	}
	tok, err := trainedTokenizer(out, docs, cfg.Model.VocabSize, pattern)
	if err != nil {
		return err
	}
	bos, _ := tok.TokenID(bosToken)
	eos, _ := tok.TokenID(eosToken)
	cfg.Model.BOSTokenID, cfg.Model.EOSTokenIDs = bos, []int{eos}
	var tokens []int32
	for _, d := range docs {
		tokens = append(tokens, tok.EncodeSpecial32(d)...) // BOS + document
		tokens = append(tokens, int32(eos))
	}
	cfg.Corpus = tiny.Fingerprint(tokens)
	fmt.Fprintf(stderr, "world seed %d: %d documents, %d characters, %d tokens (vocabulary %d); model %.2f M parameters\n",
		seed, len(docs), total, len(tokens), tok.VocabSize(), float64(cfg.Model.NumParams())/1e6)
	line := newProgressLine(stderr, "steps", nil, 0)
	_, err = tiny.Pretrain(ctx, b, out, tokens, cfg, pretrainReport(line, stdout))
	line.clear()
	return err
}

// pretrainReport writes every tenth step on stdout, as before, and the progress line on
// stderr (a resumed pretraining's rate counts only the steps of this process).
func pretrainReport(line *progressLine, stdout io.Writer) func(tiny.Progress) {
	return func(p tiny.Progress) {
		if !line.started {
			line.begin(p.Step-1, p.Steps)
		}
		line.set(fmt.Sprintf("pretrain · loss %.4f", p.Loss), p.Step)
		if p.Step%10 == 0 || p.Step == p.Steps {
			line.clear()
			fmt.Fprintf(stdout, "step %d/%d loss %.4f lr %.2e %.0f tokens/s\n", p.Step, p.Steps, p.Loss, p.LR, p.TokensPerS)
		}
	}
}

// trainedTokenizer trains the BPE tokenizer once and reuses it on a resumed run, so the
// token ids of a checkpoint never change under it. A folder whose tokenizer splits text
// otherwise than pattern does (numbers or words) is refused (its checkpoints were made on
// other token ids).
func trainedTokenizer(out string, docs []string, vocab int, pattern string) (*tokenizer.Tokenizer, error) {
	path := filepath.Join(out, "tokenizer.json")
	if _, err := os.Stat(path); err == nil {
		tok, err := tokenizer.Load(path)
		if err == nil && !slices.ContainsFunc(tok.Summary().PreTokenizers, func(st string) bool { return strings.Contains(st, "("+tokenizer.KnownPatternName(pattern)+",") }) {
			return nil, fmt.Errorf("%s splits text otherwise than the --digits and --words asked for: resume with the ones the folder was made with, or start another folder", path)
		}
		return tok, err
	}
	tok, err := tokenizer.Train(docs, tokenizer.TrainConfig{VocabSize: vocab, MinFrequency: 2, Pattern: pattern, Added: []string{bosToken, eosToken}, BOS: bosToken})
	if err != nil {
		return nil, err
	}
	js, err := tok.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, js, 0o644); err != nil {
		return nil, err
	}
	tc := fmt.Sprintf(`{"bos_token": %q, "eos_token": %q, "add_bos_token": true, "tokenizer_class": "PreTrainedTokenizerFast"}`, bosToken, eosToken)
	return tok, os.WriteFile(filepath.Join(out, "tokenizer_config.json"), []byte(tc), 0o644)
}

// splitPattern is the tokenizer's pre-tokenizer pattern that --digits and --words ask for.
func splitPattern(digits, words string) (string, error) {
	if digits != "grouped" && digits != "single" {
		return "", fmt.Errorf("--digits must be grouped or single, not %q", digits)
	}
	if words != "glued" && words != "bare" {
		return "", fmt.Errorf("--words must be glued or bare, not %q", words)
	}
	return splitPatterns[[2]string{digits, words}], nil
}

var splitPatterns = map[[2]string]string{
	{"grouped", "glued"}: tokenizer.PatternLlama3,
	{"single", "glued"}:  tokenizer.PatternQwen2,
	{"grouped", "bare"}:  tokenizer.PatternLlama3Bare,
	{"single", "bare"}:   tokenizer.PatternQwen2Bare,
}
