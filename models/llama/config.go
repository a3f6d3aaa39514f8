// Package llama is the Llama-family network (Llama 3.x, Qwen2/2.5/3, SmolLM): its
// configuration, the weights it binds by name, and (later) its forward and backward passes.
package llama

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"seal/models/sidefile"
)

// Arch is the network variant; the differences are small and listed on Config.
type Arch string

const (
	ArchLlama Arch = "LlamaForCausalLM"
	ArchQwen2 Arch = "Qwen2ForCausalLM"
	ArchQwen3 Arch = "Qwen3ForCausalLM"
)

// RopeScaling is the rope_scaling block; Type "default" means none.
type RopeScaling struct {
	Type                          string  // "default" or "llama3"
	Factor                        float64 // llama3: how much the context was stretched
	LowFreqFactor                 float64
	HighFreqFactor                float64
	OriginalMaxPositionEmbeddings int
}

// Config is config.json reduced to the fields that change the computation, with
// transformers' defaults filled in so the rest of the runtime never guesses.
type Config struct {
	Arch      Arch
	ModelType string

	VocabSize        int
	HiddenSize       int
	IntermediateSize int
	NumLayers        int
	NumHeads         int
	NumKVHeads       int
	HeadDim          int
	MaxPositions     int

	RMSNormEps  float64
	RopeTheta   float64
	RopeScaling RopeScaling

	TieWordEmbeddings bool
	AttentionBias     bool // bias on q, k, v (Qwen2 always; Llama when attention_bias)
	OutputBias        bool // bias on o_proj (Llama attention_bias only)
	MLPBias           bool
	QKNorm            bool // Qwen3: RMSNorm over each head of q and k

	BOSTokenID  int   // -1 when absent
	EOSTokenIDs []int // config.json allows one id or a list
	PadTokenID  int   // -1 when absent
	TorchDType  string
}

// LoadConfig reads dir/config.json.
func LoadConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, "config.json")
	data, err := sidefile.ReadFile(path, sidefile.ConfigJSON)
	if err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("model config %s: %w", path, err)
	}
	return cfg, nil
}

// rawConfig mirrors the JSON; pointers tell "absent" from zero so defaults can apply.
type rawConfig struct {
	Architectures         []string        `json:"architectures"`
	ModelType             string          `json:"model_type"`
	VocabSize             *int            `json:"vocab_size"`
	HiddenSize            *int            `json:"hidden_size"`
	IntermediateSize      *int            `json:"intermediate_size"`
	NumHiddenLayers       *int            `json:"num_hidden_layers"`
	NumAttentionHeads     *int            `json:"num_attention_heads"`
	NumKeyValueHeads      *int            `json:"num_key_value_heads"`
	HeadDim               *int            `json:"head_dim"`
	MaxPositionEmbeddings *int            `json:"max_position_embeddings"`
	HiddenAct             *string         `json:"hidden_act"`
	RMSNormEps            *float64        `json:"rms_norm_eps"`
	RopeTheta             *float64        `json:"rope_theta"`
	RopeScaling           json.RawMessage `json:"rope_scaling"`
	RopeParameters        json.RawMessage `json:"rope_parameters"` // transformers 5 spelling
	TieWordEmbeddings     *bool           `json:"tie_word_embeddings"`
	AttentionBias         *bool           `json:"attention_bias"`
	MLPBias               *bool           `json:"mlp_bias"`
	UseSlidingWindow      *bool           `json:"use_sliding_window"`
	BOSTokenID            json.RawMessage `json:"bos_token_id"`
	EOSTokenID            json.RawMessage `json:"eos_token_id"`
	PadTokenID            json.RawMessage `json:"pad_token_id"`
	TorchDType            string          `json:"torch_dtype"`
	DType                 string          `json:"dtype"`
}

type rawRope struct {
	RopeType                      string   `json:"rope_type"`
	Type                          string   `json:"type"` // older spelling
	RopeTheta                     *float64 `json:"rope_theta"`
	Factor                        *float64 `json:"factor"`
	LowFreqFactor                 *float64 `json:"low_freq_factor"`
	HighFreqFactor                *float64 `json:"high_freq_factor"`
	OriginalMaxPositionEmbeddings *int     `json:"original_max_position_embeddings"`
}

// Sizes above these are not models this runtime can hold; they are almost surely
// corrupt files, and rejecting them keeps later size arithmetic from overflowing.
const (
	maxDim    = 1 << 20
	maxLayers = 1 << 12
	maxVocab  = 1 << 24
)

