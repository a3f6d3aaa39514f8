package dist

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"seal/engine"
)

// Objects are named KIND/HASH/FILE, so a name says which content it must hash to.
var adapterFiles = []string{"adapter_config.json", "adapter_model.safetensors"}

// putFolder uploads the files of a folder under prefix, unless the last of them is
// already there (uploads go in order, so the last one marks a complete folder).
func putFolder(ctx context.Context, obs jetstream.ObjectStore, prefix, dir string, files []string) error {
	last := prefix + "/" + files[len(files)-1]
	if _, err := obs.GetInfo(ctx, last); err == nil {
		return nil
	} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("object %s: %w", last, err)
	}
	for _, f := range files {
		r, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		_, err = obs.Put(ctx, jetstream.ObjectMeta{Name: prefix + "/" + f}, r)
		r.Close()
		if err != nil {
			return fmt.Errorf("object %s/%s: %w", prefix, f, err)
		}
	}
	return nil
}

// getFolder downloads prefix's files into the empty folder dir.
func getFolder(ctx context.Context, obs jetstream.ObjectStore, prefix, dir string) error {
	lister, err := obs.List(ctx)
	if err != nil {
		return fmt.Errorf("object store %s: %w", ModelsBucket, err)
	}
	n := 0
	for _, info := range lister {
		name, ok := strings.CutPrefix(info.Name, prefix+"/")
		if !ok || info.Deleted {
			continue
		}
		if name != filepath.Base(name) || name == "." || name == ".." {
			return permanent{fmt.Errorf("object %s: not a plain file name", info.Name)}
		}
		if err := obs.GetFile(ctx, info.Name, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("object %s: %w", info.Name, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("object store %s has nothing under %s/", ModelsBucket, prefix)
	}
	return nil
}

// publishModel uploads a base model folder under its hash.
func publishModel(ctx context.Context, obs jetstream.ObjectStore, hash, dir string) error {
	files, err := engine.ModelFiles(dir)
	if err != nil {
		return err
	}
	return putFolder(ctx, obs, "base/"+hash, dir, files)
}

// getter downloads the objects under prefix into an empty folder: getFolder on the
// worker's object store (a test may wrap it to fail on cue).
type getter func(ctx context.Context, prefix, dir string) error

// fetchModel returns the cached folder of base model hash (cache/base/HASH), fetching
// it with get when it is missing; either way it hashes to hash.
func fetchModel(ctx context.Context, c cache, get getter, hash string) (string, error) {
	if !engine.ValidHash(hash) {
		return "", permanent{fmt.Errorf("base model hash %q is not a SHA-256 digest", hash)}
	}
	return c.get(ctx, "base", hash, engine.ModelHash, func(ctx context.Context, tmp string) error {
		return get(ctx, "base/"+hash, tmp)
	})
}

// fetchAdapter returns the cached folder of adapter hash (cache/adapter/HASH), fetching
// it with get when it is missing; the caller checks the hash again before merging it.
func fetchAdapter(ctx context.Context, c cache, get getter, hash string) (string, error) {
	if !engine.ValidHash(hash) {
		return "", permanent{fmt.Errorf("adapter hash %q is not a SHA-256 digest", hash)}
	}
	return c.get(ctx, "adapter", hash, engine.AdapterHash, func(ctx context.Context, tmp string) error {
		return get(ctx, "adapter/"+hash, tmp)
	})
}
