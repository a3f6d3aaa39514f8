package main

import (
	"flag"
	"fmt"
	"io"
)

func cmdExport(args []string, stdout, stderr io.Writer) int {
	var format *string
	d, id, code := openRunArg("export", args, stderr, func(fs *flag.FlagSet) {
		format = fs.String("format", "jsonl", "jsonl (everything) or csv (one row per candidate)")
	})
	if d == nil {
		return code
	}
	defer d.Close()
	var err error
	switch *format {
	case "jsonl":
		err = d.ExportJSONL(id, stdout)
	case "csv":
		err = d.ExportCSV(id, stdout)
	default:
		fmt.Fprintf(stderr, "seal export: format %q is not jsonl or csv\n", *format)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "seal export: %v\n", err)
		return 1
	}
	return 0
}
