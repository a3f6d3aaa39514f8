package store

import (
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Sentinel errors, for errors.Is. The returned errors wrap them with the file and
// the operation.
var (
	ErrNotFound    = errors.New("not found")
	ErrDuplicate   = errors.New("already saved")
	ErrReadOnly    = errors.New("opened read-only")
	ErrClosed      = errors.New("store is closed")
	ErrNewerSchema = errors.New("schema is newer than this program")
	ErrInvalid     = errors.New("invalid input")
)

// busyTimeout is how long a write waits for another process's write lock (a second
// seal process on the same file) before giving up with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// readConns caps the read pool: the UI and the CLI need a few readers, not many.
const readConns = 4

// DB is one open store file. Safe for concurrent use.
type DB struct {
	path string
	w    *sql.DB // nil when opened read-only
	r    *sql.DB

	// mu is held shared by every call for its whole duration and exclusively by
	// Close, so Close waits for in-flight writes and later calls get ErrClosed.
	mu     sync.RWMutex
	closed bool

	// fences holds the lease token of each run this handle claimed (lease.go).
	fences sync.Map
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations are parsed once; a malformed embedded set is a build mistake, so it
// panics at init rather than at some user's first Open.
var migrations = mustLoadMigrations()

func mustLoadMigrations() []migration {
	ents, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		panic(err)
	}
	var ms []migration
	for _, e := range ents {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(name, ".sql") {
			panic("store: migration file name is not NNNN_name.sql: " + name)
		}
		b, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			panic(fmt.Sprintf("store: migrations must be numbered 1..n without gaps; %s is number %d", m.name, i+1))
		}
	}
	return ms
}

// SchemaVersion is the schema version this program writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// uri makes a SQLite URI for path; '?', '#' and '%' in a path would otherwise be
// read as URI syntax, and an absolute path gets an empty authority ("file:///x")
// so that one starting with "//" is not read as a host.
func uri(path string, params string) string {
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	if filepath.IsAbs(path) {
		p = "//" + p
	}
	return "file:" + p + "?" + params
}

// Open opens (creating if needed) the store at path, applies pending migrations and
// returns a DB with one writer connection and a read-only pool.
func Open(path string) (*DB, error) {
	if err := checkPath(path, true); err != nil {
		return nil, err
	}
	dsn := uri(path, fmt.Sprintf("mode=rwc&_txlock=immediate&_journal_mode=WAL&_synchronous=FULL&_foreign_keys=1&_busy_timeout=%d",
		busyTimeout.Milliseconds()))
	w, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, openErr(path, err)
	}
	// One connection: SQLite has one writer anyway, and queueing in database/sql is
	// kinder than SQLITE_BUSY. No idle expiry, so per-connection pragmas stay set.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, openErr(path, err)
	}
	if err := migrate(w); err != nil {
		w.Close()
		return nil, openErr(path, err)
	}
	if err := probeWrite(w); err != nil {
		w.Close()
		return nil, openErr(path, err)
	}
	r, err := openReader(path, false)
	if err != nil {
		w.Close()
		return nil, openErr(path, err)
	}
	return &DB{path: path, w: w, r: r}, nil
}

// OpenReadOnly opens an existing store for queries only (seal runs, show, compare,
// export and the UI); every write method returns ErrReadOnly. It never creates
// or migrates the file.
func OpenReadOnly(path string) (*DB, error) {
	if err := checkPath(path, false); err != nil {
		return nil, err
	}
	r, err := openReader(path, false)
	if err == nil {
		err = checkSchema(r)
	}
	if err != nil && cannotWrite(err) && !exists(path+"-wal") {
		// In a folder we cannot write (read-only media, another user's files) a
		// WAL database cannot be opened normally: its -shm cannot be created. No
		// -wal file means no writer has it open, so reading it as immutable is safe.
		if r != nil {
			r.Close()
		}
		r, err = openReader(path, true)
		if err == nil {
			err = checkSchema(r)
		}
	}
	if err != nil {
		if r != nil {
			r.Close()
		}
		return nil, openErr(path, err)
	}
	return &DB{path: path, r: r}, nil
}

