package llama

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"seal/internal/shareddata"
	"seal/models/safetensors"
)

// goldenModels finds every folder under the golden root with a config.json, so a
// fixture added later is checked with no code change.
func goldenModels(t testing.TB) []string {
	t.Helper()
	dirs, err := findGoldenModels()
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

func findGoldenModels() ([]string, error) {
	root, err := shareddata.Golden()
	if err != nil {
		return nil, err
	}
	var dirs []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "config.json" {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	if len(dirs) == 0 {
		return nil, fmt.Errorf("no model folders (config.json) under %s", root)
	}
	return dirs, nil
}

// weightFiles lists the alternative weight files of a fixture folder: model.safetensors (f32)
// and model.<dtype>.safetensors variants.
func weightFiles(t *testing.T, dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "model*.safetensors"))
	if len(files) == 0 {
		t.Fatalf("%s has no model*.safetensors", dir)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

func TestGoldenCheckpointsLoadAndValidate(t *testing.T) {
	for _, dir := range goldenModels(t) {
		for _, file := range weightFiles(t, dir) {
			name := filepath.Base(dir) + "/" + file
			t.Run(name, func(t *testing.T) {
				ck, err := OpenCheckpoint(dir, file)
				if err != nil {
					t.Fatal(err)
				}
				defer ck.Close()
				c := ck.Config
				var raw map[string]any
				b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
				json.Unmarshal(b, &raw)
				if float64(c.HiddenSize) != raw["hidden_size"] || float64(c.NumLayers) != raw["num_hidden_layers"] || float64(c.VocabSize) != raw["vocab_size"] {
					t.Errorf("config fields differ from config.json: %+v", c)
				}
				// Every tensor converts to float32 with the element count its shape says.
				for _, n := range ck.Weights.Names() {
					info, _ := ck.Weights.Info(n)
					v, err := ck.Weights.Float32(n)
					if err != nil {
						t.Fatalf("%s: %v", n, err)
					}
					if len(v) != info.NumElements() {
						t.Fatalf("%s: %d values, shape %v", n, len(v), info.Shape)
					}
				}
				t.Logf("%s: %s, %d layers, hidden %d, heads %d/%d, head_dim %d, %d params, dtypes %v, tied=%v, qkv bias=%v, rope %s",
					name, c.Arch, c.NumLayers, c.HiddenSize, c.NumHeads, c.NumKVHeads, c.HeadDim, c.NumParams(), ck.DTypes(), c.TieWordEmbeddings, c.AttentionBias, c.RopeScaling.Type)
			})
		}
	}
}

// TestGoldenConfigsReadAsTransformersDoes reads every fixture's config.json twice: with
// LoadConfig, and with transformersReads below (the keys as transformers' config class of
// that family reads them, its defaults where a key is absent). A fixture dropped in is
// checked by what its own file says, not by what today's fixtures hold.
func TestGoldenConfigsReadAsTransformersDoes(t *testing.T) {
	for _, dir := range goldenModels(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			var raw map[string]any
			if err := json.Unmarshal(b, &raw); err != nil {
				t.Fatalf("%s/config.json: %v", dir, err)
			}
			want, err := transformersReads(raw)
			if err != nil {
				t.Fatalf("%s/config.json: %v", dir, err)
			}
			got, err := LoadConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s/config.json read as\n%+v\nwant (as transformers reads it)\n%+v", dir, *got, *want)
			}
			t.Logf("%s: %s, rope %s, tied %v, qkv bias %v", filepath.Base(dir), got.Arch, got.RopeScaling.Type, got.TieWordEmbeddings, got.AttentionBias)
		})
	}
}

