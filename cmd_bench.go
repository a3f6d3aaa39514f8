package main

import (
	"fmt"
	"io"

	"seal/models/bench"
)

func cmdBench(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", stderr)
	quick := fs.Bool("quick", false, "small, fast measurements (a first look, not figures to report)")
	skip1B := fs.Bool("skip-1b", false, "leave out the Llama-3.2-1B-shaped model (2.5 GB of weights)")
	device := addDeviceFlag(fs)
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	b, err := device.open("seal bench", stderr)
	if err != nil {
		fmt.Fprintf(stderr, "seal bench: %v\n", err)
		return 2
	}
	if err := bench.Run(stdout, bench.Options{Quick: *quick, Skip1B: *skip1B, Backend: b}); err != nil {
		fmt.Fprintf(stderr, "seal bench: %v\n", err)
		return 1
	}
	return 0
}
