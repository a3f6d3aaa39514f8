package lora_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seal/internal/shareddata"
	"seal/models/llama"
	"seal/models/lora"
)

// goldenAdapters finds every folder under the golden root holding an adapter_config.json,
// so a fixture added later is checked with no code change.
func goldenAdapters(t *testing.T) []string {
	t.Helper()
	root, err := shareddata.Golden()
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "adapter_config.json" {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	if len(dirs) == 0 {
		t.Fatalf("no adapter folders under %s", root)
	}
	return dirs
}

func TestGoldenAdaptersLoadAndRoundTrip(t *testing.T) {
	for _, dir := range goldenAdapters(t) {
		rel := filepath.Base(filepath.Dir(dir)) + "/" + filepath.Base(dir)
		t.Run(rel, func(t *testing.T) {
			a, err := lora.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			// The base model is the folder above the adapter in the fixtures.
			base, err := llama.LoadConfig(filepath.Dir(dir))
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Check(base.NumLayers, base.ProjectionShape); err != nil {
				t.Fatalf("adapter does not fit its base model: %v", err)
			}
			var raw struct {
				R       int      `json:"r"`
				Targets []string `json:"target_modules"`
			}
			b, _ := os.ReadFile(filepath.Join(dir, "adapter_config.json"))
			json.Unmarshal(b, &raw)
			if want := base.NumLayers * len(raw.Targets); len(a.Modules) != want {
				t.Errorf("%d modules, want %d (%d layers x %v)", len(a.Modules), want, base.NumLayers, raw.Targets)
			}
			for _, m := range a.Modules {
				if m.Rank != raw.R {
					t.Errorf("%s rank %d, want %d", m.Name, m.Rank, raw.R)
				}
			}

			out := t.TempDir()
			if err := a.Save(out); err != nil {
				t.Fatal(err)
			}
			orig, _ := os.ReadFile(filepath.Join(dir, "adapter_model.safetensors"))
			saved, _ := os.ReadFile(filepath.Join(out, "adapter_model.safetensors"))
			if !bytes.Equal(orig, saved) {
				t.Errorf("adapter_model.safetensors differs after load+save (%d vs %d bytes)", len(orig), len(saved))
			}
			again, err := lora.Load(out)
			if err != nil {
				t.Fatalf("reloading the saved adapter: %v", err)
			}
			if again.Config.Rank != a.Config.Rank || again.Config.Alpha != a.Config.Alpha || strings.Join(again.Targets(), ",") != strings.Join(a.Targets(), ",") {
				t.Errorf("config changed in the round trip: %+v vs %+v", again.Config, a.Config)
			}
			var keep map[string]any
			cb, _ := os.ReadFile(filepath.Join(out, "adapter_config.json"))
			json.Unmarshal(cb, &keep)
			if keep["peft_version"] == nil || keep["task_type"] != "CAUSAL_LM" {
				t.Errorf("saved config lost fields PEFT writes: %v", keep)
			}
			t.Logf("%s: %d modules (%v), r=%d, %d parameters; byte-identical after save", rel, len(a.Modules), a.Targets(), a.Config.Rank, a.NumParams())
		})
	}
}

func TestPatternsAndScale(t *testing.T) {
	cfg, err := lora.ParseConfig([]byte(`{"peft_type": "LORA", "r": 8, "lora_alpha": 16,
		"target_modules": ["q_proj", "v_proj", "down_proj"],
		"rank_pattern": {"model.layers.1.self_attn.q_proj": 4, "v_proj": 2},
		"alpha_pattern": {"down_proj": 32}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		module string
		rank   int
		scale  float64
	}{
		{"model.layers.0.self_attn.q_proj", 8, 2},
		{"model.layers.1.self_attn.q_proj", 4, 4},
		{"model.layers.11.self_attn.q_proj", 8, 2}, // "layers.1." must not match "layers.11."
		{"model.layers.0.self_attn.v_proj", 2, 8},
		{"model.layers.0.mlp.down_proj", 8, 4},
	} {
		if r := cfg.RankFor(tc.module); r != tc.rank {
			t.Errorf("RankFor(%s) = %d, want %d", tc.module, r, tc.rank)
		}
		if s := cfg.Scale(tc.module); s != tc.scale {
			t.Errorf("Scale(%s) = %g, want %g", tc.module, s, tc.scale)
		}
	}
	if cfg.Targets("model.layers.0.self_attn.k_proj", 0) || !cfg.Targets("model.layers.3.mlp.down_proj", 3) {
		t.Error("target_modules matching is wrong")
	}
	rs, err := lora.ParseConfig([]byte(`{"peft_type": "LORA", "r": 16, "lora_alpha": 32, "use_rslora": true, "target_modules": ".*\\.(q|k)_proj", "layers_to_transform": [0]}`))
	if err != nil {
		t.Fatal(err)
	}
	if s := rs.Scale("model.layers.0.self_attn.q_proj"); s != 8 {
		t.Errorf("rsLoRA scale = %g, want 32/sqrt(16) = 8", s)
	}
	if !rs.Targets("model.layers.0.self_attn.k_proj", 0) || rs.Targets("model.layers.1.self_attn.k_proj", 1) || rs.Targets("model.layers.0.self_attn.v_proj", 0) {
		t.Error("regex target_modules or layers_to_transform is wrong")
	}
}

func TestNewSaveLoadWithPatterns(t *testing.T) {
	base, err := llama.ParseConfig([]byte(`{"architectures": ["LlamaForCausalLM"], "vocab_size": 64, "hidden_size": 16,
		"intermediate_size": 40, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := lora.ParseConfig([]byte(`{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": "all-linear", "rank_pattern": {"down_proj": 2}}`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := lora.New(cfg, base.NumLayers, llama.Projections, base.ProjectionShape, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Modules) != 14 {
		t.Fatalf("%d modules, want 2 layers x 7", len(a.Modules))
	}
	for _, m := range a.Modules {
		for _, v := range m.B {
			if v != 0 {
				t.Fatalf("%s: B must start at zero", m.Name)
			}
		}
		bound := float32(1 / 4.0) // 1/sqrt(in) with in = 16 for all but down_proj
		if m.Proj == "down_proj" {
			if m.Rank != 2 {
				t.Errorf("down_proj rank %d, want 2 from rank_pattern", m.Rank)
			}
			bound = float32(1 / 6.3245553)
		}
		for _, v := range m.A {
			if v < -bound || v > bound {
				t.Fatalf("%s: A value %g outside Kaiming bound %g", m.Name, v, bound)
			}
		}
	}
	dir := t.TempDir()
	if err := a.Save(dir); err != nil {
		t.Fatal(err)
	}
	b, err := lora.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Check(base.NumLayers, base.ProjectionShape); err != nil {
		t.Fatal(err)
	}
	for i, m := range b.Modules {
		if m.Name != a.Modules[i].Name || m.Rank != a.Modules[i].Rank || m.Scale != a.Modules[i].Scale {
			t.Errorf("module %d: %s r%d s%g, want %s r%d s%g", i, m.Name, m.Rank, m.Scale, a.Modules[i].Name, a.Modules[i].Rank, a.Modules[i].Scale)
		}
		for j := range m.A {
			if m.A[j] != a.Modules[i].A[j] {
				t.Fatalf("%s: A[%d] changed in the round trip", m.Name, j)
			}
		}
	}
}

func TestBadAdapters(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{"peft_type": "LORA"}`, "r is missing"},
		{`{"peft_type": "IA3", "r": 8}`, "peft_type"},
		{`{"peft_type": "LORA", "r": 8}`, "target_modules is missing"},
		{`{"peft_type": "LORA", "r": 8, "target_modules": ["q_proj"], "use_dora": true}`, "use_dora"},
		{`{"peft_type": "LORA", "r": 8, "target_modules": ["q_proj"], "bias": "all"}`, "bias"},
		{`{"peft_type": "LORA", "r": 8, "target_modules": ["q_proj"], "modules_to_save": ["lm_head"]}`, "modules_to_save"},
		{`{"peft_type": "LORA", "r": 8, "target_modules": ["q_proj"], "rank_pattern": {"q_proj": 2.5}}`, "rank_pattern"},
		{`{"peft_type": "LORA", "r": 8, "target_modules": ["q_proj"], "rank_pattern": {"(": 2}}`, "not a valid pattern"},
		{`{"peft_type": "LORA", "r": -1, "target_modules": ["q_proj"]}`, "out of range"},
		{`not json`, "not a JSON object"},
	} {
		if _, err := lora.ParseConfig([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%s) = %v, want an error mentioning %q", tc.doc, err, tc.want)
		}
	}

	// A folder whose weights disagree with its config names the weights file.
	src := goldenAdapters(t)[0]
	dir := t.TempDir()
	cfg, _ := os.ReadFile(filepath.Join(src, "adapter_config.json"))
	wrong := bytes.Replace(cfg, []byte(`"r": 8`), []byte(`"r": 4`), 1)
	os.WriteFile(filepath.Join(dir, "adapter_config.json"), wrong, 0o644)
	w, _ := os.ReadFile(filepath.Join(src, "adapter_model.safetensors"))
	os.WriteFile(filepath.Join(dir, "adapter_model.safetensors"), w, 0o644)
	if _, err := lora.Load(dir); err == nil || !strings.Contains(err.Error(), "adapter_model.safetensors") || !strings.Contains(err.Error(), "rank") {
		t.Errorf("rank mismatch error = %v", err)
	}
	os.WriteFile(filepath.Join(dir, "adapter_model.safetensors"), w[:len(w)/2], 0o644)
	os.WriteFile(filepath.Join(dir, "adapter_config.json"), cfg, 0o644)
	if _, err := lora.Load(dir); err == nil || !strings.Contains(err.Error(), "adapter_model.safetensors") {
		t.Errorf("truncated weights error = %v", err)
	}
	os.Remove(filepath.Join(dir, "adapter_config.json"))
	if _, err := lora.Load(dir); err == nil || !strings.Contains(err.Error(), "adapter_config.json") {
		t.Errorf("missing config error = %v", err)
	}
}
