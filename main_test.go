package main

import (
	"bytes"
	"os"
	"path/filepath"
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
