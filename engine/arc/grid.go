package arc

import (
	"fmt"
	"strings"
)

// MaxSide is ARC's largest grid side; the reference also drops augmented tasks whose
// largest grid side exceeds it.
const MaxSide = 30

// Grid is a rectangular array of colours 0-9, row-major.
type Grid [][]int

// Palette is the ten ARC colours, indexed by colour, as the ARC web app shows them
// (black, blue, red, green, yellow, grey, magenta, orange, azure, maroon).
var Palette = [10]string{"#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
	"#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25"}

// Rows and Cols give the grid's shape (Cols is 0 for an empty grid).
func (g Grid) Rows() int { return len(g) }
func (g Grid) Cols() int {
	if len(g) == 0 {
		return 0
	}
	return len(g[0])
}

// Check reports the first way g is not a valid ARC grid: empty, ragged, larger than
// MaxSide, or a colour outside 0-9.
func (g Grid) Check() error {
	if len(g) == 0 {
		return fmt.Errorf("empty grid (no rows)")
	}
	if len(g) > MaxSide {
		return fmt.Errorf("%d rows, more than %d", len(g), MaxSide)
	}
	w := len(g[0])
	if w == 0 {
		return fmt.Errorf("row 0 is empty")
	}
	if w > MaxSide {
		return fmt.Errorf("%d columns, more than %d", w, MaxSide)
	}
	for r, row := range g {
		if len(row) != w {
			return fmt.Errorf("ragged: row %d has %d cells, row 0 has %d", r, len(row), w)
		}
		for c, v := range row {
			if v < 0 || v > 9 {
				return fmt.Errorf("row %d column %d: colour %d outside 0-9", r, c, v)
			}
		}
	}
	return nil
}

// Equal reports whether two grids have the same shape and cells.
func (g Grid) Equal(h Grid) bool {
	if len(g) != len(h) {
		return false
	}
	for r := range g {
		if len(g[r]) != len(h[r]) {
			return false
		}
		for c := range g[r] {
			if g[r][c] != h[r][c] {
				return false
			}
		}
	}
	return true
}

// Clone returns a deep copy.
func (g Grid) Clone() Grid {
	out := make(Grid, len(g))
	for r, row := range g {
		out[r] = append([]int(nil), row...)
	}
	return out
}

// New returns a rows×cols grid of zeros.
func New(rows, cols int) Grid {
	g := make(Grid, rows)
	for r := range g {
		g[r] = make([]int, cols)
	}
	return g
}

// String is the NumPy str() form the prompts use (see Format).
func (g Grid) String() string { return Format(g) }

// key identifies a grid's shape and cells, for voting and de-duplication.
func (g Grid) key() string {
	var b strings.Builder
	for _, row := range g {
		for _, v := range row {
			b.WriteByte(byte('0' + v))
		}
		b.WriteByte('/')
	}
	return b.String()
}
