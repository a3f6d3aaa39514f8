package main

import (
	"fmt"
	"os"
	"path/filepath"

	"seal/engine"
	"seal/models/tiny"
)

// defaultModelAndData fills in the embedded model and the domain's default data (the
// synthetic world's held-out passages, procedural ARC tasks) when no folder or file is given.
func defaultModelAndData(spec *engine.RunSpec) error {
	if spec.Model == "" {
		dir, err := tiny.Dir()
		if err != nil {
			return err
		}
		spec.Model = dir
	}
	if make := engine.DomainInfoOf(spec.Domain).DefaultData; spec.Data == "" && make != nil {
		path, err := make(cachedData)
		if err != nil {
			return err
		}
		spec.Data = path
	}
	return nil
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
