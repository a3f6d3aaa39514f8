package main

import (
	"fmt"
	"os"
	"path/filepath"
	"seal/engine/arc/procedural"

	"seal/engine"
	"seal/engine/knowledge/world"
	"seal/models/tiny"
)

// defaultModelAndData fills in the embedded model and the synthetic world's held-out
// passages (which the embedded model never saw) when no folder or file is given.
func defaultModelAndData(spec *engine.RunSpec) error {
	if spec.Model == "" {
		dir, err := tiny.Dir()
		if err != nil {
			return err
		}
		spec.Model = dir
	}
	if spec.Data == "" && spec.Domain == "arc" {
		path, err := proceduralARCFile()
		if err != nil {
			return err
		}
		spec.Data = path
	}
	if spec.Data == "" {
		path, err := worldSplitFile(world.Val)
		if err != nil {
			return err
		}
		spec.Data = path
	}
	return nil
}

// proceduralARCFile writes the embedded procedural ARC evaluation tasks (seed 1, 32
// tasks, none in the pretraining corpus) in the user cache, once, and returns the
// challenges file's path; the solutions file lies beside it.
func proceduralARCFile() (string, error) {
	dir, err := cachedData("arc-procedural-seed1", func(tmp string) error {
		if err := os.Mkdir(tmp, 0o755); err != nil {
			return err
		}
		_, eval := procedural.Sets(1, 0, 32)
		_, _, err := procedural.WriteFiles(tmp, "eval", eval)
		return err
	})
	return filepath.Join(dir, "eval_challenges.json"), err
}

// worldSplitFile writes a split of the default world (the one the embedded model was
// pretrained on) as SQuAD JSON in the user cache, once, and returns its path.
func worldSplitFile(split world.Split) (string, error) {
	return cachedData(fmt.Sprintf("world-v%d-seed1-%s.json", world.Version, split), func(tmp string) error {
		return world.WriteSQuAD(tmp, world.Generate(world.DefaultConfig()).Passages(split))
	})
}

// cachedData returns the path of name (a file or a folder) in seal's user cache,
// making it with write first when it is not there. write makes it under a temporary
// name that is then renamed, so a crash or a concurrent first run never leaves a
// half-written file that a later run would trust.
func cachedData(name string, write func(tmp string) error) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	path := filepath.Join(base, "seal", name)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	defer os.RemoveAll(tmp)
	if err := write(tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		if _, serr := os.Stat(path); serr == nil {
			return path, nil // another run made it first
		}
		return "", err
	}
	return path, nil
}
