// Package lora holds low-rank adapters: their PEFT-format files, which modules they
// target, and their rank and scale per module.
package lora

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
)

// Pattern is one rank_pattern/alpha_pattern entry. PEFT takes the first key that
// matches in file order, so the order is kept.
type Pattern struct {
	Key   string
	Value float64
	re    *regexp.Regexp
}

// Config is adapter_config.json: what PEFT needs to rebuild the adapter.
type Config struct {
	Rank          int
	Alpha         float64
	Dropout       float64
	TargetModules []string // module-name suffixes, e.g. "q_proj"
	TargetRegex   string   // when target_modules is a string, PEFT full-matches it
	RankPattern   []Pattern
	AlphaPattern  []Pattern
	UseRSLoRA     bool  // scale = alpha/sqrt(r) instead of alpha/r
	Layers        []int // layers_to_transform; nil means all
	BaseModel     string

	// raw keeps every field read, so a saved config round-trips the ones we do not use.
	raw map[string]json.RawMessage
}

// ParseConfig decodes adapter_config.json and refuses adapters this runtime cannot
// apply exactly (DoRA, biases, modules_to_save, fan_in_fan_out), naming the field.
func ParseConfig(data []byte) (*Config, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	c := &Config{raw: raw}
	var peftType string
	if err := field(raw, "peft_type", &peftType); err != nil {
		return nil, err
	}
	if peftType != "LORA" {
		return nil, fmt.Errorf("peft_type %q is not supported (only LORA)", peftType)
	}
	if err := field(raw, "r", &c.Rank); err != nil {
		return nil, err
	}
	if c.Rank <= 0 || c.Rank > 1<<16 {
		return nil, fmt.Errorf("r = %d is out of range", c.Rank)
	}
	c.Alpha = 8 // PEFT's default
	if err := optional(raw, "lora_alpha", &c.Alpha); err != nil {
		return nil, err
	}
	if err := optional(raw, "lora_dropout", &c.Dropout); err != nil {
		return nil, err
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		return nil, fmt.Errorf("lora_dropout = %g is out of range [0, 1)", c.Dropout)
	}
	if err := optional(raw, "use_rslora", &c.UseRSLoRA); err != nil {
		return nil, err
	}
	if err := optional(raw, "base_model_name_or_path", &c.BaseModel); err != nil {
		return nil, err
	}
	if err := c.parseTargets(raw["target_modules"]); err != nil {
		return nil, err
	}
	if err := c.parseLayers(raw["layers_to_transform"]); err != nil {
		return nil, err
	}
	var err error
	if c.RankPattern, err = parsePatterns(raw["rank_pattern"], "rank_pattern"); err != nil {
		return nil, err
	}
	if c.AlphaPattern, err = parsePatterns(raw["alpha_pattern"], "alpha_pattern"); err != nil {
		return nil, err
	}
	for _, p := range c.RankPattern {
		if p.Value < 1 || p.Value != math.Trunc(p.Value) {
			return nil, fmt.Errorf("rank_pattern[%q] = %g is not a positive integer", p.Key, p.Value)
		}
	}
	return c, c.refuseUnsupported(raw)
}

func (c *Config) refuseUnsupported(raw map[string]json.RawMessage) error {
	var b bool
	for _, k := range []string{"use_dora", "fan_in_fan_out", "use_qalora"} {
		if err := optional(raw, k, &b); err != nil {
			return err
		}
		if b {
			return fmt.Errorf("%s = true is not supported", k)
		}
	}
	var bias string
	if err := optional(raw, "bias", &bias); err != nil {
		return err
	}
	if bias != "" && bias != "none" {
		return fmt.Errorf("bias = %q is not supported (only \"none\")", bias)
	}
	for _, k := range []string{"modules_to_save", "layer_replication", "trainable_token_indices", "target_parameters"} {
		if v, ok := raw[k]; ok && !isEmptyJSON(v) {
			return fmt.Errorf("%s = %s is not supported", k, clip(v))
		}
	}
	return nil
}

func (c *Config) parseTargets(v json.RawMessage) error {
	if isEmptyJSON(v) {
		return fmt.Errorf("target_modules is missing")
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if s == "all-linear" {
			c.TargetModules = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
			return nil
		}
		if _, err := regexp.Compile("^(?:" + s + ")$"); err != nil {
			return fmt.Errorf("target_modules regex %q: %w", s, err)
		}
		c.TargetRegex = s
		return nil
	}
	if err := json.Unmarshal(v, &c.TargetModules); err != nil || len(c.TargetModules) == 0 {
		return fmt.Errorf("target_modules: want a non-empty list of names or a regex string, got %s", clip(v))
	}
	return nil
}

