package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"seal/models/bench"
)

func cmdBench(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", stderr)
	quick := fs.Bool("quick", false, "small, fast measurements (a first look, not figures to report)")
	skip1B := fs.Bool("skip-1b", false, "leave out the Llama-3.2-1B-shaped model (2.5 GB of weights)")
	compare := fs.Bool("compare-torch", false, "then run the same shapes in PyTorch on the CPU and print both with the ratio")
	script := fs.String("torch-script", "", "the PyTorch reference script (default: tools/torchbench/torchbench.py in the module root)")
	limit := fs.Duration("torch-limit", 30*time.Minute, "the longest PyTorch's run of one model may take before it is stopped and left out (0: no limit)")
	device := addDeviceFlag(fs)
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if *limit < 0 {
		fmt.Fprintf(stderr, "seal bench: --torch-limit %v: want 0 (no limit) or a positive duration\n", *limit)
		return 2
	}
	torchScript, err := torchScriptFor(*compare, *script)
	if err != nil {
		fmt.Fprintf(stderr, "seal bench: %v\n", err)
		return 2
	}
	b, err := device.open("seal bench", stderr)
	if err != nil {
		fmt.Fprintf(stderr, "seal bench: %v\n", err)
		return 2
	}
	if torchScript != "" {
		if err := bench.TorchAvailable(bench.TorchPython); err != nil {
			fmt.Fprintf(stdout, "PyTorch side by side skipped: %v; seal's figures alone\n\n", err)
			torchScript = ""
		}
	}
	var results bench.Results
	if err := bench.Run(stdout, bench.Options{Quick: *quick, Skip1B: *skip1B, Backend: b, Results: &results}); err != nil {
		fmt.Fprintf(stderr, "seal bench: %v\n", err)
		return 1
	}
	if torchScript == "" {
		return 0
	}
	// After seal's figures, never beside them: the two would share the cores.
	report, err := bench.RunTorch(bench.TorchPython, torchScript, bench.TorchOptions{Quick: *quick, Skip1B: *skip1B, Limit: *limit}, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "seal bench: --compare-torch: %v\n", err)
		return 1
	}
	bench.PrintComparison(stdout, results.Models, report)
	return 0
}

// torchScriptFor returns the script to run, "" when no comparison is asked for.
func torchScriptFor(compare bool, script string) (string, error) {
	if !compare {
		if script != "" {
			return "", errors.New("--torch-script is given without --compare-torch")
		}
		return "", nil
	}
	if script != "" {
		if _, err := os.Stat(script); err != nil {
			return "", fmt.Errorf("--torch-script %s: %v", script, err)
		}
		return script, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	p, err := bench.FindTorchScript(wd)
	if err != nil {
		return "", fmt.Errorf("--compare-torch: %v", err)
	}
	return p, nil
}
