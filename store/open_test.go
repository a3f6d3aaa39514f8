package store

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// wantErr fails unless err is non-nil and mentions every part.
func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one mentioning %q", parts)
	}
	t.Logf("error as expected: %v", err)
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not mention %q", err, p)
		}
	}
}

func TestOpenSetsUpTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seal.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if db.Path() != path || db.ReadOnly() {
		t.Fatalf("Path %q ReadOnly %v", db.Path(), db.ReadOnly())
	}
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "2", "busy_timeout": "10000"} {
		var got string
		if err := db.w.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("writer PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	// The read pool really is read-only.
	if _, err := db.r.Exec(`INSERT INTO runs (status, created_at, updated_at) VALUES ('done', '', '')`); err == nil {
		t.Fatal("the read pool accepted a write")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening applies nothing twice.
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, v int
	if err := db.r.QueryRow(`SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations) || v != SchemaVersion() {
		t.Fatalf("schema_migrations has %d rows up to %d; want %d up to %d", n, v, len(migrations), SchemaVersion())
	}
	if err := db.IntegrityCheck(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenOddPathCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a #b% c?d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "my run?.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id := mustRun(t, db, Run{Name: "odd"})
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the file is not where asked: %v", err)
	}
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if r, err := ro.Run(id); err != nil || r.Name != "odd" {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestOpenRelativeAndDoubleSlashPaths(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, p := range []string{"rel.db", "/" + filepath.Join(dir, "abs.db")} { // "//tmp/..." is still a path
		db, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		mustRun(t, db, Run{})
		db.Close()
	}
	for _, name := range []string{"rel.db", "abs.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("%s is not where asked: %v", name, err)
		}
	}
}

// TestTwoWriters opens the file twice, as two seal processes would, and writes from
// both at once. BEGIN IMMEDIATE makes each transaction wait for the write lock up
// front (busy_timeout); a deferred BEGIN would fail some with SQLITE_BUSY when a
// read lock tries to upgrade.
func TestTwoWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seal.db")
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	run := mustRun(t, a, Run{})
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			db := []*DB{a, b}[w%2]
			for i := 0; i < 20; i++ {
				c := cand(run, CandidateKey{0, w, i}, 5, 5)
				if _, err := db.SaveCandidate(&c); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if fin, err := b.Finished(run); err != nil || len(fin) != 120 {
		t.Fatalf("%d candidates, %v", len(fin), err)
	}
}

func TestOpenBadInput(t *testing.T) {
	dir := t.TempDir()

	notDB := filepath.Join(dir, "notes.txt")
	junk := bytes.Repeat([]byte("this is not a database\n"), 300)
	if err := os.WriteFile(notDB, junk, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(notDB)
	wantErr(t, err, notDB, "not a SQLite database")
	_, err = OpenReadOnly(notDB)
	wantErr(t, err, notDB, "not a SQLite database")
	if b, _ := os.ReadFile(notDB); !bytes.Equal(b, junk) {
		t.Fatal("opening a non-database changed it")
	}

	_, err = Open(dir)
	wantErr(t, err, dir, "is a directory")
	_, err = OpenReadOnly(dir)
	wantErr(t, err, dir, "is a directory")

	missing := filepath.Join(dir, "no", "such", "seal.db")
	_, err = Open(missing)
	wantErr(t, err, missing, "folder", "does not exist")
	if _, err := os.Stat(filepath.Join(dir, "no")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("Open created folders")
	}

	_, err = OpenReadOnly(filepath.Join(dir, "absent.db"))
	wantErr(t, err, filepath.Join(dir, "absent.db"), "no such database file")
	if _, err := os.Stat(filepath.Join(dir, "absent.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("OpenReadOnly created the file")
	}

	_, err = Open("")
	wantErr(t, err, "empty database path")

	// A SQLite database that belongs to something else is left alone.
	other := filepath.Join(dir, "other.db")
	raw, err := sql.Open("sqlite3", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE people (name TEXT)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, err = Open(other)
	wantErr(t, err, other, "not a seal store")
	_, err = OpenReadOnly(other)
	wantErr(t, err, other, "not a seal store")

	// A zero-length file is an empty database: it becomes a store.
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := Open(empty)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

func TestSchemaVersions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seal.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	run := mustRun(t, db, Run{Name: "keep me"})
	// Pretend a newer program migrated the file.
	if _, err := db.w.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future.sql', '')`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(path)
	_, err = Open(path)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open of a newer file: %v", err)
	}
	wantErr(t, err, path, fmt.Sprintf("schema version %d", SchemaVersion()+1), "newer seal")
	_, err = OpenReadOnly(path)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("OpenReadOnly of a newer file: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("refusing a newer file still changed it")
	}

	// An older file: OpenReadOnly says how to upgrade; Open upgrades it.
	old := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite3", old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, err = OpenReadOnly(old)
	wantErr(t, err, old, "older", "upgrade")
	db, err = Open(old)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := OpenReadOnly(old)
	if err != nil {
		t.Fatal(err)
	}
	ro.Close()
	_ = run
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seal.db")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	run := mustRun(t, w, Run{Name: "live"})
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if !ro.ReadOnly() {
		t.Fatal("ReadOnly() false")
	}
	// The reader sees what the writer commits while both are open.
	c := cand(run, CandidateKey{0, 0, 0}, 3, 3)
	if _, err := w.SaveCandidate(&c); err != nil {
		t.Fatal(err)
	}
	got, err := ro.Candidate(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameCandidate(t, got, c)

	for name, f := range map[string]func() error{
		"CreateRun":     func() error { _, err := ro.CreateRun(Run{}); return err },
		"SetRunStatus":  func() error { return ro.SetRunStatus(run, StatusDone, "") },
		"SaveTasks":     func() error { return ro.SaveTasks(run, nil) },
		"SaveCandidate": func() error { c := cand(run, CandidateKey{1, 0, 0}, 0, 0); _, err := ro.SaveCandidate(&c); return err },
		"SaveReview":    func() error { _, err := ro.SaveReview(Review{CandidateID: c.ID, Verdict: VerdictApprove}); return err },
		"SaveRound":     func() error { return ro.SaveRound(Round{RunID: run}) },
		"SaveRetention": func() error { return ro.SaveRetention([]RetentionCell{{run, 1, 1, 1}}) },
		"SaveMetrics":   func() error { return ro.SaveMetrics([]Metric{{run, "m", 1}}) },
	} {
		err := f()
		if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s on a read-only store: %v", name, err)
		}
	}
	if r, _ := ro.Run(run); r.Status != StatusInterrupted || r.Owner.Token != "" { // running, no owner
		t.Fatal("a read-only store changed the run")
	}
}

// TestWriteErrorKeepsRunConsistent fills the database to a page limit, which makes
// SQLite fail exactly as on a full disk (SQLITE_FULL). The error names the file and
// the candidate, the failed candidate leaves no rows behind, everything committed
// before is whole, and once there is room again the same candidate saves.
func TestWriteErrorKeepsRunConsistent(t *testing.T) {
	db := openTemp(t)
	run := mustRun(t, db, Run{})
	var pages int
	if err := db.w.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+10)); err != nil {
		t.Fatal(err)
	}
	var saved []Candidate
	var err error
	var failed Candidate
	for i := 0; i < 200; i++ {
		c := cand(run, CandidateKey{0, 0, i}, 30, 30)
		if _, err = db.SaveCandidate(&c); err != nil {
			failed = c
			break
		}
		saved = append(saved, c)
	}
	if err == nil {
		t.Fatal("the page limit never stopped a write")
	}
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrFull {
		t.Fatalf("want SQLITE_FULL, got %v", err)
	}
	wantErr(t, err, db.Path(), fmt.Sprintf("index %d", failed.Index), "full")
	if len(saved) == 0 {
		t.Fatal("nothing fit below the limit; the test proves nothing")
	}
	check := func() {
		t.Helper()
		fin, err := db.Finished(run)
		if err != nil {
			t.Fatal(err)
		}
		if len(fin) != len(saved) {
			t.Fatalf("%d candidates in the file, %d saved", len(fin), len(saved))
		}
		for _, c := range saved {
			got, err := db.Candidate(c.ID)
			if err != nil {
				t.Fatal(err)
			}
			sameCandidate(t, got, c)
		}
		var orphans int
		if err := db.r.QueryRow(`SELECT (SELECT count(*) FROM eval_items WHERE candidate_id NOT IN (SELECT id FROM candidates)) +
			(SELECT count(*) FROM train_points WHERE candidate_id NOT IN (SELECT id FROM candidates))`).Scan(&orphans); err != nil {
			t.Fatal(err)
		}
		if orphans != 0 {
			t.Fatalf("%d rows of a failed candidate were left behind", orphans)
		}
		if err := db.IntegrityCheck(); err != nil {
			t.Fatal(err)
		}
	}
	check()
	// The writer is still usable after the failure (the transaction was rolled back).
	if err := db.SetRunStatus(run, StatusFailed, err.Error()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec(`PRAGMA max_page_count = 1000000`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveCandidate(&failed); err != nil {
		t.Fatalf("after room was made: %v", err)
	}
	saved = append(saved, failed)
	check()
}

// TestReadOnlyFolder needs a user that permissions apply to; root is covered by the
// read-only mount in TestFullAndReadOnlyFilesystems (Linux).
func TestReadOnlyFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file permissions; see TestFullAndReadOnlyFilesystems")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "seal.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	run := mustRun(t, db, Run{Name: "before"})
	db.Close()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })

	_, err = Open(filepath.Join(dir, "new.db"))
	wantErr(t, err, filepath.Join(dir, "new.db"), "cannot write")
	_, err = Open(path)
	wantErr(t, err, path, "cannot write")
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if r, err := ro.Run(run); err != nil || r.Name != "before" {
		t.Fatalf("%+v %v", r, err)
	}

	// A read-only file in a writable folder.
	os.Chmod(dir, 0o755)
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path)
	wantErr(t, err, path, "cannot write")
}
