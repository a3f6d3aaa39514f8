package llama

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseConfig: any bytes give a config that passes its own invariants, or an error;
// never a panic, never a config whose sizes would break later arithmetic.
func FuzzParseConfig(f *testing.F) {
	for _, dir := range goldenModels(f) {
		if b, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"model_type": "qwen3", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "head_dim": 4, "eos_token_id": [1, 2]}`))
	f.Add([]byte(`{"architectures": ["LlamaForCausalLM"], "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "rope_scaling": {"type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192}}`))
	f.Add([]byte(`{"vocab_size": 1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if c.NumHeads%c.NumKVHeads != 0 || c.HeadDim <= 0 || c.HeadDim%2 != 0 || c.VocabSize <= 0 || c.HiddenSize <= 0 || c.NumLayers <= 0 {
			t.Fatalf("accepted an inconsistent config: %+v", c)
		}
		if c.NumParams() <= 0 {
			t.Fatalf("parameter count overflowed: %+v", c)
		}
	})
}
