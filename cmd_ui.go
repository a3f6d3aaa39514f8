package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"seal/engine"
	"seal/ui"
)

// cmdWorkbench starts the terminal workbench on the launcher, prefilled with the
// embedded model and the synthetic world; without a terminal it prints the help.
func cmdWorkbench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := addDBFlag(fs)
	spec := engine.DefaultSpec()
	addModelFlag(fs, &spec.Model, "default: the embedded model")
	fs.StringVar(&spec.Data, "data", "", "SQuAD-format JSON; default: the synthetic world's held-out val split")
	device := addDeviceFlag(fs)
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	engine.ApplyPreset(&spec, nil) // the embedded model's tuned settings prefill the launcher, as `seal run` takes them
	if !isTerminal(stdout) || !isTerminal(os.Stdin) {
		printHelp(stdout)
		if len(args) > 0 {
			fmt.Fprintln(stderr, "seal: the workbench needs a terminal")
			return 2
		}
		return 0
	}
	b, err := device.open("seal", io.Discard) // the status line shows it
	if err != nil {
		fmt.Fprintf(stderr, "seal: %v\n", err)
		return 2
	}
	d, err := openDB(db.path(), true)
	if err != nil {
		fmt.Fprintf(stderr, "seal: %v\n", err)
		return 1
	}
	defer d.Close()
	err = ui.Run(ui.Options{DB: d, Engine: engine.New(d, b), Device: b.Name(), Spec: spec, Defaults: defaultModelAndData, Paired: pairedRunsOf})
	if err != nil {
		fmt.Fprintf(stderr, "seal: %v\n", err)
		return 1
	}
	return 0
}
