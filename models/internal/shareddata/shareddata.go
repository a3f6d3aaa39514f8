// Package shareddata finds the reference data that tests read in place from ../shared
// (beside the repository), never copied into it.
package shareddata

import (
	"fmt"
	"os"
	"path/filepath"
)

// Root returns the shared folder: $SEAL_SHARED_DIR, or ../shared next to the module root.
func Root() (string, error) {
	if d := os.Getenv("SEAL_SHARED_DIR"); d != "" {
		return checkDir(d, "SEAL_SHARED_DIR")
	}
	mod, err := moduleRoot()
	if err != nil {
		return "", err
	}
	return checkDir(filepath.Join(filepath.Dir(mod), "shared"), "../shared beside the repository")
}

// Golden returns the golden fixture folder: $SEAL_GOLDEN_DIR, or <shared>/data/golden.
func Golden() (string, error) {
	if d := os.Getenv("SEAL_GOLDEN_DIR"); d != "" {
		return checkDir(d, "SEAL_GOLDEN_DIR")
	}
	root, err := Root()
	if err != nil {
		return "", err
	}
	return checkDir(filepath.Join(root, "data", "golden"), "shared golden folder")
}

// Path joins elements under the shared folder and checks that the result exists.
func Path(elem ...string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	p := filepath.Join(append([]string{root}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("shared data: %w", err)
	}
	return p, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("shared data: no go.mod above the working directory")
		}
		dir = parent
	}
}

func checkDir(d, what string) (string, error) {
	abs, err := filepath.Abs(d)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil || !st.IsDir() {
		return "", fmt.Errorf("shared data: %s %s is not a readable folder (clone the repository with ../shared beside it, or set the variable)", what, abs)
	}
	return abs, nil
}
