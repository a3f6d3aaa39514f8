package lora

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	"seal/models/internal/atomicfile"
	"seal/models/safetensors"
	"seal/models/sidefile"
)

// Module is the adapter of one linear layer: W' = W + Scale · B·A, with A [Rank×In]
// and B [Out×Rank] stored row-major in float32 as PEFT stores them.
type Module struct {
	Name  string // dotted module name, e.g. "model.layers.0.self_attn.q_proj"
	Layer int
	Proj  string // "q_proj", ...
	Rank  int
	In    int
	Out   int
	Scale float32
	A     []float32
	B     []float32
}

// Adapter is a set of modules plus the config that made them.
type Adapter struct {
	Config  *Config
	Modules []*Module // sorted by layer, then projection name
}

// Shape answers the [out, in] shape of a projection of the base model; the network
// package supplies it, so this package needs no model code.
type Shape func(proj string) (out, in int, ok bool)

// New makes a fresh adapter for every targeted projection of a base model with
// numLayers layers, initialised as PEFT does by default: A Kaiming-uniform with
// a = sqrt(5) (bound 1/sqrt(in)), B zero, so the adapted model starts equal to the base.
func New(cfg *Config, numLayers int, projections []string, shape Shape, rng *rand.Rand) (*Adapter, error) {
	a := &Adapter{Config: cfg}
	for layer := 0; layer < numLayers; layer++ {
		for _, proj := range projections {
			name := moduleName(layer, proj)
			if !cfg.Targets(name, layer) {
				continue
			}
			out, in, ok := shape(proj)
			if !ok {
				return nil, fmt.Errorf("lora: the base model has no projection %q", proj)
			}
			m := &Module{Name: name, Layer: layer, Proj: proj, Rank: cfg.RankFor(name), In: in, Out: out, Scale: float32(cfg.Scale(name))}
			m.A = make([]float32, m.Rank*in)
			m.B = make([]float32, out*m.Rank)
			bound := 1 / math.Sqrt(float64(in))
			for i := range m.A {
				m.A[i] = float32((rng.Float64()*2 - 1) * bound)
			}
			a.Modules = append(a.Modules, m)
		}
	}
	if len(a.Modules) == 0 {
		return nil, fmt.Errorf("lora: target_modules %v match no projection of the base model", cfg.TargetModules)
	}
	a.sort()
	return a, nil
}

func moduleName(layer int, proj string) string {
	group := "self_attn"
	switch proj {
	case "gate_proj", "up_proj", "down_proj":
		group = "mlp"
	}
	return fmt.Sprintf("model.layers.%d.%s.%s", layer, group, proj)
}

// PEFT saves "base_model.model.<module>.lora_A.weight"; in memory it may carry the
// adapter name ("lora_A.default.weight"), which we accept on load too.
var tensorName = regexp.MustCompile(`^base_model\.model\.(model\.layers\.(\d+)\.(?:self_attn|mlp)\.([a-z_]+))\.lora_([AB])(?:\.[A-Za-z0-9_-]+)?\.weight$`)

