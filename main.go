// Command seal is a terminal workbench for self-adapting language models (SEAL).
// This file only dispatches: the command table is in commands.go and each command,
// its flags and its work, in its own cmd_*.go file.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code, so tests can call it.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && !isHelpFlag(args[0]) {
		return cmdWorkbench(args, stdout, stderr)
	}
	if isHelpFlag(args[0]) {
		printHelp(stdout)
		return 0
	}
	if c, ok := lookup(args[0]); ok {
		return c.run(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "seal: unknown command %q\n\n", args[0])
	printHelp(stderr)
	return 2
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }
