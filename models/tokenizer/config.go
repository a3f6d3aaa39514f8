package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"seal/models/sidefile"
)

// Config is what tokenizer_config.json says about a tokenizer beyond tokenizer.json:
// the names of its special tokens, whether BOS/EOS are added, and the chat template.
type Config struct {
	BOSToken string // "" when the model has none
	EOSToken string
	PadToken string
	UnkToken string

	// AddBOS and AddEOS are nil when the file does not say (tokenizer.json's
	// post-processor then decides).
	AddBOS *bool
	AddEOS *bool

	CleanUpTokenizationSpaces bool
	ModelMaxLength            int64 // 0 when absent or absurd (HF writes 1e30 for "no limit")
	TokenizerClass            string

	// ChatTemplate is the default template; NamedTemplates holds every named one
	// when the file lists several (e.g. "default", "tool_use").
	ChatTemplate   string
	NamedTemplates map[string]string
	// ChatTemplateFile is the file the default template came from.
	ChatTemplateFile string
}

// LoadConfig reads tokenizer_config.json from dir. A chat_template.jinja file beside it
// (newer transformers save the template there) takes precedence, as in transformers.
// A missing tokenizer_config.json is not an error: base models often lack one.
func LoadConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, "tokenizer_config.json")
	cfg := &Config{}
	data, err := sidefile.ReadFile(path, sidefile.TokenizerConfigJSON)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("tokenizer config: %w", err)
	default:
		cfg, err = ParseConfig(data)
		if err != nil {
			return nil, fmt.Errorf("tokenizer config %s: %w", path, err)
		}
		if cfg.ChatTemplate != "" {
			cfg.ChatTemplateFile = path
		}
	}
	jinjaPath := filepath.Join(dir, "chat_template.jinja")
	if b, err := sidefile.ReadFile(jinjaPath, sidefile.ChatTemplate); err == nil {
		cfg.ChatTemplate = string(b)
		cfg.ChatTemplateFile = jinjaPath
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("chat template: %w", err)
	}
	return cfg, nil
}

// ParseConfig decodes the bytes of a tokenizer_config.json.
func ParseConfig(data []byte) (*Config, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	cfg := &Config{}
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{{"bos_token", &cfg.BOSToken}, {"eos_token", &cfg.EOSToken}, {"pad_token", &cfg.PadToken}, {"unk_token", &cfg.UnkToken}} {
		if *f.dst, err = tokenField(raw[f.key]); err != nil {
			return nil, fmt.Errorf("%s: %w", f.key, err)
		}
	}
	for _, f := range []struct {
		key string
		dst **bool
	}{{"add_bos_token", &cfg.AddBOS}, {"add_eos_token", &cfg.AddEOS}} {
		if v, ok := raw[f.key]; ok && string(v) != "null" {
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return nil, fmt.Errorf("%s: want true or false, got %s", f.key, clip(v))
			}
			*f.dst = &b
		}
	}
	if v, ok := raw["clean_up_tokenization_spaces"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &cfg.CleanUpTokenizationSpaces); err != nil {
			return nil, fmt.Errorf("clean_up_tokenization_spaces: want true or false, got %s", clip(v))
		}
	}
	if v, ok := raw["model_max_length"]; ok {
		var f float64
		if err := json.Unmarshal(v, &f); err == nil && f > 0 && f < 1<<40 {
			cfg.ModelMaxLength = int64(f)
		}
	}
	if v, ok := raw["tokenizer_class"]; ok {
		_ = json.Unmarshal(v, &cfg.TokenizerClass) // informational only
	}
	if v, ok := raw["chat_template"]; ok && string(v) != "null" {
		if err := cfg.parseTemplates(v); err != nil {
			return nil, fmt.Errorf("chat_template: %w", err)
		}
	}
	return cfg, nil
}

// parseTemplates accepts the two shapes transformers writes: one string, or a list
// of {"name", "template"} where "default" is the one apply_chat_template uses.
func (c *Config) parseTemplates(v json.RawMessage) error {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		c.ChatTemplate = s
		return nil
	}
	var list []struct {
		Name     string  `json:"name"`
		Template *string `json:"template"`
	}
	if err := json.Unmarshal(v, &list); err != nil {
		return fmt.Errorf("want a string or a list of {name, template}, got %s", clip(v))
	}
	c.NamedTemplates = map[string]string{}
	for i, t := range list {
		if t.Name == "" || t.Template == nil {
			return fmt.Errorf("entry %d lacks a name or a template", i)
		}
		c.NamedTemplates[t.Name] = *t.Template
	}
	c.ChatTemplate = c.NamedTemplates["default"]
	return nil
}

// tokenField reads a special-token entry: a string, null, or an AddedToken object
// {"content": "...", ...} as older transformers wrote them.
func tokenField(v json.RawMessage) (string, error) {
	if len(v) == 0 || string(v) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(v, &obj); err != nil || obj.Content == nil {
		return "", fmt.Errorf("want a string or {\"content\": ...}, got %s", clip(v))
	}
	return *obj.Content, nil
}

func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

// StopIDs is what generation stops at: the model's EOS ids (config.json's
// eos_token_id, given as modelEOS) and this config's eos_token when the tokenizer knows
// it. Instruct models often name their end-of-turn token only here.
func (c *Config) StopIDs(t *Tokenizer, modelEOS []int) []int32 {
	var out []int32
	for _, id := range modelEOS {
		out = append(out, int32(id))
	}
	if id, ok := t.TokenID(c.EOSToken); ok && c.EOSToken != "" {
		out = append(out, int32(id))
	}
	return out
}
