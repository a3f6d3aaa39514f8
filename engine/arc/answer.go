package arc

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseAnswer reads a model's answer back into a grid. It is lenient about what
// surrounds the grid, as the reference is: the text is cut at the first "#" (the
// answer terminator), or after the first "]]" when there is none, and brackets are
// ignored. It is strict about shape where the reference only checks that the cell
// count divides evenly: every line is a row, rows must have the same number of
// cells, and each cell must be one colour 0-9.
func ParseAnswer(text string) (Grid, error) {
	if i := strings.IndexByte(text, '#'); i >= 0 {
		text = text[:i]
	} else if i := strings.Index(text, "]]"); i >= 0 {
		text = text[:i+2]
	}
	text = strings.TrimSpace(strings.NewReplacer("[", " ", "]", " ").Replace(text))
	if text == "" {
		return nil, fmt.Errorf("arc: answer: no grid")
	}
	lines := strings.Split(text, "\n")
	g := make(Grid, 0, len(lines))
	for r, line := range lines {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			return nil, fmt.Errorf("arc: answer: row %d is empty", r)
		}
		row := make([]int, len(fields))
		for c, f := range fields {
			v, err := strconv.Atoi(f)
			if err != nil || v < 0 || v > 9 {
				return nil, fmt.Errorf("arc: answer: row %d column %d: %q is not a colour 0-9", r, c, clipText(f))
			}
			row[c] = v
		}
		g = append(g, row)
	}
	if err := g.Check(); err != nil {
		return nil, fmt.Errorf("arc: answer: %v", err)
	}
	return g, nil
}

func clipText(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}
