//go:build linux

package safetensors

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps the whole file read-only. MAP_SHARED keeps pages in the page
// cache shared between processes loading the same checkpoint.
func mapFile(f *os.File, size int64) ([]byte, func([]byte) error, error) {
	if int64(int(size)) != size {
		return nil, nil, fmt.Errorf("file of %d bytes is too large to map", size)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return b, syscall.Munmap, nil
}