// familyDefaults are the values transformers' LlamaConfig, Qwen2Config and Qwen3Config
// give keys that a config.json leaves out, and each family's fixed attention layout.
var familyDefaults = map[Arch]struct {
	maxPositions int
	qkvBias      string // "always" (Qwen2), or "attention_bias" (the key decides)
	outputBias   bool   // o_proj follows attention_bias too
	mlpBias      bool   // mlp_bias is read
	qkNorm       bool
}{
	ArchLlama: {maxPositions: 2048, qkvBias: "attention_bias", outputBias: true, mlpBias: true},
	ArchQwen2: {maxPositions: 32768, qkvBias: "always"},
	ArchQwen3: {maxPositions: 32768, qkvBias: "attention_bias", outputBias: true, qkNorm: true},
}

// transformersReads builds the Config a config.json means, key by key, written
// independently of ParseConfig.
func transformersReads(raw map[string]any) (*Config, error) {
	num := func(key string, def float64) float64 {
		if v, ok := raw[key].(float64); ok {
			return v
		}
		return def
	}
	flag := func(key string) bool { v, _ := raw[key].(bool); return v }
	var arch Arch
	if archs, _ := raw["architectures"].([]any); len(archs) > 0 {
		arch = Arch(archs[0].(string))
	}
	fam, ok := familyDefaults[arch]
	if !ok {
		return nil, fmt.Errorf("architecture %q: this test knows the defaults of %v only; add the family to familyDefaults", arch, slices.Sorted(maps.Keys(familyDefaults)))
	}
	model, _ := raw["model_type"].(string)
	c := &Config{Arch: arch, ModelType: model,
		VocabSize: int(num("vocab_size", 0)), HiddenSize: int(num("hidden_size", 0)), IntermediateSize: int(num("intermediate_size", 0)),
		NumLayers: int(num("num_hidden_layers", 0)), NumHeads: int(num("num_attention_heads", 0)),
		MaxPositions: int(num("max_position_embeddings", float64(fam.maxPositions))),
		RMSNormEps:   num("rms_norm_eps", 1e-6), RopeTheta: num("rope_theta", 10000),
		RopeScaling:       RopeScaling{Type: "default"},
		TieWordEmbeddings: flag("tie_word_embeddings"), QKNorm: fam.qkNorm,
		BOSTokenID: int(num("bos_token_id", -1)), PadTokenID: int(num("pad_token_id", -1)),
	}
	c.NumKVHeads = int(num("num_key_value_heads", float64(c.NumHeads)))
	c.HeadDim = int(num("head_dim", float64(c.HiddenSize/max(c.NumHeads, 1))))
	c.AttentionBias = fam.qkvBias == "always" || flag("attention_bias")
	c.OutputBias = fam.outputBias && flag("attention_bias")
	c.MLPBias = fam.mlpBias && flag("mlp_bias")
	if c.TorchDType, _ = raw["torch_dtype"].(string); c.TorchDType == "" {
		c.TorchDType, _ = raw["dtype"].(string)
	}
	switch eos := raw["eos_token_id"].(type) {
	case float64:
		c.EOSTokenIDs = []int{int(eos)}
	case []any:
		for _, id := range eos {
			if n := int(id.(float64)); len(c.EOSTokenIDs) == 0 || c.EOSTokenIDs[len(c.EOSTokenIDs)-1] != n {
				c.EOSTokenIDs = append(c.EOSTokenIDs, n)
			}
		}
	}
	rope, _ := raw["rope_scaling"].(map[string]any)
	if p, ok := raw["rope_parameters"].(map[string]any); ok {
		rope = p
	}
	if theta, ok := rope["rope_theta"].(float64); ok {
		c.RopeTheta = theta
	}
	typ, _ := rope["rope_type"].(string)
	if typ == "" {
		typ, _ = rope["type"].(string)
	}
	if typ == "llama3" {
		f := func(key string) float64 { v, _ := rope[key].(float64); return v }
		c.RopeScaling = RopeScaling{Type: typ, Factor: f("factor"), LowFreqFactor: f("low_freq_factor"),
			HighFreqFactor: f("high_freq_factor"), OriginalMaxPositionEmbeddings: int(f("original_max_position_embeddings"))}
	}
	return c, nil
}

