package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"seal/models/sidefile"
)

// File names Hugging Face uses for a checkpoint folder.
const (
	SingleFileName = "model.safetensors"
	IndexFileName  = "model.safetensors.index.json"
)

// Set is several files seen as one checkpoint: a single model.safetensors,
// or the shards listed by model.safetensors.index.json. Every tensor name
// belongs to exactly one file.
type Set struct {
	label string // folder or index path, for errors
	files []*File
	owner map[string]*File
	names []string
}

// index is model.safetensors.index.json. Its "metadata" holds numbers
// (total_size), so it is kept raw and not interpreted.
type index struct {
	Metadata  map[string]json.RawMessage `json:"metadata"`
	WeightMap map[string]string          `json:"weight_map"`
}

// OpenDir opens the checkpoint in dir. Like transformers, it prefers
// model.safetensors and falls back to the sharded index.
func OpenDir(dir string) (*Set, error) {
	single := filepath.Join(dir, SingleFileName)
	if st, err := os.Stat(single); err == nil && !st.IsDir() {
		return OpenFiles(single)
	}
	idx := filepath.Join(dir, IndexFileName)
	if _, err := os.Stat(idx); err == nil {
		return openIndex(dir, idx)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, &Error{Path: idx, Err: err}
	}
	return nil, &Error{Path: dir, Msg: fmt.Sprintf("neither %s nor %s found", SingleFileName, IndexFileName)}
}

// OpenFiles opens an explicit list of files as one set; a tensor name that
// appears in two of them is an error.
func OpenFiles(paths ...string) (*Set, error) {
	label := ""
	if len(paths) == 1 {
		label = paths[0]
	}
	s := &Set{label: label, owner: map[string]*File{}}
	for _, p := range paths {
		if err := s.add(p); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func openIndex(dir, idxPath string) (*Set, error) {
	raw, err := sidefile.ReadFile(idxPath, sidefile.SafetensorsIndex)
	if err != nil {
		return nil, &Error{Path: idxPath, Err: err}
	}
	var idx index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, &Error{Path: idxPath, Msg: "not a valid index", Err: err}
	}
	if idx.WeightMap == nil {
		return nil, &Error{Path: idxPath, Msg: `index has no "weight_map"`}
	}
	var shards []string
	for name, shard := range idx.WeightMap {
		if !filepath.IsLocal(shard) {
			return nil, &Error{Path: idxPath, Tensor: name, Msg: fmt.Sprintf("shard %q is not a file inside the folder", shard)}
		}
		// "./a" and "a" are one shard; opening it twice would look like
		// every tensor in it being duplicated.
		shard = filepath.Clean(shard)
		idx.WeightMap[name] = shard
		if !slices.Contains(shards, shard) {
			shards = append(shards, shard)
		}
	}
	slices.Sort(shards) // transformers loads shards in sorted order
	s := &Set{label: idxPath, owner: map[string]*File{}}
	for _, shard := range shards {
		if err := s.add(filepath.Join(dir, shard)); err != nil {
			s.Close()
			if errors.Is(err, fs.ErrNotExist) {
				return nil, &Error{Path: idxPath, Msg: fmt.Sprintf("shard %q is missing", shard), Err: err}
			}
			return nil, err
		}
	}
	// Both directions must agree, or the index describes another checkpoint.
	for name, shard := range idx.WeightMap {
		want := filepath.Join(dir, shard)
		f, ok := s.owner[name]
		if !ok {
			s.Close()
			return nil, &Error{Path: idxPath, Tensor: name, Msg: fmt.Sprintf("mapped to shard %q, which does not contain it", shard)}
		}
		if f.Path() != want {
			s.Close()
			return nil, &Error{Path: idxPath, Tensor: name, Msg: fmt.Sprintf("mapped to shard %q but found in %s", shard, f.Path())}
		}
	}
	for _, name := range s.names {
		if _, ok := idx.WeightMap[name]; !ok {
			s.Close()
			return nil, &Error{Path: idxPath, Tensor: name, Msg: fmt.Sprintf("in shard %s but not in the index", s.owner[name].Path())}
		}
	}
	return s, nil
}

// add opens one file and claims its tensor names.
func (s *Set) add(path string) error {
	f, err := Open(path)
	if err != nil {
		return err
	}
	s.files = append(s.files, f)
	for _, name := range f.Names() {
		if other, dup := s.owner[name]; dup {
			return &Error{Path: path, Tensor: name, Msg: "also present in " + other.Path()}
		}
		s.owner[name] = f
		s.names = append(s.names, name)
	}
	return nil
}

// Names lists all tensors: file by file, each in its data order.
func (s *Set) Names() []string { return slices.Clone(s.names) }

// Files lists the paths of the files in the set, in load order.
func (s *Set) Files() []string {
	out := make([]string, len(s.files))
	for i, f := range s.files {
		out[i] = f.Path()
	}
	return out
}

// FileOf returns the file that holds a tensor, for per-file metadata or
// offsets.
func (s *Set) FileOf(name string) (*File, bool) {
	f, ok := s.owner[name]
	return f, ok
}

// Info describes a tensor in whichever file holds it.
func (s *Set) Info(name string) (TensorInfo, bool) {
	f, ok := s.owner[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Info(name)
}

// Raw is File.Raw on the file that holds the tensor.
func (s *Set) Raw(name string) ([]byte, error) {
	f, err := s.find(name)
	if err != nil {
		return nil, err
	}
	return f.Raw(name)
}

// Float32 is File.Float32 on the file that holds the tensor.
func (s *Set) Float32(name string) ([]float32, error) {
	f, err := s.find(name)
	if err != nil {
		return nil, err
	}
	return f.Float32(name)
}

// ReadFloat32 is File.ReadFloat32 on the file that holds the tensor.
func (s *Set) ReadFloat32(name string, dst []float32) error {
	f, err := s.find(name)
	if err != nil {
		return err
	}
	return f.ReadFloat32(name, dst)
}

// Int64 is File.Int64 on the file that holds the tensor.
func (s *Set) Int64(name string) ([]int64, error) {
	f, err := s.find(name)
	if err != nil {
		return nil, err
	}
	return f.Int64(name)
}

// Close closes every file and reports the first error.
func (s *Set) Close() error {
	var first error
	for _, f := range s.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (s *Set) find(name string) (*File, error) {
	f, ok := s.owner[name]
	if !ok {
		return nil, &Error{Path: s.label, Tensor: name, Msg: "no such tensor"}
	}
	return f, nil
}
