package store

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildWithoutCgoSaysWhy: building the store with cgo off fails with exactly one line
// that names the cause (cgo for go-sqlite3) and the fix (a C compiler, CGO_ENABLED=1),
// not with a list of undefined sqlite3 names.
func TestBuildWithoutCgoSaysWhy(t *testing.T) {
	cmd := exec.Command("go", "build", "-o", filepath.Join(t.TempDir(), "store.a"), ".")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the store built without cgo:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 {
		t.Errorf("want one line, got %d:\n%s", len(lines), out)
	}
	for _, want := range []string{"cgo_required.go", "needs cgo for go-sqlite3", "C compiler", "CGO_ENABLED=1"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("the error lacks %q: %s", want, lines[0])
		}
	}
}
