package llama

import (
	"fmt"
	"path/filepath"
	"sort"

	"seal/models/safetensors"
)

// Checkpoint is a Hugging Face model folder opened for use: its config and its
// weights, memory-mapped and checked against each other. Weights are converted to the
// runtime's types when a network binds them, not here.
type Checkpoint struct {
	Dir     string
	Config  *Config
	Weights *safetensors.Set
}

// OpenCheckpoint opens dir/config.json and the folder's weights (model.safetensors or a
// sharded index). files, when given, names the weight files instead (relative to dir),
// e.g. "model.bf16.safetensors".
func OpenCheckpoint(dir string, files ...string) (*Checkpoint, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	var set *safetensors.Set
	if len(files) == 0 {
		set, err = safetensors.OpenDir(dir)
	} else {
		paths := make([]string, len(files))
		for i, f := range files {
			paths[i] = filepath.Join(dir, f)
		}
		set, err = safetensors.OpenFiles(paths...)
	}
	if err != nil {
		return nil, err
	}
	if err := ValidateTensors(cfg, setSource{set}); err != nil {
		set.Close()
		return nil, fmt.Errorf("model %s: weights do not match config.json: %w", dir, err)
	}
	return &Checkpoint{Dir: dir, Config: cfg, Weights: set}, nil
}

// Close unmaps the weight files.
func (c *Checkpoint) Close() error { return c.Weights.Close() }

// DTypes counts the stored tensors by dtype, for summaries.
func (c *Checkpoint) DTypes() map[string]int {
	out := map[string]int{}
	for _, n := range c.Weights.Names() {
		if info, ok := c.Weights.Info(n); ok {
			out[string(info.DType)]++
		}
	}
	return out
}

// WeightBytes is the stored size of all tensors.
func (c *Checkpoint) WeightBytes() int64 {
	var n int64
	for _, name := range c.Weights.Names() {
		if info, ok := c.Weights.Info(name); ok {
			n += info.End - info.Begin
		}
	}
	return n
}

// setSource lets ValidateTensors read a safetensors.Set without knowing the package.
type setSource struct{ s *safetensors.Set }

func (s setSource) Names() []string {
	n := s.s.Names()
	sort.Strings(n)
	return n
}

func (s setSource) Shape(name string) ([]int, string, bool) {
	info, ok := s.s.Info(name)
	if !ok {
		return nil, "", false
	}
	return info.Shape, string(info.DType), true
}
