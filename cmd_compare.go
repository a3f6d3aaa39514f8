package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"seal/engine/effect"
	"seal/store"
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
	refs, err := runRefs(fs.Args(), db.path())
	if err != nil {
		fmt.Fprintf(stderr, "seal compare: %v\n", err)
		return 2
	}
	dbs := map[string]*store.DB{}
	defer func() {
		for _, d := range dbs {
			d.Close()
		}
	}()
	var cmp store.Comparison
	var scores []itemScores
	for _, r := range refs {
		d := dbs[r.path]
		if d == nil {
			if d, err = openDB(r.path, false); err != nil {
				fmt.Fprintf(stderr, "seal compare: %v\n", err)
				return 1
			}
			dbs[r.path] = d
		}
		one, err := d.Compare([]int64{r.id})
		if err == nil {
			var s itemScores
			s, err = runItemScores(d, r.id)
			scores = append(scores, s)
		}
		if err != nil {
			fmt.Fprintf(stderr, "seal compare: %s: %v\n", r.name, err)
			return 1
		}
		cmp.Runs, cmp.Configs, cmp.Metrics = append(cmp.Runs, one.Runs...), append(cmp.Configs, one.Configs...), append(cmp.Metrics, one.Metrics...)
	}
	configs, metrics := cmp.Configs, cmp.Metrics
	header := fmt.Sprintf("%-28s", "")
	for _, r := range refs {
		header += fmt.Sprintf(" %14s", clipString(r.name, 14))
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
	fmt.Fprintf(stdout, "\nmetrics (delta against %s)\n%s\n", refs[0].name, header)
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
	for i := 1; i < len(refs); i++ {
		fmt.Fprint(stdout, termsafe.Text(pairedMarkdown(pairRuns(scores[0], scores[i], effect.DefaultResamples), refs[0].name, refs[i].name, effect.DefaultResamples)))
	}
	return 0
}

// runRef is a run named on the command line: a run number in --db's file, or FILE:RUN for
// a run in another history file (runs of two models measured apart, say).
type runRef struct {
	path string
	id   int64
	name string // as the tables head it: "run 3", or "seal.db:3" (the file's base name)
}

func runRefs(args []string, db string) ([]runRef, error) {
	var refs []runRef
	for _, a := range args {
		path, num, name := db, a, "run "+a
		if i := strings.LastIndex(a, ":"); i > 0 {
			path, num = a[:i], a[i+1:]
			name = filepath.Base(path) + ":" + num
		}
		id, err := strconv.ParseInt(num, 10, 64)
		if err != nil || id < 1 {
			return nil, fmt.Errorf("%q is not a run number (RUN, or FILE:RUN for a run in another history file)", a)
		}
		refs = append(refs, runRef{path: path, id: id, name: name})
	}
	return refs, nil
}

// clipString shortens s to n characters (not bytes: a cut never splits a character).
func clipString(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
