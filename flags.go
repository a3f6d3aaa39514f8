package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"seal/engine"
	"seal/store"
)

// dbFlag is --db, on every command that reads or writes runs.
type dbFlag struct{ value string }

func addDBFlag(fs *flag.FlagSet) *dbFlag {
	d := new(dbFlag)
	fs.StringVar(&d.value, "db", "", "SQLite file of the run history (default $SEAL_DB or ~/.local/share/seal/seal.db)")
	return d
}

// path is the store the flag names, or where runs are kept without it.
func (d *dbFlag) path() string { return dbPath(d.value) }

// modelHelp is what --model says wherever it names a model folder to compute with.
const modelHelp = "Hugging Face model folder (config.json, *.safetensors, tokenizer.json)"

// addModelFlag is --model, the model folder, into p (whose value is the default); note,
// when given, follows the shared help after a semicolon.
func addModelFlag(fs *flag.FlagSet, p *string, note string) {
	help := modelHelp
	if note != "" {
		help += "; " + note
	}
	fs.StringVar(p, "model", *p, help)
}

// dbPath is where runs are kept: --db, $SEAL_DB, or the user's data folder.
func dbPath(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if p := os.Getenv("SEAL_DB"); p != "" {
		return p
	}
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "seal.db"
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "seal", "seal.db")
}

func openDB(path string, write bool) (*store.DB, error) {
	if write {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		return store.Open(path)
	}
	return store.OpenReadOnly(path)
}

func runArg(fs *flag.FlagSet, stderr io.Writer) (int64, bool) {
	if fs.NArg() != 1 {
		fs.Usage()
		return 0, false
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil {
		fmt.Fprintf(stderr, "%q is not a run number\n", fs.Arg(0))
		return 0, false
	}
	return id, true
}

// openRunArg parses the flags of a command that reads one run (--db, plus what more
// adds) and opens the store read-only; d is nil when it failed, with the exit code.
func openRunArg(name string, args []string, stderr io.Writer, more func(*flag.FlagSet)) (d *store.DB, id int64, code int) {
	fs := newFlagSet(name, stderr)
	db := addDBFlag(fs)
	if more != nil {
		more(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, 0, flagExit(err)
	}
	id, ok := runArg(fs, stderr)
	if !ok {
		return nil, 0, 2
	}
	d, err := openDB(db.path(), false)
	if err != nil {
		fmt.Fprintf(stderr, "seal %s: %v\n", name, err)
		return nil, 0, 1
	}
	return d, id, 0
}

// float32Value is a flag for a float32 setting.
type float32Value float32

func (f *float32Value) String() string { return strconv.FormatFloat(float64(*f), 'g', -1, 32) }

func (f *float32Value) Set(s string) error {
	v, err := strconv.ParseFloat(s, 32)
	if err != nil {
		return err
	}
	*f = float32Value(v)
	return nil
}

// listValue is a flag for a comma-separated list.
type listValue []string

func (l *listValue) String() string { return strings.Join(*l, ",") }

func (l *listValue) Set(s string) error { *l = strings.Split(s, ","); return nil }

// addRLFlags defines --rl-data and --rl-passages, the RL tasks apart from the
// evaluation tasks (RunSpec.RLData).
func addRLFlags(fs *flag.FlagSet, spec *engine.RunSpec) {
	fs.StringVar(&spec.RLData, "rl-data", spec.RLData, "RL tasks, in --data's format (SQuAD-format JSON of passages; for --domain arc an ARC challenges JSON with its solutions file beside it): each ReST-EM round trains the policy on self-edits of --rl-passages fresh ones, taken in order, and --data's tasks only measure each round's policy; default on the default data: the world's train split, or procedural ARC training tasks; else none (RL and evaluation tasks are the same)")
	fs.IntVar(&spec.RLPassages, "rl-passages", spec.RLPassages, "RL passages (ARC: tasks) per round (with --rl-data; default on the default data: as many as --passages)")
}

// addSplitFlag defines --split, the split of the default data the evaluation passages come from.
func addSplitFlag(fs *flag.FlagSet) *string {
	return fs.String("split", "", "split of the default data to evaluate on: val (for tuning; the default) or test (for the table; nothing is tuned on it)")
}
