//go:build !linux

package safetensors

import (
	"fmt"
	"io"
	"os"
)

// mapFile reads the whole file where this package does not memory-map;
// callers see the same []byte either way.
func mapFile(f *os.File, size int64) ([]byte, func([]byte) error, error) {
	if int64(int(size)) != size {
		return nil, nil, fmt.Errorf("file of %d bytes is too large to read", size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, nil, err
	}
	return b, func([]byte) error { return nil }, nil
}
