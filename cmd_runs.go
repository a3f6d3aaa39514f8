package main

import (
	"fmt"
	"io"

	"seal/store"
	"seal/store/termsafe"
)

func cmdRuns(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("runs", stderr)
	db := addDBFlag(fs)
	var f store.RunFilter
	fs.StringVar(&f.Domain, "domain", "", "only runs of this domain")
	fs.StringVar(&f.Model, "model", "", "only runs of this model folder")
	fs.StringVar(&f.Status, "status", "", "only runs with this status (running, interrupted, done, failed, cancelled)")
	fs.IntVar(&f.Limit, "limit", 50, "most runs to list")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	d, err := openDB(db.path(), false)
	if err != nil {
		fmt.Fprintf(stderr, "seal runs: %v\n", err)
		return 1
	}
	defer d.Close()
	runs, err := d.Runs(f)
	if err != nil {
		fmt.Fprintf(stderr, "seal runs: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%-5s %-10s %-9s %-10s %6s %6s %8s  %s\n", "RUN", "STATUS", "DOMAIN", "CREATED", "CANDS", "ROUNDS", "REWARD", "NAME")
	for _, r := range runs {
		fmt.Fprintf(stdout, "%-5d %-10s %-9s %-10s %6d %6d %+8.3f  %s\n", r.ID, termsafe.Line(r.Status), termsafe.Line(r.Domain), r.CreatedAt.Format("01-02 15:04"), r.Candidates, r.Rounds, r.MeanReward, termsafe.Line(r.Name))
	}
	return 0
}
