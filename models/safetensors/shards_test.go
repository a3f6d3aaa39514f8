package safetensors

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// shardedModel writes three shards and an index into a fresh folder and
// returns the folder and the weight map it wrote.
func shardedModel(t *testing.T) (string, map[string]string, map[string][]float32) {
	t.Helper()
	dir := t.TempDir()
	values := map[string][]float32{}
	weightMap := map[string]string{}
	shards := [][]string{
		{"model.embed_tokens.weight", "model.layers.0.mlp.up_proj.weight"},
		{"model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.up_proj.weight"},
		{"lm_head.weight", "model.norm.weight"},
	}
	for i, names := range shards {
		shard := "model-0000" + string(rune('1'+i)) + "-of-00003.safetensors"
		var ts []Tensor
		for j, name := range names {
			v := []float32{float32(i), float32(j), float32(i*10 + j)}
			values[name] = v
			weightMap[name] = shard
			ts = append(ts, F32Tensor(name, []int{3}, v))
		}
		if err := WriteFile(filepath.Join(dir, shard), ts, map[string]string{"format": "pt"}); err != nil {
			t.Fatal(err)
		}
	}
	writeIndex(t, dir, weightMap)
	return dir, weightMap, values
}

func writeIndex(t *testing.T, dir string, weightMap map[string]string) {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"metadata":   map[string]any{"total_size": 72},
		"weight_map": weightMap,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, IndexFileName), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenDirSharded(t *testing.T) {
	dir, weightMap, values := shardedModel(t)
	s, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Files()) != 3 || !slices.IsSorted(s.Files()) {
		t.Fatalf("files %v", s.Files())
	}
	names := s.Names()
	if len(names) != len(values) {
		t.Fatalf("names %v", names)
	}
	for name, want := range values {
		got, err := s.Float32(name)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %v %v, want %v", name, got, err, want)
		}
		if info, ok := s.Info(name); !ok || !slices.Equal(info.Shape, []int{3}) {
			t.Errorf("%s: Info %+v", name, info)
		}
		if raw, err := s.Raw(name); err != nil || len(raw) != 12 {
			t.Errorf("%s: Raw %v", name, err)
		}
		dst := make([]float32, 3)
		if err := s.ReadFloat32(name, dst); err != nil || !slices.Equal(dst, want) {
			t.Errorf("%s: ReadFloat32 %v", name, err)
		}
		if f, ok := s.FileOf(name); !ok || filepath.Base(f.Path()) != weightMap[name] {
			t.Errorf("%s: in %v", name, f)
		}
	}
	if _, err := s.Float32("nope"); err == nil || !strings.Contains(err.Error(), `tensor "nope": no such tensor`) {
		t.Errorf("missing tensor: %v", err)
	}
	if _, err := s.Int64(names[0]); err == nil {
		t.Error("Int64 on F32")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestOpenDirShardErrors(t *testing.T) {
	t.Run("index names a missing shard", func(t *testing.T) {
		dir, wm, _ := shardedModel(t)
		wm["extra.weight"] = "model-00004-of-00003.safetensors"
		writeIndex(t, dir, wm)
		_, err := OpenDir(dir)
		if err == nil || !strings.Contains(err.Error(), `shard "model-00004-of-00003.safetensors" is missing`) || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%v", err)
		}
		if !strings.Contains(err.Error(), IndexFileName) {
			t.Fatalf("error does not name the index: %v", err)
		}
	})
	t.Run("same shard spelled two ways", func(t *testing.T) {
		dir, wm, _ := shardedModel(t)
		wm["lm_head.weight"] = "./" + wm["lm_head.weight"]
		writeIndex(t, dir, wm)
		s, err := OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Files()) != 3 {
			t.Fatalf("files %v", s.Files())
		}
		s.Close()
	})
	t.Run("tensor mapped to a shard that lacks it", func(t *testing.T) {
		dir, wm, _ := shardedModel(t)
		wm["ghost.weight"] = "model-00002-of-00003.safetensors"
		writeIndex(t, dir, wm)
		_, err := OpenDir(dir)
		if err == nil || !strings.Contains(err.Error(), `tensor "ghost.weight": mapped to shard "model-00002-of-00003.safetensors", which does not contain it`) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("tensor mapped to the wrong shard", func(t *testing.T) {
		dir, wm, _ := shardedModel(t)
		wm["lm_head.weight"] = "model-00001-of-00003.safetensors"
		writeIndex(t, dir, wm)
		_, err := OpenDir(dir)
		if err == nil || !strings.Contains(err.Error(), `tensor "lm_head.weight": mapped to shard "model-00001-of-00003.safetensors" but found in`) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("tensor present in two shards", func(t *testing.T) {
		dir, _, _ := shardedModel(t)
		p := filepath.Join(dir, "model-00003-of-00003.safetensors")
		if err := WriteFile(p, []Tensor{
			F32Tensor("lm_head.weight", []int{1}, []float32{1}),
			F32Tensor("model.embed_tokens.weight", []int{1}, []float32{1}),
			F32Tensor("model.norm.weight", []int{1}, []float32{1}),
		}, nil); err != nil {
			t.Fatal(err)
		}
		_, err := OpenDir(dir)
		if err == nil || !strings.Contains(err.Error(), `tensor "model.embed_tokens.weight": also present in `) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("shard tensor missing from the index", func(t *testing.T) {
		dir, wm, _ := shardedModel(t)
		delete(wm, "model.norm.weight")
		writeIndex(t, dir, wm)
		_, err := OpenDir(dir)
		if err == nil || !strings.Contains(err.Error(), `tensor "model.norm.weight": in shard`) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("shard outside the folder", func(t *testing.T) {
		dir, wm, _ := shardedModel(t)
		wm["x"] = "../evil.safetensors"
		writeIndex(t, dir, wm)
		if _, err := OpenDir(dir); err == nil || !strings.Contains(err.Error(), "not a file inside the folder") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("broken index", func(t *testing.T) {
		dir, _, _ := shardedModel(t)
		os.WriteFile(filepath.Join(dir, IndexFileName), []byte(`{"weight_map":`), 0o644)
		if _, err := OpenDir(dir); err == nil || !strings.Contains(err.Error(), "not a valid index") {
			t.Fatalf("%v", err)
		}
		os.WriteFile(filepath.Join(dir, IndexFileName), []byte(`{"metadata":{}}`), 0o644)
		if _, err := OpenDir(dir); err == nil || !strings.Contains(err.Error(), `no "weight_map"`) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("corrupt shard", func(t *testing.T) {
		dir, _, _ := shardedModel(t)
		os.WriteFile(filepath.Join(dir, "model-00002-of-00003.safetensors"), []byte("short"), 0o644)
		_, err := OpenDir(dir)
		if err == nil || !strings.Contains(err.Error(), "model-00002-of-00003.safetensors: file is 5 bytes") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("empty folder", func(t *testing.T) {
		if _, err := OpenDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "neither model.safetensors nor model.safetensors.index.json") {
			t.Fatalf("%v", err)
		}
	})
}

// A single model.safetensors wins over an index, as in transformers.
func TestOpenDirSingleFile(t *testing.T) {
	dir, _, _ := shardedModel(t)
	if err := WriteFile(filepath.Join(dir, SingleFileName), []Tensor{F32Tensor("w", []int{1}, []float32{9})}, nil); err != nil {
		t.Fatal(err)
	}
	s, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !slices.Equal(s.Names(), []string{"w"}) || len(s.Files()) != 1 {
		t.Fatalf("%v %v", s.Names(), s.Files())
	}
}

func TestOpenFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors")
	WriteFile(a, []Tensor{F32Tensor("x", []int{1}, []float32{1})}, nil)
	WriteFile(b, []Tensor{F32Tensor("y", []int{1}, []float32{2}), F32Tensor("x", []int{1}, []float32{3})}, nil)
	if _, err := OpenFiles(a, b); err == nil || err.Error() != `safetensors: `+b+`: tensor "x": also present in `+a {
		t.Fatalf("%v", err)
	}
	WriteFile(b, []Tensor{F32Tensor("y", []int{1}, []float32{2})}, nil)
	s, err := OpenFiles(a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !slices.Equal(s.Names(), []string{"x", "y"}) || !slices.Equal(s.Files(), []string{a, b}) {
		t.Fatalf("%v %v", s.Names(), s.Files())
	}
}

// Each golden model folder is a single-file checkpoint; OpenDir must pick
// its model.safetensors (not model.bf16.safetensors beside it).
func TestOpenGoldenAsSet(t *testing.T) {
	for _, p := range goldenFiles(t) {
		if filepath.Base(p) != SingleFileName {
			continue
		}
		s, err := OpenDir(filepath.Dir(p))
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Names()) == 0 || s.Files()[0] != p {
			t.Fatalf("%s: %v", p, s.Files())
		}
		t.Logf("%s: %d tensors via OpenDir", p, len(s.Names()))
		s.Close()
	}
}
