package main

import (
	"context"
	"io"

	"seal/engine"
)

func cmdResume(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("resume", stderr)
	db := addDBFlag(fs)
	device := addDeviceFlag(fs)
	nf := addNATSFlags(fs, true)
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	id, ok := runArg(fs, stderr)
	if !ok {
		return 2
	}
	return startAndFollow("seal resume", db.path(), device, nf, stdout, stderr, func(e *engine.Engine, ctx context.Context) (*engine.Run, error) {
		return e.Resume(ctx, id)
	})
}