// ParseConfig decodes and validates the bytes of a config.json.
func ParseConfig(data []byte) (*Config, error) {
	var r rawConfig
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("not a valid config.json: %w", err)
	}
	c := &Config{ModelType: r.ModelType, TorchDType: r.TorchDType}
	if c.TorchDType == "" {
		c.TorchDType = r.DType
	}
	if err := c.setArch(r.Architectures, r.ModelType); err != nil {
		return nil, err
	}
	var err error
	req := func(name string, p *int, max int) int {
		if err != nil {
			return 0
		}
		switch {
		case p == nil:
			err = fmt.Errorf("%s is missing", name)
		case *p <= 0 || *p > max:
			err = fmt.Errorf("%s = %d is out of range (1..%d)", name, *p, max)
		default:
			return *p
		}
		return 0
	}
	c.VocabSize = req("vocab_size", r.VocabSize, maxVocab)
	c.HiddenSize = req("hidden_size", r.HiddenSize, maxDim)
	c.IntermediateSize = req("intermediate_size", r.IntermediateSize, maxDim)
	c.NumLayers = req("num_hidden_layers", r.NumHiddenLayers, maxLayers)
	c.NumHeads = req("num_attention_heads", r.NumAttentionHeads, maxDim)
	if err != nil {
		return nil, err
	}
	c.NumKVHeads = c.NumHeads
	if r.NumKeyValueHeads != nil {
		c.NumKVHeads = req("num_key_value_heads", r.NumKeyValueHeads, maxDim)
	}
	if r.HeadDim != nil {
		c.HeadDim = req("head_dim", r.HeadDim, maxDim)
	} else {
		if c.HiddenSize%c.NumHeads != 0 {
			return nil, fmt.Errorf("hidden_size %d is not divisible by num_attention_heads %d and head_dim is not given", c.HiddenSize, c.NumHeads)
		}
		c.HeadDim = c.HiddenSize / c.NumHeads
	}
	c.MaxPositions = 2048
	if r.MaxPositionEmbeddings != nil {
		c.MaxPositions = req("max_position_embeddings", r.MaxPositionEmbeddings, 1<<30)
	}
	if err != nil {
		return nil, err
	}
	if c.NumHeads%c.NumKVHeads != 0 {
		return nil, fmt.Errorf("num_attention_heads %d is not a multiple of num_key_value_heads %d", c.NumHeads, c.NumKVHeads)
	}
	if c.HeadDim%2 != 0 {
		return nil, fmt.Errorf("head_dim %d must be even for rotary embeddings", c.HeadDim)
	}
	if r.HiddenAct != nil && *r.HiddenAct != "silu" {
		return nil, fmt.Errorf("hidden_act %q is not supported (the Llama family uses silu)", *r.HiddenAct)
	}
	if r.UseSlidingWindow != nil && *r.UseSlidingWindow {
		return nil, fmt.Errorf("use_sliding_window = true is not supported")
	}
	c.RMSNormEps = 1e-6
	if r.RMSNormEps != nil {
		c.RMSNormEps = *r.RMSNormEps
	}
	if !(c.RMSNormEps > 0 && c.RMSNormEps < 1) {
		return nil, fmt.Errorf("rms_norm_eps = %g is out of range (0..1)", c.RMSNormEps)
	}
	c.RopeTheta = 10000
	if r.RopeTheta != nil {
		c.RopeTheta = *r.RopeTheta
	}
	if err := c.setRope(r.RopeScaling, r.RopeParameters); err != nil {
		return nil, err
	}
	if !(c.RopeTheta > 0) || math.IsInf(c.RopeTheta, 0) {
		return nil, fmt.Errorf("rope_theta = %g must be positive", c.RopeTheta)
	}
	c.setBiases(r)
	if c.BOSTokenID, err = tokenID("bos_token_id", r.BOSTokenID, c.VocabSize); err != nil {
		return nil, err
	}
	if c.PadTokenID, err = tokenID("pad_token_id", r.PadTokenID, c.VocabSize); err != nil {
		return nil, err
	}
	if c.EOSTokenIDs, err = eosIDs(r.EOSTokenID, c.VocabSize); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) setArch(archs []string, modelType string) error {
	known := map[string]Arch{"llama": ArchLlama, "qwen2": ArchQwen2, "qwen3": ArchQwen3}
	for _, a := range archs {
		switch Arch(a) {
		case ArchLlama, ArchQwen2, ArchQwen3:
			c.Arch = Arch(a)
			return nil
		}
	}
	if len(archs) == 0 {
		if a, ok := known[modelType]; ok {
			c.Arch = a
			return nil
		}
		return fmt.Errorf("no architectures and model_type %q is not one of llama, qwen2, qwen3", modelType)
	}
	return fmt.Errorf("architecture %v is not supported (supported: %s, %s, %s)", archs, ArchLlama, ArchQwen2, ArchQwen3)
}

