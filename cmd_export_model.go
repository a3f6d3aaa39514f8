package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"seal/engine"
	"seal/store/termsafe"
)

// cmdExportModel writes a model version of a run out of seal: a PEFT adapter folder
// for the base, or with --merged a complete Hugging Face model folder. The export is
// loaded back and checked against the version's logits fingerprint before it appears.
func cmdExportModel(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("export-model", stderr)
	db := addDBFlag(fs)
	version := fs.Int64("version", 0, "the version to export (a number from seal versions RUN; default the run's head)")
	out := fs.String("out", "", "the folder to write; it must not exist or be empty (nothing is overwritten)")
	merged := fs.Bool("merged", false, "write a complete Hugging Face model folder (weights merged, tokenizer, chat template) instead of a PEFT adapter")
	device := addDeviceFlag(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 || *out == "" || *version < 0 {
		fs.Usage()
		return 2
	}
	id, err := runNumber(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "seal export-model: %v\n", err)
		return 2
	}
	b, err := device.open("seal export-model", stderr)
	if err != nil {
		fmt.Fprintf(stderr, "seal export-model: %v\n", err)
		return 2
	}
	d, err := openDB(db.path(), false)
	if err != nil {
		fmt.Fprintf(stderr, "seal export-model: %v\n", err)
		return 1
	}
	defer d.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	x, err := engine.New(d, b).ExportModel(ctx, id, *version, *out, *merged)
	if err != nil {
		fmt.Fprintf(stderr, "seal export-model: %s\n", termsafe.Line(err.Error()))
		return 1
	}
	fmt.Fprintln(stdout, termsafe.Line(engine.ExportedLine(x)))
	return 0
}
