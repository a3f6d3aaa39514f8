package main

import (
	"fmt"
	"io"

	"seal/engine"
	"seal/store/termsafe"
)

// cmdVersions prints the version tree of a run's family: every committed version
// (base + ordered adapters), branches, and the held or rejected changes.
func cmdVersions(args []string, stdout, stderr io.Writer) int {
	d, id, code := openRunArg("versions", args, stderr, nil)
	if d == nil {
		return code
	}
	defer d.Close()
	tree, err := d.VersionTree(id)
	if err != nil {
		fmt.Fprintf(stderr, "seal versions: %v\n", err)
		return 1
	}
	if len(tree) == 0 {
		fmt.Fprintf(stderr, "seal versions: run %d has no ledger (it was made before versions were recorded)\n", id)
		return 1
	}
	head, _, err := d.HeadVersion(id)
	if err != nil {
		fmt.Fprintf(stderr, "seal versions: %v\n", err)
		return 1
	}
	for _, l := range engine.VersionTreeLines(tree, head.ID) {
		fmt.Fprintln(stdout, termsafe.Line(l)) // a line quotes the edit's source and the guard's reason
	}
	return 0
}
