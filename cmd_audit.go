package main

import (
	"fmt"
	"io"

	"seal/engine"
	"seal/store/termsafe"
)

// cmdAudit prints a run's ledger as JSON lines: every weight change with its input,
// the guard's numbers and the verdicts on it.
func cmdAudit(args []string, stdout, stderr io.Writer) int {
	d, id, code := openRunArg("audit", args, stderr, nil)
	if d == nil {
		return code
	}
	defer d.Close()
	recs, err := engine.Audit(d, id)
	if err == nil {
		err = engine.WriteAudit(termsafe.JSONWriter(stdout), recs) // exact strings, C1 and bidi as \u escapes
	}
	if err != nil {
		fmt.Fprintf(stderr, "seal audit: %v\n", err)
		return 1
	}
	return 0
}
