package main

import (
	"fmt"

	"bytes"
	"os"
	"path/filepath"
	"seal/models/tokenizer"
	"strings"
	"testing"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{nil, {"--help"}, {"help"}} {
		code, out, _ := runCmd(args...)
		if code != 0 || !strings.Contains(out, "inspect DIR") {
			t.Errorf("seal %v: code %d, output %q", args, code, out)
		}
	}
	if code, _, errOut := runCmd("frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: code %d, %q", code, errOut)
	}
}

func TestInspectGoldenFolders(t *testing.T) {
	golden := sharedPath(t, "data", "golden")
	models, _ := filepath.Glob(filepath.Join(golden, "*", "config.json"))
	if len(models) == 0 {
		t.Fatalf("no model folders in %s", golden)
	}
	for _, cfg := range models {
		dir := filepath.Dir(cfg)
		code, out, errOut := runCmd("inspect", dir, filepath.Join(dir, "adapter"))
		if code != 0 {
			t.Fatalf("inspect %s: %s", dir, errOut)
		}
		for _, want := range []string{"architecture", "parameters", "F32 x", "tokenizer      none", "adapter        PEFT LoRA, r 8", "targets"} {
			if !strings.Contains(out, want) {
				t.Errorf("inspect %s lacks %q:\n%s", dir, want, out)
			}
		}
		code, out, errOut = runCmd("inspect", "--weights", "model.bf16.safetensors", dir)
		if code != 0 || !strings.Contains(out, "BF16 x") {
			t.Errorf("inspect --weights bf16 %s: %d %s %s", dir, code, out, errOut)
		}
		t.Logf("inspected %s", dir)
	}
	tokDir := sharedPath(t, "data", "tokenizers", "qwen3")
	code, out, errOut := runCmd("inspect", tokDir)
	if code != 0 || !strings.Contains(out, "chat template  present") || !strings.Contains(out, `eos "<|im_end|>"`) {
		t.Errorf("inspect tokenizer folder: %d\n%s\n%s", code, out, errOut)
	}
}

func TestInspectBadInput(t *testing.T) {
	empty := t.TempDir()
	if code, _, errOut := runCmd("inspect", empty); code != 1 || !strings.Contains(errOut, "holds no config.json") {
		t.Errorf("empty folder: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd("inspect", filepath.Join(empty, "nope")); code != 1 || !strings.Contains(errOut, "nope") {
		t.Errorf("missing folder: %d %q", code, errOut)
	}
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "config.json"), []byte(`{"architectures": ["LlamaForCausalLM"], "vocab_size": `), 0o644)
	if code, _, errOut := runCmd("inspect", broken); code != 1 || !strings.Contains(errOut, filepath.Join(broken, "config.json")) {
		t.Errorf("truncated config.json: %d %q", code, errOut)
	}
	if code, _, _ := runCmd("inspect"); code != 2 {
		t.Errorf("inspect with no folder should be a usage error, got %d", code)
	}
}

// sharedPath finds reference data in ../shared beside the repository (tests run in the
// repository root here), or where SEAL_SHARED_DIR points.
func sharedPath(t *testing.T, elem ...string) string {
	t.Helper()
	root := os.Getenv("SEAL_SHARED_DIR")
	if root == "" {
		root = filepath.Join("..", "shared")
	}
	if len(elem) >= 2 && elem[1] == "golden" && os.Getenv("SEAL_GOLDEN_DIR") != "" {
		return os.Getenv("SEAL_GOLDEN_DIR")
	}
	p := filepath.Join(append([]string{root}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("reference data missing (clone with ../shared beside the repository): %v", err)
	}
	return p
}

// byteLevel is GPT-2's bytes_to_unicode: the printable stand-in for each byte that
// byte-level BPE vocabularies are written in.
func byteLevel() []string {
	var out [256]string
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			out[b] = string(rune(b))
		} else {
			out[b] = string(rune(256 + n))
			n++
		}
	}
	return out[:]
}

