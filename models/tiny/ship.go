package tiny

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"seal/models/safetensors"
)

// Ship copies a pretrained model folder into dst for embedding: matrices are rounded
// to bf16 (half the bytes; the runtime computes in f32 from them), norms stay f32, and
// the tokenizer files come along. Training data and checkpoints are left behind.
func Ship(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	f, err := safetensors.Open(filepath.Join(src, "model.safetensors"))
	if err != nil {
		return err
	}
	defer f.Close()
	var ts []safetensors.Tensor
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		v, err := f.Float32(name)
		if err != nil {
			return err
		}
		if len(info.Shape) == 2 {
			ts = append(ts, safetensors.BF16Tensor(name, info.Shape, v))
		} else {
			ts = append(ts, safetensors.F32Tensor(name, info.Shape, v))
		}
	}
	if err := safetensors.WriteFile(filepath.Join(dst, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	var cfg map[string]any
	b, err := os.ReadFile(filepath.Join(src, "config.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(src, "config.json"), err)
	}
	cfg["torch_dtype"] = "bfloat16"
	out, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(filepath.Join(dst, "config.json"), out, 0o644); err != nil {
		return err
	}
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
