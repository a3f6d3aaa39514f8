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

// getFolder downloads prefix's files into dir (replaced whole), and returns dir.
func getFolder(ctx context.Context, obs jetstream.ObjectStore, prefix, dir string) error {
	tmp := dir + ".part"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
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
			return fmt.Errorf("object %s: not a plain file name", info.Name)
		}
		if err := obs.GetFile(ctx, info.Name, filepath.Join(tmp, name)); err != nil {
			return fmt.Errorf("object %s: %w", info.Name, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("object store %s has nothing under %s/", ModelsBucket, prefix)
	}
	os.RemoveAll(dir)
	return os.Rename(tmp, dir)
}

// publishModel uploads a base model folder under its hash.
func publishModel(ctx context.Context, obs jetstream.ObjectStore, hash, dir string) error {
	files, err := engine.ModelFiles(dir)
	if err != nil {
		return err
	}
	return putFolder(ctx, obs, "base/"+hash, dir, files)
}

// fetchModel brings base model hash into cache/base/HASH and checks its content hash.
func fetchModel(ctx context.Context, obs jetstream.ObjectStore, cache, hash string) (string, error) {
	if !engine.ValidHash(hash) {
		return "", fmt.Errorf("base model hash %q is not a SHA-256 digest", hash)
	}
	dir := filepath.Join(cache, "base", hash)
	if got, err := engine.ModelHash(dir); err == nil && got == hash {
		return dir, nil
	}
	if err := getFolder(ctx, obs, "base/"+hash, dir); err != nil {
		return "", err
	}
	got, err := engine.ModelHash(dir)
	if err != nil {
		return "", err
	}
	if got != hash {
		return "", fmt.Errorf("downloaded base model has hash %s, the job wants %s", got, hash)
	}
	return dir, nil
}

// fetchAdapter brings adapter hash into cache/adapter/HASH; the caller checks the hash
// again before merging it.
func fetchAdapter(ctx context.Context, obs jetstream.ObjectStore, cache, hash string) (string, error) {
	if !engine.ValidHash(hash) {
		return "", fmt.Errorf("adapter hash %q is not a SHA-256 digest", hash)
	}
	dir := filepath.Join(cache, "adapter", hash)
	if got, err := engine.AdapterHash(dir); err == nil && got == hash {
		return dir, nil
	}
	return dir, getFolder(ctx, obs, "adapter/"+hash, dir)
}
