package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"seal/internal/shareddata"
)

// goldenChat is the "chat" part of a tokenizer_<name>_*.json golden made with transformers'
// apply_chat_template(messages, tokenize=False) and tokenizer.encode(rendered, add_special_tokens=False).
type goldenChat struct {
	Tokenizer string `json:"tokenizer"`
	Chat      []struct {
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
		AddGenerationPrompt bool   `json:"add_generation_prompt"`
		Rendered            string `json:"rendered"`
		IDs                 []int  `json:"ids"`
	} `json:"chat"`
}

func TestChatTemplateGoldens(t *testing.T) {
	golden, err := shareddata.Golden()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(golden, "tokenizer_*_*.json"))
	if len(files) == 0 {
		t.Fatalf("no tokenizer_*_*.json goldens in %s", golden)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var g goldenChat
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(g.Chat) == 0 {
				t.Skipf("%s has no chat cases", f)
			}
			dir := shareddata.PathOrSkip(t, "data", "tokenizers", g.Tokenizer)
			cfg, err := LoadConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			tmpl, err := cfg.Template()
			if err != nil {
				t.Fatalf("%s: %v", dir, err)
			}
			tok, err := Load(filepath.Join(dir, "tokenizer.json"))
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range g.Chat {
				msgs := make([]Message, len(c.Messages))
				for j, m := range c.Messages {
					msgs[j] = Message{Role: m.Role, Content: m.Content}
				}
				got, err := tmpl.Render(msgs, RenderOptions{AddGenerationPrompt: c.AddGenerationPrompt})
				if err != nil {
					t.Fatalf("case %d: %v", i, err)
				}
				if got != c.Rendered {
					t.Errorf("case %d render:\n got %q\nwant %q", i, got, c.Rendered)
					continue
				}
				ids := tok.Encode(got)
				if !equalInts(ids, c.IDs) {
					t.Errorf("case %d ids:\n got %v\nwant %v", i, ids, c.IDs)
				}
				t.Logf("%s chat case %d (%d messages, add_generation_prompt=%v): render and %d ids match", g.Tokenizer, i, len(msgs), c.AddGenerationPrompt, len(ids))
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseConfigShapes(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{
		"bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
		"eos_token": "</s>", "pad_token": null, "add_bos_token": true,
		"clean_up_tokenization_spaces": false, "model_max_length": 1000000000000000019884624838656,
		"chat_template": [{"name": "default", "template": "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}"},
		                  {"name": "tool_use", "template": "tools"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BOSToken != "<s>" || cfg.EOSToken != "</s>" || cfg.PadToken != "" {
		t.Errorf("special tokens: %+v", cfg)
	}
	if cfg.AddBOS == nil || !*cfg.AddBOS || cfg.AddEOS != nil {
		t.Errorf("add_bos/add_eos: %v %v", cfg.AddBOS, cfg.AddEOS)
	}
	if cfg.ModelMaxLength != 0 {
		t.Errorf("model_max_length 1e30 should read as no limit, got %d", cfg.ModelMaxLength)
	}
	if len(cfg.NamedTemplates) != 2 || cfg.NamedTemplates["tool_use"] != "tools" {
		t.Errorf("named templates: %v", cfg.NamedTemplates)
	}
	tmpl, err := cfg.Template()
	if err != nil {
		t.Fatal(err)
	}
	out, err := tmpl.Render([]Message{{Role: "user", Content: "a"}, {Role: "assistant", Content: "b"}}, RenderOptions{})
	if err != nil || out != "<s>ab" {
		t.Errorf("render = %q, %v", out, err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`[1,2]`, "not a JSON object"},
		{`{"bos_token": 5}`, "bos_token"},
		{`{"eos_token": {"lstrip": true}}`, "eos_token"},
		{`{"add_bos_token": "yes"}`, "add_bos_token"},
		{`{"chat_template": 7}`, "chat_template"},
		{`{"chat_template": [{"name": "default"}]}`, "lacks a name or a template"},
	} {
		_, err := ParseConfig([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%s) error = %v, want one mentioning %q", tc.doc, err, tc.want)
		}
	}
}

func TestLoadConfigNamesFileAndPrefersJinjaFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "tokenizer_config.json")
	if err := os.WriteFile(bad, []byte(`{"bos_token": `), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(dir); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("truncated config error %v should name %s", err, bad)
	}
	if err := os.WriteFile(bad, []byte(`{"chat_template": "old"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "chat_template.jinja"), []byte("new {{ messages|length }}"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ChatTemplate != "new {{ messages|length }}" || filepath.Base(cfg.ChatTemplateFile) != "chat_template.jinja" {
		t.Errorf("chat_template.jinja should win: %q from %s", cfg.ChatTemplate, cfg.ChatTemplateFile)
	}
	empty, err := LoadConfig(t.TempDir())
	if err != nil {
		t.Fatalf("a folder without tokenizer_config.json is a base model, not an error: %v", err)
	}
	if _, err := empty.Template(); err != ErrNoChatTemplate {
		t.Errorf("Template() on no template = %v, want ErrNoChatTemplate", err)
	}
}

func TestChatTemplateFunctions(t *testing.T) {
	cfg := &Config{BOSToken: "<B>", EOSToken: "<E>", ChatTemplateFile: "test"}
	render := func(src string, msgs []Message, opt RenderOptions) (string, error) {
		tmpl, err := CompileChatTemplate(src, "test.jinja", cfg)
		if err != nil {
			return "", err
		}
		return tmpl.Render(msgs, opt)
	}
	user := []Message{{Role: "user", Content: "hi"}}

	_, err := render(`{% if messages[0].role != 'system' %}{{ raise_exception('System message required') }}{% endif %}`, user, RenderOptions{})
	if err == nil || !strings.Contains(err.Error(), "System message required") || !strings.Contains(err.Error(), "test.jinja") {
		t.Errorf("raise_exception: %v", err)
	}
	out, err := render(`{{ strftime_now('%Y') }}`, user, RenderOptions{})
	if err != nil || out != time.Now().Format("2006") {
		t.Errorf("strftime_now = %q, %v", out, err)
	}
	out, err = render(`{% for t in tools %}{{ t | tojson }}{% endfor %}`, user, RenderOptions{Tools: []any{map[string]any{"name": "f"}}})
	if err != nil || out != `{"name": "f"}` {
		t.Errorf("tojson = %q, %v", out, err)
	}
	out, err = render(`{{ bos_token }}{% for m in messages %}{{ m.role }}:{{ m.content }}{% endfor %}{% if add_generation_prompt %}>{% endif %}{{ eos_token }}`, user, RenderOptions{AddGenerationPrompt: true})
	if err != nil || out != "<B>user:hi><E>" {
		t.Errorf("variables = %q, %v", out, err)
	}
	out, err = render(`{% if enable_thinking is defined and enable_thinking is false %}off{% endif %}{{ messages[0].name }}`,
		[]Message{{Role: "user", Content: "x", Extra: map[string]any{"name": "ann"}}}, RenderOptions{Vars: map[string]any{"enable_thinking": false}})
	if err != nil || out != "offann" {
		t.Errorf("extra vars = %q, %v", out, err)
	}
	// trim_blocks and lstrip_blocks, as transformers sets them.
	out, err = render("{% for m in messages %}\n    {{ m.content }}\n{% endfor %}\n", user, RenderOptions{})
	if err != nil || out != "    hi\n" {
		t.Errorf("trim/lstrip blocks = %q, %v", out, err)
	}
	if _, err := CompileChatTemplate("{% for m in messages %}{{ m.content }", "broken.jinja", cfg); err == nil || !strings.Contains(err.Error(), "broken.jinja") {
		t.Errorf("malformed template error %v should name the file", err)
	}
}