// setRope reads rope_scaling (transformers 4) or rope_parameters (transformers 5).
func (c *Config) setRope(scaling, params json.RawMessage) error {
	c.RopeScaling = RopeScaling{Type: "default"}
	raw, field := scaling, "rope_scaling"
	if len(params) > 0 && string(params) != "null" {
		raw, field = params, "rope_parameters"
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var r rawRope
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	if r.RopeTheta != nil {
		c.RopeTheta = *r.RopeTheta
	}
	typ := r.RopeType
	if typ == "" {
		typ = r.Type
	}
	switch typ {
	case "", "default":
		return nil
	case "llama3":
	default:
		return fmt.Errorf("%s: rope_type %q is not supported (supported: default, llama3)", field, typ)
	}
	if r.Factor == nil || r.LowFreqFactor == nil || r.HighFreqFactor == nil || r.OriginalMaxPositionEmbeddings == nil {
		return fmt.Errorf("%s: llama3 needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings", field)
	}
	s := RopeScaling{Type: "llama3", Factor: *r.Factor, LowFreqFactor: *r.LowFreqFactor,
		HighFreqFactor: *r.HighFreqFactor, OriginalMaxPositionEmbeddings: *r.OriginalMaxPositionEmbeddings}
	if !(s.Factor >= 1) || !(s.LowFreqFactor > 0) || !(s.HighFreqFactor > s.LowFreqFactor) || s.OriginalMaxPositionEmbeddings <= 0 ||
		math.IsInf(s.Factor, 0) || math.IsInf(s.HighFreqFactor, 0) {
		return fmt.Errorf("%s: llama3 values out of range (factor >= 1, 0 < low_freq_factor < high_freq_factor, original_max_position_embeddings > 0): %+v", field, s)
	}
	c.RopeScaling = s
	return nil
}

// setBiases applies each family's rules: Qwen2 has q/k/v biases whatever the file says,
// Qwen3 normalises q and k per head, Llama follows attention_bias and mlp_bias.
func (c *Config) setBiases(r rawConfig) {
	flag := func(p *bool) bool { return p != nil && *p }
	switch c.Arch {
	case ArchQwen2:
		c.AttentionBias = true
	case ArchQwen3:
		c.QKNorm = true
		c.AttentionBias = flag(r.AttentionBias)
		c.OutputBias = c.AttentionBias
	default:
		c.AttentionBias = flag(r.AttentionBias)
		c.OutputBias = c.AttentionBias
		c.MLPBias = flag(r.MLPBias)
	}
	c.TieWordEmbeddings = flag(r.TieWordEmbeddings)
}

// tokenID reads an optional token id (of a list, the first); -1 when absent or null.
func tokenID(name string, raw json.RawMessage, vocab int) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return -1, nil
	}
	var id int
	if err := json.Unmarshal(raw, &id); err != nil {
		var ids []int
		if json.Unmarshal(raw, &ids) == nil && len(ids) > 0 {
			id = ids[0]
		} else {
			return 0, fmt.Errorf("%s: want an integer, got %s", name, raw)
		}
	}
	if id < 0 || id >= vocab {
		return 0, fmt.Errorf("%s = %d is outside the vocabulary (0..%d)", name, id, vocab-1)
	}
	return id, nil
}

func eosIDs(raw json.RawMessage, vocab int) ([]int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var ids []int
	var one int
	if err := json.Unmarshal(raw, &one); err == nil {
		ids = []int{one}
	} else if err := json.Unmarshal(raw, &ids); err != nil {
		return nil, fmt.Errorf("eos_token_id: want an integer or a list of integers, got %s", raw)
	}
	for _, id := range ids {
		if id < 0 || id >= vocab {
			return nil, fmt.Errorf("eos_token_id %d is outside the vocabulary (0..%d)", id, vocab-1)
		}
	}
	return slices.Compact(ids), nil
}

// KVDim is the width of the k and v projections.
func (c *Config) KVDim() int { return c.NumKVHeads * c.HeadDim }

// QDim is the width of the q projection (it differs from HiddenSize when head_dim is set).
func (c *Config) QDim() int { return c.NumHeads * c.HeadDim }