// modelFolder makes a complete model folder from the golden tiny Llama: its config and
// weights, plus a tokenizer the test builds (256 bytes + 256 added tokens, so every id of
// the 512-token vocabulary decodes) and a chat template.
func modelFolder(t *testing.T) string {
	t.Helper()
	src := filepath.Join(sharedPath(t, "data", "golden"), "llama32_tiny")
	dir := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	vocab := map[string]int{}
	for i, s := range byteLevel() {
		vocab[s] = i
	}
	var added []tokenizer.AddedToken
	for id := 256; id < 512; id++ {
		added = append(added, tokenizer.AddedToken{ID: id, Content: fmt.Sprintf("<t%d>", id), Special: id < 260})
	}
	tok, err := tokenizer.New(vocab, nil, added, tokenizer.Options{Pattern: tokenizer.PatternLlama3})
	if err != nil {
		t.Fatal(err)
	}
	js, err := tok.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), js, 0o644)
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"eos_token": "<t257>",
		"chat_template": "{% for m in messages %}<t300>{{ m.role }}:{{ m.content }}{% endfor %}{% if add_generation_prompt %}<t301>{% endif %}"}`), 0o644)
	return dir
}

func TestGenerateCommand(t *testing.T) {
	dir := modelFolder(t)
	code, out, errOut := runCmd("generate", "--model", dir, "--prompt", "hello", "--max-tokens", "8")
	// "<t300>" + "user:hello" (10 bytes) + "<t301>": 12 prompt tokens through the template.
	if code != 0 || !strings.Contains(errOut, "[12 prompt tokens, 8 new, length]") || len(strings.TrimSpace(out)) == 0 {
		t.Fatalf("generate: code %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	code, out2, errOut := runCmd("generate", "--model", dir, "--prompt", "hello", "--max-tokens", "8")
	if code != 0 || out2 != out {
		t.Errorf("greedy generation is not repeatable: %q vs %q (%s)", out, out2, errOut)
	}
	code, _, errOut = runCmd("generate", "--model", dir, "--prompt", "hello", "--raw", "--max-tokens", "3")
	if code != 0 || !strings.Contains(errOut, "[5 prompt tokens, 3 new") {
		t.Errorf("raw prompt: code %d, %q", code, errOut)
	}
	code, out, errOut = runCmd("generate", "--model", dir, "--prompt", "hi", "--n", "3", "--temperature", "1", "--top-p", "0.9", "--seed", "4", "--max-tokens", "6")
	if code != 0 || strings.Count(out, "--- candidate") != 3 {
		t.Errorf("3 candidates: code %d\n%s\n%s", code, out, errOut)
	}
	os.Remove(filepath.Join(dir, "tokenizer.json"))
	code, _, errOut = runCmd("generate", "--model", dir, "--prompt", "hi")
	if code != 1 || !strings.Contains(errOut, "tokenizer.json") {
		t.Errorf("missing tokenizer: code %d, %q", code, errOut)
	}
	if code, _, _ := runCmd("generate", "--prompt", "hi"); code != 2 {
		t.Errorf("generate without --model must be a usage error, got %d", code)
	}
}

// TestBenchCommandRuns runs `seal bench --quick --skip-1b` for its output shape only:
// speed targets live in the figures it prints, never in a timed test.
func TestBenchCommandRuns(t *testing.T) {
	code, out, errOut := runCmd("bench", "--quick", "--skip-1b")
	if code != 0 {
		t.Fatalf("bench: code %d, %s", code, errOut)
	}
	for _, want := range []string{"matmul (GFLOP/s", "1024x1024x1024", "memory bandwidth", "decode batch 1", "decode batch 5", "LoRA training", "peak memory"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench output lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := runCmd("bench", "--device", "tpu"); code != 2 {
		t.Errorf("unknown device must be a usage error, got %d", code)
	}
}
