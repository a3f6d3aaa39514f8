package main

import (
	"fmt"
	"io"
	"strconv"

	"seal/store/termsafe"
)

func cmdCompare(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("compare", stderr)
	db := addDBFlag(fs)
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return 2
	}
	d, err := openDB(db.path(), false)
	if err != nil {
		fmt.Fprintf(stderr, "seal compare: %v\n", err)
		return 1
	}
	defer d.Close()
	var ids []int64
	for _, a := range fs.Args() {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			fmt.Fprintf(stderr, "seal compare: %q is not a run number\n", a)
			return 2
		}
		ids = append(ids, id)
	}
	cmp, err := d.Compare(ids)
	if err != nil {
		fmt.Fprintf(stderr, "seal compare: %v\n", err)
		return 1
	}
	configs, metrics := cmp.Configs, cmp.Metrics
	header := fmt.Sprintf("%-28s", "")
	for _, id := range ids {
		header += fmt.Sprintf(" %14s", fmt.Sprintf("run %d", id))
	}
	fmt.Fprintln(stdout, "config differences")
	fmt.Fprintln(stdout, header)
	for _, k := range cmp.ConfigDiff() {
		line := fmt.Sprintf("%-28s", termsafe.Line(k))
		for _, c := range configs {
			line += fmt.Sprintf(" %14s", clipString(termsafe.Line(fmt.Sprint(c[k])), 14))
		}
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "\nmetrics (delta against run %d)\n%s\n", ids[0], header)
	for _, k := range cmp.MetricNames() {
		line := fmt.Sprintf("%-28s", termsafe.Line(k))
		base, hasBase := metrics[0][k]
		for i, m := range metrics {
			v, ok := m[k]
			switch {
			case !ok:
				line += fmt.Sprintf(" %14s", "-")
			case i == 0 || !hasBase:
				line += fmt.Sprintf(" %14.3f", v)
			default:
				line += fmt.Sprintf(" %14s", fmt.Sprintf("%.3f (%+.3f)", v, v-base))
			}
		}
		fmt.Fprintln(stdout, line)
	}
	return 0
}

// clipString shortens s to n characters (not bytes: a cut never splits a character).
func clipString(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
