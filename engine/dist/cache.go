package dist

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cache is a folder of content-addressed folders, KIND/HASH, that any number of
// processes on one machine share (every worker started with the same home or --cache).
//
//   - A folder is written under a unique temporary name (KIND/HASH.tmp-*) and published
//     by one rename, so no process ever sees a half-written KIND/HASH.
//   - A published folder that verifies is never removed or replaced: a process may be
//     loading from it while another fetches.
//   - A lock file per object (KIND/HASH.lock, flock) lets one process download an
//     object while the others wait and then find it verified. The kernel drops the lock
//     of a process that dies, and temporary folders nobody holds the lock for are
//     removed by the next fetch (or worker start) in that folder.
//
// Lock files stay: removing one while another process waits on it would let two
// processes hold "the" lock at once.
type cache struct{ dir string }

// Name parts of a cache folder's entries besides the published HASH folders.
const (
	tmpInfix   = ".tmp-" // a folder being written
	oldInfix   = ".old-" // a broken folder moved aside, to be removed
	lockSuffix = ".lock"
)

// hashFunc computes the content hash of a folder.
type hashFunc func(dir string) (string, error)

// get returns the folder KIND/HASH, filling it with fill (into an empty temporary
// folder) when it is missing or does not hash to hash. Content that arrives with
// another hash is a permanent error: the source holds the wrong bytes. Other errors
// (the download, the disk) may mend on a later try.
func (c cache) get(ctx context.Context, kind, hash string, hashOf hashFunc, fill func(ctx context.Context, tmp string) error) (string, error) {
	dir := filepath.Join(c.dir, kind, hash)
	if got, err := hashOf(dir); err == nil && got == hash {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	unlock, err := lock(ctx, dir+lockSuffix)
	if err != nil {
		return "", err
	}
	defer unlock()
	if got, err := hashOf(dir); err == nil && got == hash {
		return dir, nil // another process fetched it while this one waited
	}
	c.sweep(kind, hash)
	tmp, err := os.MkdirTemp(filepath.Dir(dir), hash+tmpInfix)
	if err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	defer os.RemoveAll(tmp)                      // empty or gone after a publish
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it private; the cache is not
		return "", fmt.Errorf("cache: %w", err)
	}
	if err := fill(ctx, tmp); err != nil {
		return "", err
	}
	got, err := hashOf(tmp)
	if err != nil {
		return "", err
	}
	if got != hash {
		return "", permanent{fmt.Errorf("downloaded %s has hash %s, the job wants %s", kind, short(got), short(hash))}
	}
	return dir, publish(tmp, dir)
}

// publish renames tmp to dir. dir is there only when it did not verify (the caller
// holds the lock and checked): it is moved aside first and removed after, so the
// name always points at a whole folder.
func publish(tmp, dir string) error {
	if err := os.Rename(tmp, dir); err == nil {
		return nil
	} else if _, serr := os.Lstat(dir); serr != nil {
		return fmt.Errorf("cache: %w", err)
	}
	aside := fmt.Sprintf("%s%s%d-%d", dir, oldInfix, os.Getpid(), time.Now().UnixNano())
	if err := os.Rename(dir, aside); err != nil {
		return fmt.Errorf("cache: moving a broken %s aside: %w", dir, err)
	}
	defer os.RemoveAll(aside)
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// sweep removes the temporary and moved-aside folders of kind that no live process is
// writing: own's because the caller holds its lock, the others' when their lock is free.
func (c cache) sweep(kind, own string) {
	base := filepath.Join(c.dir, kind)
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		hash, _, found := strings.Cut(name, tmpInfix)
		if !found {
			hash, _, found = strings.Cut(name, oldInfix)
		}
		if !found || !e.IsDir() {
			continue
		}
		if hash == own {
			os.RemoveAll(filepath.Join(base, name))
			continue
		}
		if unlock, ok := tryLock(filepath.Join(base, hash+lockSuffix)); ok {
			os.RemoveAll(filepath.Join(base, name))
			unlock()
		}
	}
}

// sweepAll sweeps every kind folder (a worker does this as it starts).
func (c cache) sweepAll() {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() {
			c.sweep(e.Name(), "")
		}
	}
}

// lock takes the exclusive lock on path (made if missing), waiting until it is free
// or ctx ends. flock locks belong to an open file, so two goroutines of one process
// exclude each other as two processes do.
func lock(ctx context.Context, path string) (func(), error) {
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		unlock, ok, err := lockOnce(path)
		if err != nil {
			return nil, err
		}
		if ok {
			return unlock, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// tryLock takes the lock on path if it is free now.
func tryLock(path string) (func(), bool) {
	unlock, ok, err := lockOnce(path)
	return unlock, ok && err == nil
}

func lockOnce(path string) (func(), bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("cache lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			break
		}
	}
	switch err {
	case nil:
		return func() { f.Close() }, true, nil // closing the file drops the lock
	case unix.EWOULDBLOCK:
		f.Close()
		return nil, false, nil
	default:
		f.Close()
		return nil, false, fmt.Errorf("cache lock %s: %w", path, err)
	}
}

// short is a hash cut to the twelve digits messages show.
func short(h string) string { return h[:min(len(h), 12)] }
