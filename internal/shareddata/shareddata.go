// Package shareddata finds the data that tests read. The small golden fixtures (tiny
// random-weight checkpoints, expected tensors, adapters, tokenizer encodings) are committed
// in testdata/golden. The large third-party reference sets (the real Llama 3 and Qwen3
// tokenizers, SQuAD, ARC-AGI) are not: they are read in place from ../shared beside the
// repository, or from $SEAL_SHARED_DIR. A test that needs them and does not find them
// skips with one line that says what is missing, unless $SEAL_REQUIRE_SHARED is set, which
// makes the skip a failure (CI sets it, so CI never skips silently).
package shareddata

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// RequireEnv names the variable that turns a missing reference set into a test failure.
const RequireEnv = "SEAL_REQUIRE_SHARED"

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

// Golden returns the golden fixture folder: $SEAL_GOLDEN_DIR, or the committed
// testdata/golden at the module root.
func Golden() (string, error) {
	if d := os.Getenv("SEAL_GOLDEN_DIR"); d != "" {
		return checkDir(d, "SEAL_GOLDEN_DIR")
	}
	mod, err := moduleRoot()
	if err != nil {
		return "", err
	}
	return checkDir(filepath.Join(mod, "testdata", "golden"), "the repository's golden folder")
}

// Path joins elements under the shared folder and checks that the result exists.
func Path(elem ...string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	p := filepath.Join(append([]string{root}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("shared data: %s is missing under %s", filepath.Join(elem...), root)
	}
	return p, nil
}

// PathOrSkip is Path for a test: when the data is missing it skips tb with one line
// naming what is missing and how to provide it, or fails tb when $SEAL_REQUIRE_SHARED
// is set to anything but "" or "0".
func PathOrSkip(tb testing.TB, elem ...string) string {
	tb.Helper()
	p, err := Path(elem...)
	if err == nil {
		return p
	}
	msg := MissingMessage(err, elem...)
	if Required() {
		tb.Fatal(msg)
	} else {
		tb.Skip(msg)
	}
	return ""
}

// Required reports whether $SEAL_REQUIRE_SHARED asks for missing reference data to fail.
func Required() bool {
	v := os.Getenv(RequireEnv)
	return v != "" && v != "0"
}

// MissingMessage is the one line a test prints when reference data is missing: what the
// data is, why it was not found, and the two ways to provide it.
func MissingMessage(err error, elem ...string) string {
	return fmt.Sprintf("needs %s (%s): %v; put the reference data at ../shared beside the repository "+
		"or point SEAL_SHARED_DIR at it (%s=1 makes this a failure)", filepath.Join(elem...), describe(elem), err, RequireEnv)
}

// describe names a reference set by its folder under the shared root.
func describe(elem []string) string {
	if len(elem) >= 3 && elem[0] == "data" && elem[1] == "tokenizers" {
		return "the real " + elem[2] + " tokenizer"
	}
	if len(elem) >= 2 && elem[0] == "data" {
		switch elem[1] {
		case "squad":
			return "the SQuAD v1.1 dev passages"
		case "arc":
			return "the ARC-AGI task files"
		}
	}
	return "third-party reference data"
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
		return "", fmt.Errorf("%s %s is not a readable folder", what, abs)
	}
	return abs, nil
}
