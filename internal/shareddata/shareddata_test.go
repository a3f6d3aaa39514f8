package shareddata

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder stands in for a test so that PathOrSkip's skip or failure can be observed.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()           {}
func (r *recorder) Skip(args ...any)  { r.skipped = fmt.Sprint(args...) }
func (r *recorder) Fatal(args ...any) { r.failed = fmt.Sprint(args...) }

func TestPathOrSkipFindsTheData(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "data", "squad"), 0o755)
	t.Setenv("SEAL_SHARED_DIR", root)
	t.Setenv(RequireEnv, "1")
	r := &recorder{TB: t}
	if p := PathOrSkip(r, "data", "squad"); p != filepath.Join(root, "data", "squad") || r.skipped != "" || r.failed != "" {
		t.Errorf("got %q, skipped %q, failed %q", p, r.skipped, r.failed)
	}
}

// TestPathOrSkipSkipsOrFails: missing data is a one-line skip naming the set and both ways
// to provide it; with SEAL_REQUIRE_SHARED=1 the same line is a failure.
func TestPathOrSkipSkipsOrFails(t *testing.T) {
	t.Setenv("SEAL_SHARED_DIR", filepath.Join(t.TempDir(), "nonexistent"))
	for _, c := range []struct {
		require    string
		skip, fail bool
	}{{"", true, false}, {"0", true, false}, {"1", false, true}} {
		t.Setenv(RequireEnv, c.require)
		r := &recorder{TB: t}
		PathOrSkip(r, "data", "tokenizers", "llama3")
		msg := r.skipped + r.failed
		if (r.skipped != "") != c.skip || (r.failed != "") != c.fail {
			t.Errorf("%s=%q: skipped %q, failed %q", RequireEnv, c.require, r.skipped, r.failed)
		}
		for _, want := range []string{filepath.Join("data", "tokenizers", "llama3"), "llama3 tokenizer", "../shared", "SEAL_SHARED_DIR", RequireEnv} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s=%q: message %q lacks %q", RequireEnv, c.require, msg, want)
			}
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("message is more than one line: %q", msg)
		}
	}
}

// TestGoldenIsInTheRepository: the golden fixtures are found in testdata/golden with no
// shared folder at all, and $SEAL_GOLDEN_DIR still overrides.
func TestGoldenIsInTheRepository(t *testing.T) {
	t.Setenv("SEAL_SHARED_DIR", filepath.Join(t.TempDir(), "nonexistent"))
	t.Setenv("SEAL_GOLDEN_DIR", "")
	dir, err := Golden()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dir) != "golden" || filepath.Base(filepath.Dir(dir)) != "testdata" {
		t.Errorf("golden folder %s, want <module>/testdata/golden", dir)
	}
	if cfgs, _ := filepath.Glob(filepath.Join(dir, "*", "config.json")); len(cfgs) == 0 {
		t.Errorf("no fixture folders in %s", dir)
	}
	other := t.TempDir()
	t.Setenv("SEAL_GOLDEN_DIR", other)
	if dir, err := Golden(); err != nil || dir != other {
		t.Errorf("SEAL_GOLDEN_DIR=%s: got %s, %v", other, dir, err)
	}
}
