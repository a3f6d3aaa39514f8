// Package sidefile reads the small files that sit beside weights and data (config.json,
// tokenizer.json, tokenizer_config.json, adapter_config.json, ...) with a size limit, so
// a file that points at /dev/zero or is a huge sparse file is refused before it is read
// instead of being read until memory runs out. The limits for every side file are here,
// in one place; each is generous for real checkpoints (Llama 3's tokenizer.json is 9 MB,
// Qwen3's 11 MB).
package sidefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// The most bytes each side file may hold.
const (
	ConfigJSON          = 1 << 20  // config.json, adapter_config.json
	TokenizerJSON       = 64 << 20 // tokenizer.json
	TokenizerConfigJSON = 16 << 20 // tokenizer_config.json (chat templates included)
	ChatTemplate        = 4 << 20  // chat_template.jinja
	SafetensorsIndex    = 16 << 20 // model.safetensors.index.json
)

// TooLarge is the error for a file over its limit (or one that grew past it while read).
type TooLarge struct {
	Path  string
	Size  int64 // -1 when the file grew past the limit while it was read
	Limit int64
}

func (e *TooLarge) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("%s: more than the limit of %s (it grew while being read)", e.Path, Bytes(e.Limit))
	}
	return fmt.Sprintf("%s: %s is over the limit of %s", e.Path, Bytes(e.Size), Bytes(e.Limit))
}

// ErrNotRegular is wrapped by the error for a device, pipe or folder in a file's place.
var ErrNotRegular = errors.New("not a regular file")

// Open opens path for reading after checking, before any byte is read, that it is a
// regular file (symlinks are followed) of at most limit bytes. The caller should still
// read through io.LimitReader(f, limit+1): the file may grow after the check.
func Open(path string, limit int64) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *fs.PathError names the path
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, st.Mode().Type())}
	}
	if st.Size() > limit {
		f.Close()
		return nil, &TooLarge{Path: path, Size: st.Size(), Limit: limit}
	}
	return f, nil
}

// ReadFile is os.ReadFile with Open's checks and a second guard while reading.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(len(b)) > limit {
		return nil, &TooLarge{Path: path, Size: -1, Limit: limit}
	}
	return b, nil
}

// Bytes formats a size for an error message: exact bytes, and KiB/MiB/GiB when larger.
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%d bytes (%.1f GiB)", n, float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%d bytes (%.1f MiB)", n, float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d bytes (%.1f KiB)", n, float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
