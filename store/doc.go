// Package store is the system of record: every run, candidate, reward and review verdict
// kept in SQLite, with one writer and a read pool for the UI.
package store
