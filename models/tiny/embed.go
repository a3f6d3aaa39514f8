package tiny

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"seal/models/internal/atomicfile"
)

// The default model: pretrained by `seal pretrain` (seed 1, default recipe) and
// shipped with Ship. See README "The embedded default".
//
//go:embed default
var defaultFS embed.FS

// Files lists the embedded default model's files.
func Files() (fs.FS, error) { return fs.Sub(defaultFS, "default") }

// Dir returns a folder holding the embedded default model. It is written once into the
// user's cache folder, named by the content hash, so it is memory-mapped like any
// checkpoint and a new build with other weights never reads stale files.
func Dir() (string, error) {
	files, err := Files()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	names := []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}
	contents := map[string][]byte{}
	for _, n := range names {
		b, err := fs.ReadFile(files, n)
		if err != nil {
			return "", fmt.Errorf("embedded default model: %w", err)
		}
		contents[n] = b
		h.Write([]byte(n))
		h.Write(b)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "seal", "tiny-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Each file is written beside its target and renamed over it: another process may
	// already have the folder's weights memory-mapped (it found the marker between our
	// check and our write), and a file rewritten in place would change under it.
	for _, n := range names {
		if err := atomicfile.Write(filepath.Join(dir, n), func(w io.Writer) error {
			_, err := w.Write(contents[n])
			return err
		}); err != nil {
			return "", err
		}
	}
	// Written last: a folder without it was interrupted and is written again.
	return dir, os.WriteFile(filepath.Join(dir, "complete"), nil, 0o644)
}