func openReader(path string, immutable bool) (*sql.DB, error) {
	params := fmt.Sprintf("mode=ro&_busy_timeout=%d", busyTimeout.Milliseconds())
	if immutable {
		params += "&immutable=1"
	}
	r, err := sql.Open("sqlite3", uri(path, params))
	if err != nil {
		return nil, err
	}
	r.SetMaxOpenConns(readConns)
	r.SetMaxIdleConns(readConns)
	if err := r.Ping(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// checkPath gives the common mistakes a plain message before SQLite gives a
// vague one ("unable to open database file").
func checkPath(path string, create bool) error {
	if path == "" {
		return errors.New("store: open: empty database path")
	}
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("store: open %s: is a directory, not a database file", path)
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("store: open %s: not a regular file", path)
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("store: open %s: %w", path, err)
	case !create:
		return fmt.Errorf("store: open %s: no such database file", path)
	}
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("store: open %s: folder %s does not exist", path, dir)
	case err != nil:
		return fmt.Errorf("store: open %s: %w", path, err)
	case !di.IsDir():
		return fmt.Errorf("store: open %s: %s is not a folder", path, dir)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// cannotWrite reports SQLite errors that mean "this location is not writable".
func cannotWrite(err error) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case sqlite3.ErrCantOpen, sqlite3.ErrPerm, sqlite3.ErrReadonly:
		return true
	}
	return false
}

// openErr names the file and turns SQLite's terse codes into what to check.
func openErr(path string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrNotADB:
			return fmt.Errorf("store: open %s: not a SQLite database: %w", path, err)
		case sqlite3.ErrCorrupt:
			return fmt.Errorf("store: open %s: the database is corrupt: %w", path, err)
		case sqlite3.ErrCantOpen, sqlite3.ErrPerm, sqlite3.ErrReadonly:
			return fmt.Errorf("store: open %s: cannot write the file or its -wal/-shm files beside it%s: %w", path, writeProblem(path), err)
		case sqlite3.ErrFull:
			return fmt.Errorf("store: open %s: disk is full: %w", path, err)
		}
	}
	return fmt.Errorf("store: open %s: %w", path, err)
}

// writeProblem says, when it can find out, why path or its folder is not writable.
// Only called on the error path; the probe file is removed at once.
func writeProblem(path string) string {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".seal-probe-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Sprintf(" (folder %s: %v)", dir, err)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	if f, err := os.OpenFile(path, os.O_WRONLY, 0); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return " (the file is read-only)"
		}
	} else {
		f.Close()
	}
	return ""
}

