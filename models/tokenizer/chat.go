package tokenizer

import (
	"errors"
	"fmt"

	"github.com/ardanlabs/jinja"
)

// ErrNoChatTemplate is returned when a model folder has no chat template (base models).
var ErrNoChatTemplate = errors.New("no chat template")

// Message is one turn of a conversation as chat templates see it.
type Message struct {
	Role    string
	Content string
	// Extra carries further fields some templates read (tool_calls, reasoning_content, name).
	Extra map[string]any
}

// RenderOptions are the variables apply_chat_template passes besides the messages.
type RenderOptions struct {
	AddGenerationPrompt bool
	Tools               []any
	// Vars are extra template variables, e.g. enable_thinking for Qwen3.
	Vars map[string]any
}

// ChatTemplate is a compiled chat_template. It renders with the same Jinja semantics
// transformers uses (trim_blocks and lstrip_blocks on, raise_exception, strftime_now,
// tojson, namespace), through github.com/ardanlabs/jinja, a Jinja engine built for
// exactly these templates.
type ChatTemplate struct {
	source string
	file   string
	tmpl   *jinja.Template
	tokens map[string]any // bos_token, eos_token, pad_token, unk_token
}

// CompileChatTemplate compiles source; file names where it came from, for error messages.
func CompileChatTemplate(source, file string, cfg *Config) (*ChatTemplate, error) {
	t, err := jinja.Compile(source)
	if err != nil {
		return nil, fmt.Errorf("chat template %s: %w", file, err)
	}
	tokens := map[string]any{}
	if cfg != nil {
		tokens["bos_token"] = cfg.BOSToken
		tokens["eos_token"] = cfg.EOSToken
		tokens["pad_token"] = cfg.PadToken
		tokens["unk_token"] = cfg.UnkToken
	}
	return &ChatTemplate{source: source, file: file, tmpl: t, tokens: tokens}, nil
}

// Template compiles the config's default chat template.
func (c *Config) Template() (*ChatTemplate, error) {
	if c.ChatTemplate == "" {
		return nil, ErrNoChatTemplate
	}
	return CompileChatTemplate(c.ChatTemplate, c.ChatTemplateFile, c)
}

// Source returns the template text.
func (t *ChatTemplate) Source() string { return t.source }

// Render turns a conversation into the prompt text the model was trained on.
func (t *ChatTemplate) Render(msgs []Message, opt RenderOptions) (string, error) {
	list := make([]any, len(msgs))
	for i, m := range msgs {
		d := make(map[string]any, len(m.Extra)+2)
		for k, v := range m.Extra {
			d[k] = v
		}
		d["role"] = m.Role
		d["content"] = m.Content
		list[i] = d
	}
	vars := make(map[string]any, len(t.tokens)+len(opt.Vars)+3)
	for k, v := range t.tokens {
		vars[k] = v
	}
	for k, v := range opt.Vars {
		vars[k] = v
	}
	vars["messages"] = list
	vars["add_generation_prompt"] = opt.AddGenerationPrompt
	if opt.Tools != nil {
		vars["tools"] = opt.Tools
	}
	out, err := t.tmpl.Render(vars)
	if err != nil {
		return "", fmt.Errorf("chat template %s: %w", t.file, err)
	}
	return out, nil
}