func TestConfigDefaultsAndVariants(t *testing.T) {
	c, err := ParseConfig([]byte(`{"architectures": ["Qwen3ForCausalLM"], "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
		"num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32, "eos_token_id": [5, 7],
		"dtype": "bfloat16", "rope_parameters": {"rope_type": "default", "rope_theta": 1000000}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !c.QKNorm || c.AttentionBias || c.QDim() != 128 || c.KVDim() != 64 || c.RopeTheta != 1e6 || c.TorchDType != "bfloat16" || len(c.EOSTokenIDs) != 2 || c.BOSTokenID != -1 {
		t.Errorf("qwen3: %+v", c)
	}
	specs := c.Tensors()
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	joined := strings.Join(names, " ")
	for _, want := range []string{"model.layers.0.self_attn.q_norm.weight", "model.layers.0.self_attn.q_proj.weight", "lm_head.weight"} {
		if !strings.Contains(joined, want) {
			t.Errorf("qwen3 tensors lack %s", want)
		}
	}
	for _, s := range specs {
		if s.Name == "model.layers.0.self_attn.o_proj.weight" && (s.Shape[0] != 64 || s.Shape[1] != 128) {
			t.Errorf("o_proj shape %v, want [64 128] when head_dim*heads != hidden", s.Shape)
		}
	}
	l, err := ParseConfig([]byte(`{"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 2,
		"num_attention_heads": 2, "attention_bias": true, "mlp_bias": true, "tie_word_embeddings": true}`))
	if err != nil {
		t.Fatal(err)
	}
	if l.NumKVHeads != 2 || l.HeadDim != 4 || l.RopeTheta != 10000 || !l.OutputBias || !l.MLPBias {
		t.Errorf("llama defaults: %+v", l)
	}
	// 10*8 embed + 2 layers * (2*8 norms + 4*(8*8+8) attn + 2*(16*8+16) + (8*16+8) mlp) + 8 final norm; lm_head tied
	if want := int64(80 + 2*(16+4*72+2*144+136) + 8); l.NumParams() != want {
		t.Errorf("NumParams = %d, want %d", l.NumParams(), want)
	}
}

func TestConfigErrors(t *testing.T) {
	base := `"vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2`
	for _, tc := range []struct{ doc, want string }{
		{`{"architectures": ["GPT2LMHeadModel"], ` + base + `}`, "not supported"},
		{`{"model_type": "bert", ` + base + `}`, "model_type"},
		{`{"architectures": ["LlamaForCausalLM"], "vocab_size": 10}`, "hidden_size is missing"},
		{`{"architectures": ["LlamaForCausalLM"], ` + base + `, "num_key_value_heads": 3}`, "multiple"},
		{`{"architectures": ["LlamaForCausalLM"], ` + base + `, "hidden_act": "gelu"}`, "hidden_act"},
		{`{"architectures": ["LlamaForCausalLM"], ` + base + `, "rope_scaling": {"rope_type": "yarn", "factor": 4}}`, "yarn"},
		{`{"architectures": ["LlamaForCausalLM"], ` + base + `, "rope_scaling": {"rope_type": "llama3", "factor": 8}}`, "llama3 needs"},
		{`{"architectures": ["LlamaForCausalLM"], ` + base + `, "eos_token_id": 99}`, "outside the vocabulary"},
		{`{"architectures": ["LlamaForCausalLM"], ` + base + `, "rms_norm_eps": -1}`, "rms_norm_eps"},
		{`{"architectures": ["LlamaForCausalLM"], "vocab_size": 10, "hidden_size": 9, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}`, "divisible"},
		{`{"architectures": ["LlamaForCausalLM"], ` + base + `, "hidden_size": 0}`, "out of range"}, // duplicate key: the last wins
		{`{"architectures": ["Qwen2ForCausalLM"], ` + base + `, "use_sliding_window": true}`, "sliding"},
		{`[]`, "not a valid config.json"},
	} {
		_, err := ParseConfig([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%s) = %v, want an error mentioning %q", tc.doc, err, tc.want)
		}
	}
	if _, err := LoadConfig(t.TempDir()); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("missing config.json: %v", err)
	}
}

// copyFixture copies a golden model folder's config and f32 weights to a temp folder
// the test may break.
func copyFixture(t *testing.T) (string, *safetensors.File) {
	t.Helper()
	src := goldenModels(t)[0]
	dir := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	f, err := safetensors.Open(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return dir, f
}

func rewrite(t *testing.T, path string, f *safetensors.File, edit func(name string, tt *safetensors.Tensor) bool) {
	t.Helper()
	var ts []safetensors.Tensor
	for _, n := range f.Names() {
		info, _ := f.Info(n)
		raw, _ := f.Raw(n)
		tt := safetensors.Tensor{Name: n, DType: info.DType, Shape: info.Shape, Data: raw}
		if edit(n, &tt) {
			ts = append(ts, tt)
		}
	}
	if err := safetensors.WriteFile(path, ts, f.Metadata()); err != nil {
		t.Fatal(err)
	}
}

func TestCheckpointMismatches(t *testing.T) {
	dir, f := copyFixture(t)
	weights := filepath.Join(dir, "model.safetensors")
	embed := "model.embed_tokens.weight"

	rewrite(t, weights, f, func(n string, tt *safetensors.Tensor) bool { return n != embed })
	if _, err := OpenCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "missing tensor "+embed) || !strings.Contains(err.Error(), dir) {
		t.Errorf("missing tensor: %v", err)
	}
	rewrite(t, weights, f, func(n string, tt *safetensors.Tensor) bool {
		if n == embed {
			tt.Shape = []int{tt.Shape[1], tt.Shape[0]}
		}
		return true
	})
	if _, err := OpenCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "has shape") {
		t.Errorf("transposed tensor: %v", err)
	}
	rewrite(t, weights, f, func(n string, tt *safetensors.Tensor) bool {
		if n == embed {
			tt.DType = "I32"
		}
		return true
	})
	if _, err := OpenCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "dtype I32") {
		t.Errorf("integer weights: %v", err)
	}
	rewrite(t, weights, f, func(n string, tt *safetensors.Tensor) bool {
		if n == embed {
			tt.Name = "model.extra.weight"
		}
		return true
	})
	if _, err := OpenCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "unexpected tensor model.extra.weight") {
		t.Errorf("unexpected tensor: %v", err)
	}
	os.Remove(weights)
	if _, err := OpenCheckpoint(dir); err == nil {
		t.Error("a folder without weights must not open")
	}
}

func TestShardedCheckpoint(t *testing.T) {
	dir, f := copyFixture(t)
	os.Remove(filepath.Join(dir, "model.safetensors"))
	names := f.Names()
	shards := [][]string{names[:len(names)/2], names[len(names)/2:]}
	weightMap := map[string]string{}
	for i, part := range shards {
		file := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[i]
		keep := map[string]bool{}
		for _, n := range part {
			keep[n] = true
			weightMap[n] = file
		}
		rewrite(t, filepath.Join(dir, file), f, func(n string, _ *safetensors.Tensor) bool { return keep[n] })
	}
	idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 0}, "weight_map": weightMap})
	os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), idx, 0o644)
	ck, err := OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	if len(ck.Weights.Names()) != len(names) {
		t.Errorf("sharded checkpoint has %d tensors, want %d", len(ck.Weights.Names()), len(names))
	}
	a, _ := f.Float32(names[len(names)-1])
	b, err := ck.Weights.Float32(names[len(names)-1])
	if err != nil || len(a) != len(b) || a[0] != b[0] || a[len(a)-1] != b[len(b)-1] {
		t.Errorf("tensor read through the shard differs: %v", err)
	}
}
