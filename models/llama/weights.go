package llama

import (
	"fmt"
	"seal/models/lora"
	"slices"
	"strings"
)

// TensorSpec is one weight the network binds by its Hugging Face name.
type TensorSpec struct {
	Name  string
	Shape []int
	// Optional weights may be absent: lm_head when embeddings are tied.
	Optional bool
}

// Projections are the seven linear layers of a block, in PEFT's target_modules spelling.
var Projections = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}

// ProjectionShape gives the [out, in] shape of a block's projection; ok is false for an unknown name.
func (c *Config) ProjectionShape(proj string) (out, in int, ok bool) {
	switch proj {
	case "q_proj":
		return c.QDim(), c.HiddenSize, true
	case "k_proj", "v_proj":
		return c.KVDim(), c.HiddenSize, true
	case "o_proj":
		return c.HiddenSize, c.QDim(), true
	case "gate_proj", "up_proj":
		return c.IntermediateSize, c.HiddenSize, true
	case "down_proj":
		return c.HiddenSize, c.IntermediateSize, true
	}
	return 0, 0, false
}

// ProjectionName is the full weight name of a projection in layer i (without ".weight").
func ProjectionName(layer int, proj string) string { return lora.ModuleName(layer, proj) }

// Tensors lists every weight a checkpoint of this config holds, in a stable order.
func (c *Config) Tensors() []TensorSpec {
	H := c.HiddenSize
	specs := []TensorSpec{{Name: "model.embed_tokens.weight", Shape: []int{c.VocabSize, H}}}
	for i := 0; i < c.NumLayers; i++ {
		p := fmt.Sprintf("model.layers.%d.", i)
		specs = append(specs,
			TensorSpec{Name: p + "input_layernorm.weight", Shape: []int{H}},
			TensorSpec{Name: p + "post_attention_layernorm.weight", Shape: []int{H}})
		for _, proj := range Projections {
			out, in, _ := c.ProjectionShape(proj)
			name := ProjectionName(i, proj)
			specs = append(specs, TensorSpec{Name: name + ".weight", Shape: []int{out, in}})
			if c.hasBias(proj) {
				specs = append(specs, TensorSpec{Name: name + ".bias", Shape: []int{out}})
			}
		}
		if c.QKNorm {
			specs = append(specs,
				TensorSpec{Name: p + "self_attn.q_norm.weight", Shape: []int{c.HeadDim}},
				TensorSpec{Name: p + "self_attn.k_norm.weight", Shape: []int{c.HeadDim}})
		}
	}
	specs = append(specs,
		TensorSpec{Name: "model.norm.weight", Shape: []int{H}},
		TensorSpec{Name: "lm_head.weight", Shape: []int{c.VocabSize, H}, Optional: c.TieWordEmbeddings})
	return specs
}

func (c *Config) hasBias(proj string) bool {
	switch proj {
	case "q_proj", "k_proj", "v_proj":
		return c.AttentionBias
	case "o_proj":
		return c.OutputBias
	default:
		return c.MLPBias
	}
}

// NumParams counts the parameters the network uses (a tied lm_head counts once).
func (c *Config) NumParams() int64 {
	var n int64
	for _, s := range c.Tensors() {
		if s.Optional {
			continue
		}
		m := int64(1)
		for _, d := range s.Shape {
			m *= int64(d)
		}
		n += m
	}
	return n
}

// ignoredTensors are buffers some exporters save that the network recomputes.
func ignoredTensor(name string) bool {
	return strings.HasSuffix(name, ".rotary_emb.inv_freq")
}

// Source is what ValidateTensors needs to know of stored weights.
type Source interface {
	Names() []string
	Shape(name string) ([]int, string, bool) // shape, dtype, present
}

// ValidateTensors checks that src holds exactly the weights cfg needs, with the right
// shapes and float dtypes; problems are all listed, not just the first.
func ValidateTensors(cfg *Config, src Source) error {
	var problems []string
	want := map[string]bool{}
	for _, s := range cfg.Tensors() {
		want[s.Name] = true
		shape, dtype, ok := src.Shape(s.Name)
		if !ok {
			if !s.Optional {
				problems = append(problems, fmt.Sprintf("missing tensor %s %v", s.Name, s.Shape))
			}
			continue
		}
		if !slices.Equal(shape, s.Shape) {
			problems = append(problems, fmt.Sprintf("tensor %s has shape %v, config.json implies %v", s.Name, shape, s.Shape))
		}
		switch dtype {
		case "F32", "F16", "BF16":
		default:
			problems = append(problems, fmt.Sprintf("tensor %s has dtype %s (want F32, F16 or BF16)", s.Name, dtype))
		}
	}
	for _, n := range src.Names() {
		if !want[n] && !ignoredTensor(n) {
			problems = append(problems, fmt.Sprintf("unexpected tensor %s (not part of a %s with this config)", n, cfg.Arch))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	const show = 8
	more := ""
	if len(problems) > show {
		more = fmt.Sprintf("; and %d more", len(problems)-show)
		problems = problems[:show]
	}
	return fmt.Errorf("%s%s", strings.Join(problems, "; "), more)
}