// migrate applies, in order, each migration newer than the file's version, each in
// its own BEGIN IMMEDIATE transaction (the version is re-read inside it, so two
// processes opening one new file at once do not both apply it).
func migrate(w *sql.DB) error {
	latest := SchemaVersion()
	for _, m := range migrations {
		tx, err := w.Begin()
		if err != nil {
			return err
		}
		cur, err := schemaVersion(tx)
		if err == nil && cur < 0 {
			var n int
			if err = tx.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'`).Scan(&n); err == nil && n > 0 {
				err = errors.New("a SQLite database but not a seal store (it has tables and no schema_migrations)")
			}
			if err == nil {
				_, err = tx.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
				cur = 0
			}
		}
		if err == nil && cur > latest {
			err = fmt.Errorf("%w: the file is at schema version %d, this program knows up to %d; use a newer seal", ErrNewerSchema, cur, latest)
		}
		if err != nil || m.version <= cur {
			tx.Rollback()
			if err != nil {
				return err
			}
			continue
		}
		if _, err := tx.Exec(m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, fmtTime(time.Now())); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// probeWrite fails now, not at the first candidate, when SQLite silently opened
// the file read-only (a read-only file in a writable folder): a write statement
// that matches no row still needs write access. Rolled back; nothing changes.
func probeWrite(w *sql.DB) error {
	tx, err := w.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	_, err = tx.Exec(`UPDATE schema_migrations SET name = name WHERE 0`)
	return err
}

type queryer interface {
	QueryRow(query string, args ...any) *sql.Row
}

// schemaVersion is the highest applied migration, or -1 when the file has no
// schema_migrations table.
func schemaVersion(q queryer) (int, error) {
	var n int
	if err := q.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil {
		return 0, err
	}
	if n == 0 {
		return -1, nil
	}
	var v int
	err := q.QueryRow(`SELECT COALESCE(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// checkSchema is OpenReadOnly's guard: it cannot migrate, so the file must be at
// exactly this program's version.
func checkSchema(r *sql.DB) error {
	v, err := schemaVersion(r)
	switch {
	case err != nil:
		return err
	case v < 0:
		return errors.New("not a seal store (no schema_migrations table)")
	case v > SchemaVersion():
		return fmt.Errorf("%w: the file is at schema version %d, this program knows up to %d; use a newer seal", ErrNewerSchema, v, SchemaVersion())
	case v < SchemaVersion():
		return fmt.Errorf("the file is at schema version %d, older than %d: open it once for writing (e.g. seal run) to upgrade it", v, SchemaVersion())
	}
	return nil
}

// Close waits for calls in flight, then closes both pools. Safe to call twice.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	err := db.r.Close()
	if db.w != nil {
		// The writer closes last: as the last connection it checkpoints the WAL
		// into the main file and removes -wal and -shm.
		err = errors.Join(err, db.w.Close())
	}
	if err != nil {
		return fmt.Errorf("store: close %s: %w", db.path, err)
	}
	return nil
}

// Path is the file this DB was opened from, as given.
func (db *DB) Path() string { return db.path }

// ReadOnly reports whether db came from OpenReadOnly.
func (db *DB) ReadOnly() bool { return db.w == nil }

// notFound is ErrNotFound with the message "store: no run 7 in /x/seal.db".
type notFound struct {
	what string
	id   int64
	path string
}

func (e *notFound) Error() string {
	return fmt.Sprintf("store: no %s %d in %s", e.what, e.id, e.path)
}

func (e *notFound) Is(target error) bool { return target == ErrNotFound }

func (db *DB) notFound(what string, id int64) error { return &notFound{what, id, db.path} }

// wrap names the operation and the file, unless err already does.
func (db *DB) wrap(op string, err error) error {
	var nf *notFound
	if err == nil || errors.As(err, &nf) {
		return err
	}
	return fmt.Errorf("store: %s in %s: %w", op, db.path, err)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// write runs fn in one BEGIN IMMEDIATE transaction on the writer and returns after
// COMMIT; any error rolls everything back.
func (db *DB) write(op string, fn func(tx *sql.Tx) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return db.wrap(op, ErrClosed)
	}
	if db.w == nil {
		return db.wrap(op, ErrReadOnly)
	}
	tx, err := db.w.Begin()
	if err != nil {
		return db.wrap(op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return db.wrap(op, err)
	}
	if err := tx.Commit(); err != nil { // the driver rolls back a failed COMMIT
		return db.wrap(op, err)
	}
	return nil
}

// read runs fn in one read transaction on the read pool: one consistent snapshot.
func (db *DB) read(op string, fn func(tx *sql.Tx) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return db.wrap(op, ErrClosed)
	}
	tx, err := db.r.Begin()
	if err != nil {
		return db.wrap(op, err)
	}
	defer tx.Rollback()
	return db.wrap(op, fn(tx))
}

// IntegrityCheck runs SQLite's integrity_check and foreign_key_check; nil means
// the file is sound.
func (db *DB) IntegrityCheck() error {
	return db.read("integrity check", func(tx *sql.Tx) error {
		rows, err := tx.Query(`PRAGMA integrity_check`)
		if err != nil {
			return err
		}
		var msgs []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return err
			}
			if s != "ok" {
				msgs = append(msgs, s)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		frows, err := tx.Query(`PRAGMA foreign_key_check`)
		if err != nil {
			return err
		}
		defer frows.Close()
		for frows.Next() {
			var table, parent string
			var rowid sql.NullInt64
			var fk int
			if err := frows.Scan(&table, &rowid, &parent, &fk); err != nil {
				return err
			}
			msgs = append(msgs, fmt.Sprintf("%s row %d points at a missing %s", table, rowid.Int64, parent))
		}
		if err := frows.Err(); err != nil {
			return err
		}
		if len(msgs) > 0 {
			return errors.New(strings.Join(msgs, "; "))
		}
		return nil
	})
}

// Time layout: fixed width, UTC, so TEXT comparison is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(timeLayout, s)
}

// orNow keeps a caller's time (an import, a replay) and stamps the rest.
func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// tm scans a stored time.
type tm struct{ p *time.Time }

func (t tm) Scan(v any) error {
	var s string
	switch x := v.(type) {
	case nil:
		*t.p = time.Time{}
		return nil
	case string:
		s = x
	case []byte:
		s = string(x)
	default:
		return fmt.Errorf("time column holds %T", v)
	}
	p, err := parseTime(s)
	*t.p = p
	return err
}

// flt scans a REAL that may be NULL (SQLite stores NaN as NULL) back into NaN.
type flt struct{ p *float64 }

func (f flt) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*f.p = math.NaN()
	case float64:
		*f.p = x
	case int64:
		*f.p = float64(x)
	default:
		return fmt.Errorf("number column holds %T", v)
	}
	return nil
}

// rawJSON scans a JSON TEXT column; NULL and "" become nil.
type rawJSON struct{ p *[]byte }

func (j rawJSON) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*j.p = nil
	case string:
		if x == "" {
			*j.p = nil
		} else {
			*j.p = []byte(x)
		}
	case []byte:
		if len(x) == 0 {
			*j.p = nil
		} else {
			*j.p = append([]byte(nil), x...)
		}
	default:
		return fmt.Errorf("JSON column holds %T", v)
	}
	return nil
}

// jsonArg stores raw JSON as TEXT (NULL when empty).
func jsonArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
