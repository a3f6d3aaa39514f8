package llamatest

import (
	"os"
	"testing"
)

// TestWriteFolder writes a folder where SEAL_LLAMATEST_DIR points (for trying the CLI by
// hand); without it, it checks that a folder can be written and loaded.
func TestWriteFolder(t *testing.T) {
	dir := os.Getenv("SEAL_LLAMATEST_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if _, err := Folder(dir, 7); err != nil {
		t.Fatal(err)
	}
}
