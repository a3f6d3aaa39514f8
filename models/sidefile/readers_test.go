package sidefile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seal/models/llama"
	"seal/models/lora"
	"seal/models/safetensors"
	"seal/models/sidefile"
	"seal/models/tokenizer"
)

// Every side-file reader goes through sidefile: a file one byte over its limit (sparse,
// so nothing is written) and /dev/zero are refused with an error naming the file.
func TestEveryReaderIsLimited(t *testing.T) {
	readers := []struct {
		file  string
		limit int64
		read  func(dir string) error
	}{
		{"config.json", sidefile.ConfigJSON, func(d string) error { _, err := llama.LoadConfig(d); return err }},
		{"tokenizer.json", sidefile.TokenizerJSON, func(d string) error { _, err := tokenizer.Load(filepath.Join(d, "tokenizer.json")); return err }},
		{"tokenizer_config.json", sidefile.TokenizerConfigJSON, func(d string) error { _, err := tokenizer.LoadConfig(d); return err }},
		{"chat_template.jinja", sidefile.ChatTemplate, func(d string) error { _, err := tokenizer.LoadConfig(d); return err }},
		{"adapter_config.json", sidefile.ConfigJSON, func(d string) error { _, err := lora.Load(d); return err }},
		{"model.safetensors.index.json", sidefile.SafetensorsIndex, func(d string) error { _, err := safetensors.OpenDir(d); return err }},
	}
	for _, r := range readers {
		t.Run(r.file, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, r.file)
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			if err := os.Truncate(path, r.limit+1); err != nil {
				t.Fatal(err)
			}
			err = r.read(dir)
			var tl *sidefile.TooLarge
			if !errors.As(err, &tl) || !strings.Contains(err.Error(), path) {
				t.Fatalf("limit+1 bytes: got %v, want a TooLarge error naming %s", err, path)
			}
			if _, err := os.Stat("/dev/zero"); err != nil {
				return
			}
			os.Remove(path)
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
			if err := r.read(dir); !errors.Is(err, sidefile.ErrNotRegular) || !strings.Contains(err.Error(), path) {
				t.Fatalf("/dev/zero: got %v, want a not-a-regular-file error naming %s", err, path)
			}
		})
	}
}
