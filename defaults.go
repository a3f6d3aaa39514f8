package main

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"seal/engine"
	"seal/models/tiny"
)

// defaultModelAndData fills in the embedded model and the domain's default data (the
// synthetic world's held-out val passages, procedural ARC tasks) when no folder or file
// is given, with its RL tasks (defaultDataOfSplit).
func defaultModelAndData(spec *engine.RunSpec) error { return defaultDataOfSplit(spec, "") }

// defaultRLPassages is the RL passages per round on the default data when the run has
// no evaluation passage count to match: the method's 50 (docs/seal-method.md §1.7).
const defaultRLPassages = 50

// defaultDataOfSplit is defaultModelAndData with the default data's split named (--split:
// "val" for tuning, "test" for the table; "" is the domain's DefaultData). On default
// data a ReST-EM run's RL tasks, unless given, are the domain's own (DefaultRLData: the
// world's train split, procedural ARC training tasks), as many per round as evaluation
// tasks (defaultRLPassages when --passages is 0) unless --rl-passages says, so the
// policy update never sees the tasks the run is measured on.
func defaultDataOfSplit(spec *engine.RunSpec, split string) error {
	if spec.Model == "" {
		dir, err := tiny.Dir()
		if err != nil {
			return err
		}
		spec.Model = dir
	}
	info := engine.DomainInfoOf(spec.Domain)
	if spec.Data != "" {
		if split != "" {
			return fmt.Errorf("--split %s names a split of the default data, and --data %s was given", split, spec.Data)
		}
		return nil
	}
	make := info.DefaultData
	if split != "" {
		if make = info.DefaultSplits[split]; make == nil {
			return fmt.Errorf("--split %q: the %s domain's default data has the splits %s", split, spec.Domain, strings.Join(slices.Sorted(maps.Keys(info.DefaultSplits)), ", "))
		}
	}
	if make == nil {
		return nil
	}
	path, err := make(cachedData)
	if err != nil {
		return err
	}
	spec.Data = path
	if spec.RLData == "" && info.DefaultRLData != nil && spec.Mode == "restem" {
		if spec.RLData, err = info.DefaultRLData(cachedData); err != nil {
			return err
		}
		if spec.RLPassages == 0 {
			spec.RLPassages = cmp.Or(spec.Tasks, defaultRLPassages)
		}
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
