package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"

	"seal/engine"
)

// parseInterleaved parses flags that may come after the positional arguments
// (`seal rollback 3 --to 7`): the standard flag package stops at the first one.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func runNumber(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not a run number", s)
	}
	return id, nil
}

// cmdRollback starts a new run that branches from a version of RUN's tree and goes on
// from there; the original run and its versions stay as they are.
func cmdRollback(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rollback", stderr)
	db := addDBFlag(fs)
	to := fs.Int64("to", 0, "the version to go back to (a number from seal versions RUN)")
	device := addDeviceFlag(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 || *to <= 0 {
		fs.Usage()
		return 2
	}
	id, err := runNumber(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "seal rollback: %v\n", err)
		return 2
	}
	return startAndFollow("seal rollback", db.path(), device, nil, stdout, stderr, func(e *engine.Engine, ctx context.Context) (*engine.Run, error) {
		return e.Rollback(ctx, id, *to)
	})
}