func (c *Config) parseLayers(v json.RawMessage) error {
	if isEmptyJSON(v) {
		return nil
	}
	var one int
	if err := json.Unmarshal(v, &one); err == nil {
		c.Layers = []int{one}
		return nil
	}
	if err := json.Unmarshal(v, &c.Layers); err != nil {
		return fmt.Errorf("layers_to_transform: want an integer or a list, got %s", clip(v))
	}
	return nil
}

// parsePatterns reads a {key: number} object keeping the file's key order.
func parsePatterns(v json.RawMessage, name string) ([]Pattern, error) {
	if isEmptyJSON(v) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("%s: want an object, got %s", name, clip(v))
	}
	var out []Pattern
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		key, _ := t.(string)
		var val float64
		if err := dec.Decode(&val); err != nil {
			return nil, fmt.Errorf("%s[%q]: want a number: %w", name, key, err)
		}
		// PEFT: the key matches a module whose dotted name ends with it.
		re, err := regexp.Compile(`^(?:.*\.)?(?:` + key + `)$`)
		if err != nil {
			return nil, fmt.Errorf("%s key %q is not a valid pattern: %w", name, key, err)
		}
		out = append(out, Pattern{Key: key, Value: val, re: re})
	}
	return out, nil
}

// Targets reports whether the module with this dotted name (e.g.
// "model.layers.3.self_attn.q_proj") gets an adapter.
func (c *Config) Targets(module string, layer int) bool {
	if c.Layers != nil && !slices.Contains(c.Layers, layer) {
		return false
	}
	if c.TargetRegex != "" {
		ok, _ := regexp.MatchString("^(?:"+c.TargetRegex+")$", module)
		return ok
	}
	for _, t := range c.TargetModules {
		if module == t || strings.HasSuffix(module, "."+t) {
			return true
		}
	}
	return false
}

// RankFor and AlphaFor apply rank_pattern and alpha_pattern as PEFT does.
func (c *Config) RankFor(module string) int {
	if v, ok := match(c.RankPattern, module); ok {
		return int(v)
	}
	return c.Rank
}

func (c *Config) AlphaFor(module string) float64 {
	if v, ok := match(c.AlphaPattern, module); ok {
		return v
	}
	return c.Alpha
}

// Scale is the factor on B·A for a module: alpha/r, or alpha/sqrt(r) with rsLoRA.
func (c *Config) Scale(module string) float64 {
	r := float64(c.RankFor(module))
	if c.UseRSLoRA {
		return c.AlphaFor(module) / math.Sqrt(r)
	}
	return c.AlphaFor(module) / r
}

func match(ps []Pattern, module string) (float64, bool) {
	for _, p := range ps {
		if p.re.MatchString(module) {
			return p.Value, true
		}
	}
	return 0, false
}

// MarshalJSON writes the config PEFT loads; fields read from a file and not owned
// here are written back unchanged.
func (c *Config) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	for k, v := range c.raw {
		out[k] = v
	}
	patterns := func(ps []Pattern) json.RawMessage {
		var b bytes.Buffer
		b.WriteByte('{')
		for i, p := range ps {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(p.Key)
			v, _ := json.Marshal(p.Value)
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
		return b.Bytes()
	}
	var targets any = c.TargetModules
	if c.TargetRegex != "" {
		targets = c.TargetRegex
	}
	var layers any
	if c.Layers != nil {
		layers = c.Layers
	}
	for k, v := range map[string]any{
		"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": c.Rank, "lora_alpha": c.Alpha,
		"lora_dropout": c.Dropout, "target_modules": targets, "rank_pattern": patterns(c.RankPattern),
		"alpha_pattern": patterns(c.AlphaPattern), "use_rslora": c.UseRSLoRA, "use_dora": false,
		"bias": "none", "fan_in_fan_out": false, "layers_to_transform": layers,
		"base_model_name_or_path": c.BaseModel, "modules_to_save": nil,
	} {
		out[k] = v
	}
	if _, ok := out["inference_mode"]; !ok {
		out["inference_mode"] = true
		out["init_lora_weights"] = true
	}
	return json.MarshalIndent(out, "", "  ")
}

func field(raw map[string]json.RawMessage, key string, dst any) error {
	v, ok := raw[key]
	if !ok || string(v) == "null" {
		return fmt.Errorf("%s is missing", key)
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

func optional(raw map[string]json.RawMessage, key string, dst any) error {
	if v, ok := raw[key]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return nil
}

func isEmptyJSON(v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	return s == "" || s == "null" || s == "{}" || s == "[]"
}

func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}
