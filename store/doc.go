// Package store is the system of record: every run, task, candidate (with its loss
// curve and graded answers), review, ReST-EM round, retention cell and run metric,
// kept in one SQLite file.
//
// Shape:
//
//   - One writer connection (a *sql.DB capped at one connection, _txlock=immediate):
//     every write method is one BEGIN IMMEDIATE ... COMMIT and returns only after
//     the COMMIT, so a caller that got a nil error knows the data is on disk.
//     Concurrent callers queue for that connection.
//   - A separate read-only pool (mode=ro) for queries; WAL mode lets it read while
//     the writer writes. Multi-query reads run in one read transaction, so they see
//     one snapshot.
//   - The schema lives in migrations/NNNN_name.sql (embedded), each applied in one
//     transaction and recorded in schema_migrations. A file written by a newer
//     program is refused (ErrNewerSchema), never modified.
//   - synchronous=FULL: one fsync per commit costs milliseconds, a candidate costs
//     seconds of training, and a committed candidate then survives a power cut too.
//
// Errors name the database file. Sentinels for errors.Is: ErrNotFound, ErrDuplicate,
// ErrReadOnly, ErrClosed, ErrNewerSchema, ErrInvalid.
package store
