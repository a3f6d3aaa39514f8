package llama

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"seal/models/internal/atomicfile"
	"seal/models/safetensors"
	"seal/models/tensor"
)

// Save writes the model as a Hugging Face folder: config.json and model.safetensors,
// each weight in the dtype it is held in, so transformers (and Load) read it back.
func (m *Model) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("llama: save: %w", err)
	}
	cfg, err := m.Config.MarshalJSON()
	if err != nil {
		return err
	}
	var ts []safetensors.Tensor
	add := func(name string, t *tensor.Tensor) {
		if t == nil {
			return
		}
		t = tensor.ToHost(t) // a checkpoint is a named host point: no copy on the CPU
		st := safetensors.Tensor{Name: name, Shape: append([]int(nil), t.Shape...)}
		switch t.DType {
		case tensor.F32:
			st.DType, st.Data = safetensors.F32, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t.F32))), 4*t.Len())
		case tensor.BF16:
			st.DType, st.Data = safetensors.BF16, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t.BF16))), 2*t.Len())
		}
		ts = append(ts, st)
	}
	add("model.embed_tokens.weight", m.Embed)
	if m.LMHead != m.Embed {
		add("lm_head.weight", m.LMHead)
	}
	add("model.norm.weight", m.Norm)
	for i := range m.Layers {
		l := &m.Layers[i]
		p := fmt.Sprintf("model.layers.%d.", i)
		add(p+"input_layernorm.weight", l.AttnNorm)
		add(p+"post_attention_layernorm.weight", l.MLPNorm)
		add(p+"self_attn.q_norm.weight", l.QNorm)
		add(p+"self_attn.k_norm.weight", l.KNorm)
		for j, proj := range Projections {
			add(ProjectionName(i, proj)+".weight", l.W[j])
			add(ProjectionName(i, proj)+".bias", l.Bias[j])
		}
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "config.json"), cfg); err != nil {
		return fmt.Errorf("llama: save: %w", err)
	}
	return nil
}

// MarshalJSON writes config.json as transformers does for this architecture, so the
// folder loads in transformers as well as here.
func (c *Config) MarshalJSON() ([]byte, error) {
	modelType := map[Arch]string{ArchLlama: "llama", ArchQwen2: "qwen2", ArchQwen3: "qwen3"}[c.Arch]
	out := map[string]any{
		"architectures":           []string{string(c.Arch)},
		"model_type":              modelType,
		"vocab_size":              c.VocabSize,
		"hidden_size":             c.HiddenSize,
		"intermediate_size":       c.IntermediateSize,
		"num_hidden_layers":       c.NumLayers,
		"num_attention_heads":     c.NumHeads,
		"num_key_value_heads":     c.NumKVHeads,
		"head_dim":                c.HeadDim,
		"hidden_act":              "silu",
		"max_position_embeddings": c.MaxPositions,
		"rms_norm_eps":            c.RMSNormEps,
		"rope_theta":              c.RopeTheta,
		"tie_word_embeddings":     c.TieWordEmbeddings,
		"torch_dtype":             c.TorchDType,
	}
	if c.TorchDType == "" {
		out["torch_dtype"] = "float32"
	}
	if c.Arch != ArchQwen2 { // Qwen2 always has q/k/v biases and no switch for them
		out["attention_bias"] = c.AttentionBias
	}
	if c.Arch == ArchLlama {
		out["mlp_bias"] = c.MLPBias
	}
	if c.RopeScaling.Type == "llama3" {
		s := c.RopeScaling
		out["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": s.Factor, "low_freq_factor": s.LowFreqFactor,
			"high_freq_factor": s.HighFreqFactor, "original_max_position_embeddings": s.OriginalMaxPositionEmbeddings}
	}
	if c.BOSTokenID >= 0 {
		out["bos_token_id"] = c.BOSTokenID
	}
	switch len(c.EOSTokenIDs) {
	case 0:
	case 1:
		out["eos_token_id"] = c.EOSTokenIDs[0]
	default:
		out["eos_token_id"] = c.EOSTokenIDs
	}
	if c.PadTokenID >= 0 {
		out["pad_token_id"] = c.PadTokenID
	}
	return json.MarshalIndent(out, "", "  ")
}
