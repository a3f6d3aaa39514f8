package sidefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFileRefusesOversizedBeforeReading(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	// A sparse 3 GB file: reading it would take 3 GB of memory; the size alone refuses it.
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Truncate(path, 3<<30); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile(path, ConfigJSON)
	var tl *TooLarge
	if !errors.As(err, &tl) || tl.Size != 3<<30 || tl.Limit != ConfigJSON {
		t.Fatalf("got %v, want a TooLarge error", err)
	}
	for _, want := range []string{path, "3221225472 bytes", "1048576 bytes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestReadFileLimitIsInclusive(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	if err := os.WriteFile(path, make([]byte, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(path, 100); err != nil || len(b) != 100 {
		t.Fatalf("a file of exactly the limit: %d bytes, %v", len(b), err)
	}
	if _, err := ReadFile(path, 99); err == nil {
		t.Fatal("a file one byte over the limit was read")
	}
}

func TestReadFileRefusesDevices(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	dir := t.TempDir()
	link := filepath.Join(dir, "tokenizer.json")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(link, TokenizerJSON)
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), link) {
		t.Fatalf("got %v, want a not-a-regular-file error naming %s", err, link)
	}
	if _, err := ReadFile(dir, TokenizerJSON); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("a folder: got %v", err)
	}
}

func TestReadFileMissing(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "absent.json"), ConfigJSON)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want ErrNotExist", err)
	}
}
