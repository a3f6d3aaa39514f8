package engine

import (
	"context"
	"fmt"
	"path/filepath"

	"seal/engine/knowledge"
	"seal/models/llama"
	"seal/models/tensor"
	"seal/models/tokenizer"
	"seal/models/train"
	"seal/store"
)

// lm is the policy: one model and its tokenizer. SEAL's policy writes the self-edits
// and is the model each edit adapts; ReST-EM merges its updates into these weights.
type lm struct {
	dir   string // the model folder (ARC prompts use its chat template)
	ck    *llama.Checkpoint
	model *llama.Model
	tok   *tokenizer.Tokenizer
	eos   []int32
}

// LoadedModel is a Hugging Face model folder opened to compute: its checkpoint, the network,
// the tokenizer and its config, and the ids generation stops at. The policy and
// `seal generate` both load through LoadModel, so a folder loads the same way for each.
type LoadedModel struct {
	Dir        string
	Checkpoint *llama.Checkpoint
	Net        *llama.Model
	Tokenizer  *tokenizer.Tokenizer
	TokConfig  *tokenizer.Config
	// StopIDs are config.json's EOS ids and tokenizer_config.json's eos_token.
	StopIDs []int32
}

// LoadModel opens dir to compute on b; weights, when given, are the weight files to
// read instead of model.safetensors or its index. Weights stay memory-mapped until an
// update is merged, which copies only the projections it changes. Close releases them.
func LoadModel(dir string, b tensor.Backend, weights ...string) (*LoadedModel, error) {
	if b == nil {
		return nil, fmt.Errorf("model %s: no compute backend given", dir)
	}
	ck, err := llama.OpenCheckpoint(dir, weights...)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		ck.Close()
		return nil, err
	}
	tcfg, err := tokenizer.LoadConfig(dir)
	if err != nil {
		ck.Close()
		return nil, err
	}
	m, err := llama.Load(ck, b, llama.LoadOptions{})
	if err != nil {
		ck.Close()
		return nil, err
	}
	m.BF16Products = ck.Config.HiddenSize >= bf16ProductsMinHidden
	return &LoadedModel{Dir: dir, Checkpoint: ck, Net: m, Tokenizer: tok, TokConfig: tcfg,
		StopIDs: tcfg.StopIDs(tok, ck.Config.EOSTokenIDs)}, nil
}

// bf16ProductsMinHidden is the hidden size from which a bf16 checkpoint's LoRA training
// multiplies in bf16 (llama.Model.BF16Products): models of Llama-3.2-1B's size (2048) and
// up, whose training steps are bound by those products (90% of a 1B step's time, in
// float32). The embedded default (256) keeps float32 math, in which its inner settings
// were chosen and its effect tables measured.
const bf16ProductsMinHidden = 1024

// Close releases the memory-mapped weights.
func (m *LoadedModel) Close() error { return m.Checkpoint.Close() }

// loadLM loads the policy, which must know where a sequence ends.
func loadLM(dir string, b tensor.Backend) (*lm, error) {
	m, err := LoadModel(dir, b)
	if err != nil {
		return nil, err
	}
	l := &lm{dir: dir, ck: m.Checkpoint, model: m.Net, tok: m.Tokenizer, eos: m.StopIDs}
	if len(l.eos) == 0 {
		m.Close()
		return nil, fmt.Errorf("model %s: no EOS token in config.json or tokenizer_config.json", dir)
	}
	return l, nil
}

func (l *lm) close() { l.ck.Close() }

// encode tokenizes a raw-text prompt the way Hugging Face tokenizer(text) does (the
// post-processor adds BOS for models that use one; Qwen adds none).
func (l *lm) encode(text string) []int32 {
	return l.tok.EncodeSpecial32(text)
}

func (l *lm) decode(ids []int32) string {
	s, _ := l.tok.DecodeSkipSpecial32(ids)
	return s
}

// generate continues each prompt n times and returns the decoded texts, trimmed of
// surrounding whitespace as the reference stores completions.
func (l *lm) generate(ctx context.Context, prompts []string, n, maxTokens int, sample llama.SampleConfig, onToken func(seq int, text string)) ([]llama.Generation, error) {
	ids := make([][]int32, len(prompts))
	for i, p := range prompts {
		ids[i] = l.encode(p)
	}
	cfg := llama.GenerateConfig{MaxNewTokens: maxTokens, N: n, Sample: sample, StopIDs: l.eos, Decode: l.decode}
	if onToken != nil {
		cfg.OnToken = func(seq int, t int32) { onToken(seq, l.decode([]int32{t})) }
	}
	return l.model.Generate(ctx, ids, cfg)
}

// Model is the policy as a domain sees it in a job or a baseline: the loaded weights
// with their tokenizer, and the grader the run's settings name.
type Model struct {
	lm      *lm
	grader  knowledge.Grader
	version *ModelVersion // the runner's, so it follows the merges; nil: unknown
	cache   string        // the folder of baselines computed once per model version ("": none)
}

// Version is the model version the weights are now (zero when unknown).
func (m *Model) Version() ModelVersion {
	if m.version == nil {
		return ModelVersion{}
	}
	return *m.version
}

// oracleCache is where the ARC oracle's searches are kept; none without a version to
// key them by.
func (m *Model) oracleCache() oracleCache {
	if m.cache == "" || m.Version().Base == "" {
		return ""
	}
	return oracleCache(filepath.Join(m.cache, "arc-oracle"))
}

// Dir is the model folder.
func (m *Model) Dir() string { return m.lm.dir }

// Llama is the network itself, for a domain that drives it directly (ARC's test-time
// training and voting).
func (m *Model) Llama() *llama.Model { return m.lm.model }

// Tokenizer is the model's tokenizer.
func (m *Model) Tokenizer() *tokenizer.Tokenizer { return m.lm.tok }

// Grader grades a free-text answer against a gold one.
func (m *Model) Grader() knowledge.Grader { return m.grader }

// Answer continues each prompt once, greedy, with at most maxTokens tokens.
func (m *Model) Answer(ctx context.Context, prompts []string, maxTokens int) ([]string, error) {
	gens, err := m.lm.generate(ctx, prompts, 1, maxTokens, llama.SampleConfig{}, nil)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(gens))
	for i, g := range gens {
		out[i] = g.Text
	}
	return out, nil
}

// Example is a training example: prompt tokens outside the loss (none for ""), then
// the completion and EOS in it.
func (m *Model) Example(prompt, completion string) train.Example {
	return m.lm.example(prompt, completion)
}

// Train is the inner loop's training: a fresh LoRA on the current weights, trained on
// f's examples with f's recipe, left attached (Detach takes it off). Steps are reported
// to send.
func (m *Model) Train(ctx context.Context, f Fit, send func(Event)) ([]store.TrainPoint, error) {
	_, curve, err := trainLoRA(ctx, m.lm, f, send)
	return curve, err
}

// Detach takes the adapter off, leaving the weights as they were.
func (m *Model) Detach() { m.lm.model.SetAdapter(nil) }

// Fits checks that a prompt and the tokens to be generated after it fit the model's
// context; where and what name the prompt in the error, flag the setting that sets
// budget.
func (m *Model) Fits(where, what, prompt string, budget int, flag string) error {
	return fits(m.lm, where, what, prompt, budget, flag)
}
