package main

// The reliability group: hostile-but-fair attacks replayed end to end against the
// built binary (go test -run Reliability .). Each attack of issue 14 has a test named
// TestReliability<Attack> in a reliability_*_test.go file; they share the helpers here.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	sealBinOnce sync.Once
	sealBinPath string
	sealBinErr  error
)

// sealBinary builds the program once per test process and returns its path.
func sealBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the program")
	}
	sealBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "seal-reliability-")
		if err != nil {
			sealBinErr = err
			return
		}
		sealBinPath = filepath.Join(dir, "seal")
		if out, err := exec.Command("go", "build", "-o", sealBinPath, ".").CombinedOutput(); err != nil {
			sealBinErr = &buildError{err: err, out: out}
		}
	})
	if sealBinErr != nil {
		t.Fatal(sealBinErr)
	}
	return sealBinPath
}

type buildError struct {
	err error
	out []byte
}

func (b *buildError) Error() string { return "build: " + b.err.Error() + "\n" + string(b.out) }

// binResult is what one run of the binary did.
type binResult struct {
	Code           int
	Stdout, Stderr string
}

// runBinary runs the built program with args and env added to the environment, in
// dir (the test's temp folder when empty), and fails the test if it does not end
// within limit: a hang is a failed attack.
func runBinary(t *testing.T, dir string, limit time.Duration, env []string, args ...string) binResult {
	t.Helper()
	bin := sealBinary(t)
	if dir == "" {
		dir = t.TempDir()
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Fatalf("seal %v did not end within %v; stderr:\n%s", args, limit, e.String())
	}
	return binResult{Code: cmd.ProcessState.ExitCode(), Stdout: o.String(), Stderr: e.String()}
}

// smallRun is the small-run flags: every attack is reproducible with them on
// the embedded default.
var smallRun = []string{"--passages", "4", "--k", "3", "--rounds", "2", "--repeats", "1",
	"--edit-tokens", "48", "--qa-tokens", "8", "--epochs", "3"}
