package engine

import (
	"context"
	"fmt"
	"path/filepath"

	"seal/models/llama"
	"seal/models/tensor"
	"seal/models/tokenizer"
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

// Model is a Hugging Face model folder opened to compute: its checkpoint, the network,
// the tokenizer and its config, and the ids generation stops at. The policy and
// `seal generate` both load through LoadModel, so a folder loads the same way for each.
type Model struct {
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
func LoadModel(dir string, b tensor.Backend, weights ...string) (*Model, error) {
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
	return &Model{Dir: dir, Checkpoint: ck, Net: m, Tokenizer: tok, TokConfig: tcfg,
		StopIDs: tcfg.StopIDs(tok, ck.Config.EOSTokenIDs)}, nil
}

// Close releases the memory-mapped weights.
func (m *Model) Close() error { return m.Checkpoint.Close() }

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
