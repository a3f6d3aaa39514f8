package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"seal/models/lora"
	"seal/models/sidefile"
)

// ModelVersion names a model by content: the base folder's hash and, in order, the
// hashes of the adapters merged on top of it (the policy updates a run has applied).
// Two processes holding the same version hold the same weights.
type ModelVersion struct {
	Base     string   `json:"base"`
	Adapters []string `json:"adapters,omitempty"`
}

// With is the version after merging one more adapter.
func (v ModelVersion) With(adapter string) ModelVersion {
	return ModelVersion{Base: v.Base, Adapters: append(slices.Clip(v.Adapters), adapter)}
}

// Extends reports whether v is prev with zero or more adapters merged on top, and
// returns those adapters.
func (v ModelVersion) Extends(prev ModelVersion) ([]string, bool) {
	if v.Base != prev.Base || len(v.Adapters) < len(prev.Adapters) || !slices.Equal(v.Adapters[:len(prev.Adapters)], prev.Adapters) {
		return nil, false
	}
	return v.Adapters[len(prev.Adapters):], true
}

func (v ModelVersion) String() string {
	s := short(v.Base)
	for _, a := range v.Adapters {
		s += "+" + short(a)
	}
	return s
}

func short(h string) string { return h[:min(len(h), 12)] }

// ModelFiles are the files of a model folder that its hash covers, in hash order:
// config.json, the safetensors files by name, tokenizer.json, and tokenizer_config.json
// when present (the EOS token and chat template change what a model does).
func ModelFiles(dir string) ([]string, error) {
	st, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil {
		return nil, err
	}
	if len(st) == 0 {
		return nil, fmt.Errorf("model %s: no *.safetensors files", dir)
	}
	names := []string{"config.json"}
	for _, p := range st {
		names = append(names, filepath.Base(p))
	}
	slices.Sort(names[1:])
	names = append(names, "tokenizer.json")
	if _, err := os.Stat(filepath.Join(dir, "tokenizer_config.json")); err == nil {
		names = append(names, "tokenizer_config.json")
	}
	return names, nil
}

// hashSidecar caches a folder's hash beside it, keyed by its files' sizes and
// modification times, so a multi-gigabyte model is hashed once, not at every start.
const hashSidecar = ".seal-model-hash.json"

type sidecar struct {
	Files []string `json:"files"` // "name size mtime-ns"
	Hash  string   `json:"hash"`
}

// ModelHash is the content hash of a model folder: SHA-256 over each covered file's
// name, size and bytes. A cached value is used only when no file changed size or time.
func ModelHash(dir string) (string, error) { return modelHash(dir, true) }

// VerifyModelHash is ModelHash computed from the bytes, never from the cache (whose
// size-and-time key a rewrite that keeps both would fool); it refreshes the cache.
func VerifyModelHash(dir string) (string, error) { return modelHash(dir, false) }

func modelHash(dir string, useCache bool) (string, error) {
	names, err := ModelFiles(dir)
	if err != nil {
		return "", err
	}
	var key []string
	for _, n := range names {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			return "", fmt.Errorf("model %s: %w", dir, err)
		}
		key = append(key, fmt.Sprintf("%s %d %d", n, st.Size(), st.ModTime().UnixNano()))
	}
	var cached sidecar
	if useCache {
		// Bounded: the sidecar sits in a folder the user hands us, and may be anything.
		if b, err := sidefile.ReadFile(filepath.Join(dir, hashSidecar), sidefile.ConfigJSON); err == nil &&
			json.Unmarshal(b, &cached) == nil && slices.Equal(cached.Files, key) && len(cached.Hash) == 64 {
			return cached.Hash, nil
		}
	}
	h := sha256.New()
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			return "", fmt.Errorf("model %s: %w", dir, err)
		}
		st, _ := f.Stat()
		fmt.Fprintf(h, "%s\x00%d\x00", n, st.Size())
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("model %s: %s: %w", dir, n, err)
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if b, err := json.Marshal(sidecar{Files: key, Hash: sum}); err == nil {
		// A read-only model folder is fine: the hash is then computed at each start.
		tmp := filepath.Join(dir, hashSidecar+".tmp")
		if os.WriteFile(tmp, b, 0o644) == nil {
			os.Rename(tmp, filepath.Join(dir, hashSidecar))
		}
	}
	return sum, nil
}

// AdapterHash is the content hash of a saved adapter: SHA-256 of its weights file, as
// the store records it for policy updates and continual steps.
func AdapterHash(dir string) (string, error) {
	return hashFile(filepath.Join(dir, "adapter_model.safetensors"))
}

// loadCheckedAdapter loads the adapter saved in dir after checking that its weights
// hash to want: nothing is trusted by name alone.
func loadCheckedAdapter(dir, want string) (*lora.Adapter, error) {
	got, err := AdapterHash(dir)
	if err != nil {
		return nil, err
	}
	if got != want {
		return nil, fmt.Errorf("saved adapter %s has hash %s, the store recorded %s", dir, got, want)
	}
	return lora.Load(dir)
}

// ValidHash reports whether s looks like a SHA-256 hex digest (it names files and
// objects, so nothing else may pass).
func ValidHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}
