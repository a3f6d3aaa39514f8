//go:build linux

package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFullAndReadOnlyFilesystems runs real file systems that refuse writes: a
// tiny tmpfs that fills up, and a tmpfs remounted read-only. Mounting needs root,
// so the work runs in a child in a private mount namespace (the mounts vanish with
// it); without root the test skips (TestWriteErrorKeepsRunConsistent and
// TestReadOnlyFolder cover the same paths without mounts).
func TestFullAndReadOnlyFilesystems(t *testing.T) {
	if os.Getenv(childEnv) == "mounts" {
		mountChild(t)
		return
	}
	if os.Getenv(childEnv) != "" {
		t.Skip("in a child")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestFullAndReadOnlyFilesystems$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=mounts")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Skipf("cannot start a child in a private mount namespace: %v", err)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Skipf("child skipped:\n%s", out)
	}
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatal(err)
	}
}

func mountTmpfs(t *testing.T, dir, opts string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) }) // before TempDir's removal
}

func mountChild(t *testing.T) {
	base := t.TempDir()

	// A disk that fills up while candidates are being saved.
	full := filepath.Join(base, "full")
	mountTmpfs(t, full, "size=640k")
	path := filepath.Join(full, "seal.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	run := mustRun(t, db, Run{Name: "fills the disk"})
	var saved []Candidate
	var werr error
	for i := 0; i < 1000 && werr == nil; i++ {
		c := cand(run, CandidateKey{0, 0, i}, 40, 50)
		if _, werr = db.SaveCandidate(&c); werr == nil {
			saved = append(saved, c)
		}
	}
	t.Logf("after %d candidates: %v", len(saved), werr)
	wantErr(t, werr, path, "full")
	if len(saved) == 0 {
		t.Fatal("nothing fit; the test proves nothing")
	}
	check := func(db *DB) {
		t.Helper()
		all, err := db.Candidates(run, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != len(saved) {
			t.Fatalf("%d candidates in the file, %d saved", len(all), len(saved))
		}
		for i := range saved {
			sameCandidate(t, all[i], saved[i])
		}
		if err := db.IntegrityCheck(); err != nil {
			t.Fatal(err)
		}
	}
	check(db)
	if err := db.SetRunStatus(run, StatusFailed, werr.Error()); err != nil {
		wantErr(t, err, path) // may fail too on a full disk, but says where
	}
	if err := db.Close(); err != nil {
		t.Logf("close on a full disk: %v", err)
	}
	db, err = Open(path) // a full disk does not stop reading what was committed
	if err != nil {
		t.Fatal(err)
	}
	check(db)
	db.Close()

	// A disk already full: a new store cannot be made, and the error says where.
	f, err := os.Create(filepath.Join(full, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	_, err = Open(filepath.Join(full, "new.db"))
	t.Logf("open on a full disk: %v", err)
	wantErr(t, err, filepath.Join(full, "new.db"))

	// A read-only file system: Open refuses with the reason, OpenReadOnly reads.
	ro := filepath.Join(base, "ro")
	mountTmpfs(t, ro, "size=4m")
	path = filepath.Join(ro, "seal.db")
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	run = mustRun(t, db, Run{Name: "on read-only media"})
	c := cand(run, CandidateKey{0, 0, 0}, 3, 3)
	if _, err := db.SaveCandidate(&c); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := syscall.Mount("tmpfs", ro, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path)
	t.Logf("open on a read-only file system: %v", err)
	wantErr(t, err, path, "cannot write")
	_, err = Open(filepath.Join(ro, "new.db"))
	wantErr(t, err, filepath.Join(ro, "new.db"), "cannot write")
	rdb, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	got, err := rdb.Candidate(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameCandidate(t, got, c)
}
