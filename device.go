package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	_ "seal/models/cpu" // the backends built into seal register themselves
	"seal/models/tensor"
)

// deviceFlag is --device on every command that computes. Set opens the backend while
// the flags are parsed, so a device this build lacks fails like any bad flag value
// (exit 2, the flag named), before the command does any work.
type deviceFlag struct {
	name    string
	backend tensor.Backend
}

// addDeviceFlag gives a command its --device flag, "auto" unless given.
func addDeviceFlag(fs *flag.FlagSet) *deviceFlag {
	d := &deviceFlag{name: "auto"}
	fs.Var(d, "device", "where the model computes: `"+strings.Join(tensor.Devices, "|")+"` (auto: a GPU backend built in and working, else cpu)")
	return d
}

func (d *deviceFlag) String() string {
	if d == nil {
		return ""
	}
	return d.name
}

func (d *deviceFlag) Set(name string) error {
	if d.backend != nil && name == d.name {
		return nil // seal run parses its flags again over a --config file: open once
	}
	b, err := tensor.Open(name)
	if err != nil {
		return err
	}
	d.name, d.backend = name, b
	return nil
}

// open returns the chosen backend (opening the default when the flag was not given)
// and says on stderr which one computes; cmd prefixes the line.
func (d *deviceFlag) open(cmd string, stderr io.Writer) (tensor.Backend, error) {
	if d.backend == nil {
		if err := d.Set(d.name); err != nil {
			return nil, fmt.Errorf("--device %s: %w", d.name, err)
		}
	}
	fmt.Fprintf(stderr, "%s: computing on %s\n", cmd, d.backend.Name())
	return d.backend, nil
}