// Load reads a PEFT adapter folder (adapter_config.json + adapter_model.safetensors).
func Load(dir string) (*Adapter, error) {
	cfgPath := filepath.Join(dir, "adapter_config.json")
	data, err := sidefile.ReadFile(cfgPath, sidefile.ConfigJSON)
	if err != nil {
		return nil, fmt.Errorf("adapter: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("adapter config %s: %w", cfgPath, err)
	}
	wPath := filepath.Join(dir, "adapter_model.safetensors")
	f, err := safetensors.Open(wPath)
	if err != nil {
		return nil, fmt.Errorf("adapter: %w", err)
	}
	defer f.Close()
	a, err := fromTensors(cfg, f)
	if err != nil {
		return nil, fmt.Errorf("adapter %s: %w", wPath, err)
	}
	return a, nil
}

func fromTensors(cfg *Config, f *safetensors.File) (*Adapter, error) {
	mods := map[string]*Module{}
	for _, n := range f.Names() {
		m := tensorName.FindStringSubmatch(n)
		if m == nil {
			return nil, fmt.Errorf("tensor %q is not a LoRA A/B weight of a decoder layer", n)
		}
		layer, err := strconv.Atoi(m[2])
		if err != nil || layer > 1<<16 {
			return nil, fmt.Errorf("tensor %q: bad layer index", n)
		}
		mod := mods[m[1]]
		if mod == nil {
			mod = &Module{Name: m[1], Layer: layer, Proj: m[3], Rank: cfg.RankFor(m[1]), Scale: float32(cfg.Scale(m[1]))}
			mods[m[1]] = mod
		}
		info, _ := f.Info(n)
		if len(info.Shape) != 2 {
			return nil, fmt.Errorf("tensor %q has shape %v, want 2 dimensions", n, info.Shape)
		}
		vals, err := f.Float32(n)
		if err != nil {
			return nil, err
		}
		if m[4] == "A" {
			if mod.A != nil {
				return nil, fmt.Errorf("tensor %q appears twice", n)
			}
			if info.Shape[0] != mod.Rank {
				return nil, fmt.Errorf("tensor %q has rank %d, adapter_config.json says %d", n, info.Shape[0], mod.Rank)
			}
			mod.In, mod.A = info.Shape[1], vals
		} else {
			if mod.B != nil {
				return nil, fmt.Errorf("tensor %q appears twice", n)
			}
			if info.Shape[1] != mod.Rank {
				return nil, fmt.Errorf("tensor %q has rank %d, adapter_config.json says %d", n, info.Shape[1], mod.Rank)
			}
			mod.Out, mod.B = info.Shape[0], vals
		}
	}
	a := &Adapter{Config: cfg}
	for _, m := range mods {
		if m.A == nil || m.B == nil {
			return nil, fmt.Errorf("module %s has only one of lora_A and lora_B", m.Name)
		}
		if !cfg.Targets(m.Name, m.Layer) {
			return nil, fmt.Errorf("module %s is not among target_modules %v", m.Name, cfg.TargetModules)
		}
		a.Modules = append(a.Modules, m)
	}
	if len(a.Modules) == 0 {
		return nil, fmt.Errorf("no LoRA tensors")
	}
	a.sort()
	return a, nil
}

func (a *Adapter) sort() {
	sort.Slice(a.Modules, func(i, j int) bool {
		if a.Modules[i].Layer != a.Modules[j].Layer {
			return a.Modules[i].Layer < a.Modules[j].Layer
		}
		return a.Modules[i].Proj < a.Modules[j].Proj
	})
}

// Check verifies the adapter fits a base model with numLayers layers and these shapes.
func (a *Adapter) Check(numLayers int, shape Shape) error {
	for _, m := range a.Modules {
		if m.Layer >= numLayers {
			return fmt.Errorf("adapter module %s: the base model has %d layers", m.Name, numLayers)
		}
		out, in, ok := shape(m.Proj)
		if !ok {
			return fmt.Errorf("adapter module %s: the base model has no %s", m.Name, m.Proj)
		}
		if out != m.Out || in != m.In {
			return fmt.Errorf("adapter module %s is %dx%d, the base projection is %dx%d", m.Name, m.Out, m.In, out, in)
		}
	}
	return nil
}

// NumParams counts the adapter's trainable values.
func (a *Adapter) NumParams() int {
	n := 0
	for _, m := range a.Modules {
		n += len(m.A) + len(m.B)
	}
	return n
}

// Targets lists the distinct projections the adapter touches.
func (a *Adapter) Targets() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range a.Modules {
		if !seen[m.Proj] {
			seen[m.Proj] = true
			out = append(out, m.Proj)
		}
	}
	sort.Strings(out)
	return out
}

// Save writes dir/adapter_config.json and dir/adapter_model.safetensors in PEFT's
// format, so PEFT's PeftModel.from_pretrained loads them. Files are replaced atomically.
func (a *Adapter) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("adapter: %w", err)
	}
	tensors := make([]safetensors.Tensor, 0, 2*len(a.Modules))
	for _, m := range a.Modules {
		if len(m.A) != m.Rank*m.In || len(m.B) != m.Out*m.Rank {
			return fmt.Errorf("adapter module %s: A has %d values and B %d, want %d and %d", m.Name, len(m.A), len(m.B), m.Rank*m.In, m.Out*m.Rank)
		}
		p := "base_model.model." + m.Name
		tensors = append(tensors,
			safetensors.F32Tensor(p+".lora_A.weight", []int{m.Rank, m.In}, m.A),
			safetensors.F32Tensor(p+".lora_B.weight", []int{m.Out, m.Rank}, m.B))
	}
	cfg, err := a.Config.MarshalJSON()
	if err != nil {
		return fmt.Errorf("adapter config: %w", err)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "adapter_model.safetensors"), tensors, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "adapter_config.json"), cfg); err != nil {
		return fmt.Errorf("adapter: %w", err)
	}
	return nil
}

// ModuleName is the dotted name PEFT uses for projection proj of layer.
func ModuleName(layer int, proj string) string { return moduleName(layer, proj) }
