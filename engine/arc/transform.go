package arc

import (
	"fmt"
	"strings"
)

// Transform is a deterministic map of one grid, with NumPy's semantics, and its
// inverse. Invert fails when a grid cannot have come from Apply (a model's answer may
// have any shape).
type Transform interface {
	Name() string
	Apply(g Grid) Grid
	Invert(g Grid) (Grid, error)
}

// Rotate is np.rot90(g, k): K counter-clockwise quarter turns. The reference names
// them by degrees: Rotate(90) is k=1, Rotate(270) k=3, Rotate(180) k=2.
type Rotate struct{ K int }

func (t Rotate) Name() string { return fmt.Sprintf("Rotate(%d)", 90*mod4(t.K)) }
func (t Rotate) Apply(g Grid) Grid {
	for range mod4(t.K) {
		g = rot90(g)
	}
	return g.Clone()
}
func (t Rotate) Invert(g Grid) (Grid, error) { return Rotate{K: 4 - mod4(t.K)}.Apply(g), nil }

func mod4(k int) int { return ((k % 4) + 4) % 4 }

// rot90 turns once counter-clockwise: out[i][j] = g[j][W-1-i].
func rot90(g Grid) Grid {
	h, w := g.Rows(), g.Cols()
	out := New(w, h)
	for i := range w {
		for j := range h {
			out[i][j] = g[j][w-1-i]
		}
	}
	return out
}

// Flip is np.flip(g, axis): axis 0 turns the grid upside down, axis 1 mirrors it left
// to right. It is its own inverse.
type Flip struct{ Axis int }

func (t Flip) Name() string { return fmt.Sprintf("Flip(%d)", t.Axis) }
func (t Flip) Apply(g Grid) Grid {
	out := g.Clone()
	if t.Axis == 0 {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		return out
	}
	for _, row := range out {
		for i, j := 0, len(row)-1; i < j; i, j = i+1, j-1 {
			row[i], row[j] = row[j], row[i]
		}
	}
	return out
}
func (t Flip) Invert(g Grid) (Grid, error) { return t.Apply(g), nil }

// Transpose swaps rows and columns; it is its own inverse.
type Transpose struct{}

func (Transpose) Name() string { return "Transpose()" }
func (Transpose) Apply(g Grid) Grid {
	out := New(g.Cols(), g.Rows())
	for r, row := range g {
		for c, v := range row {
			out[c][r] = v
		}
	}
	return out
}
func (t Transpose) Invert(g Grid) (Grid, error) { return t.Apply(g), nil }

// Reflect concatenates the grid with its mirror along Axis (0: rows, 1: columns):
// original first, or mirror first when Rev. The inverse keeps the original half.
type Reflect struct {
	Axis int
	Rev  bool
}

func (t Reflect) Name() string {
	return fmt.Sprintf("Reflect(%d, reverse=%s)", t.Axis, map[bool]string{true: "True", false: "False"}[t.Rev])
}
func (t Reflect) Apply(g Grid) Grid {
	m := Flip{Axis: t.Axis}.Apply(g)
	a, b := g.Clone(), m
	if t.Rev {
		a, b = m, g.Clone()
	}
	if t.Axis == 0 {
		return append(a, b...)
	}
	for r := range a {
		a[r] = append(a[r], b[r]...)
	}
	return a
}

func (t Reflect) Invert(g Grid) (Grid, error) {
	if t.Axis == 0 {
		if g.Rows()%2 != 0 {
			return nil, fmt.Errorf("%s: %d rows is odd", t.Name(), g.Rows())
		}
		h := g.Rows() / 2
		keep := g[:h]
		if t.Rev {
			keep = g[h:]
		}
		return Grid(keep).Clone(), nil
	}
	if g.Cols()%2 != 0 {
		return nil, fmt.Errorf("%s: %d columns is odd", t.Name(), g.Cols())
	}
	w := g.Cols() / 2
	out := make(Grid, len(g))
	for r, row := range g {
		if t.Rev {
			out[r] = append([]int(nil), row[w:]...)
		} else {
			out[r] = append([]int(nil), row[:w]...)
		}
	}
	return out, nil
}

// Roll is np.roll(g, (DX, DY), axis=(0, 1)): a cyclic shift of DX rows and DY columns.
type Roll struct{ DX, DY int }

func (t Roll) Name() string { return fmt.Sprintf("Roll(%d, %d)", t.DX, t.DY) }
func (t Roll) Apply(g Grid) Grid {
	h, w := g.Rows(), g.Cols()
	out := New(h, w)
	for r, row := range g {
		for c, v := range row {
			out[((r+t.DX)%h+h)%h][((c+t.DY)%w+w)%w] = v
		}
	}
	return out
}
func (t Roll) Invert(g Grid) (Grid, error) { return Roll{-t.DX, -t.DY}.Apply(g), nil }

// Scale repeats every row Rows times and every column Cols times: the reference's
// IncreaseResolution(2) is Scale{2, 2}, IncreaseHeight(2) Scale{2, 1} and
// IncreaseWidth(2) Scale{1, 2}. The inverse needs uniform blocks.
type Scale struct{ Rows, Cols int }

func (t Scale) Name() string {
	switch {
	case t.Rows == t.Cols:
		return fmt.Sprintf("IncreaseResolution(%d)", t.Rows)
	case t.Cols == 1:
		return fmt.Sprintf("IncreaseHeight(%d)", t.Rows)
	case t.Rows == 1:
		return fmt.Sprintf("IncreaseWidth(%d)", t.Cols)
	}
	return fmt.Sprintf("Scale(%d, %d)", t.Rows, t.Cols)
}
func (t Scale) Apply(g Grid) Grid {
	out := New(g.Rows()*t.Rows, g.Cols()*t.Cols)
	for r := range out {
		for c := range out[r] {
			out[r][c] = g[r/t.Rows][c/t.Cols]
		}
	}
	return out
}
func (t Scale) Invert(g Grid) (Grid, error) {
	if g.Rows()%t.Rows != 0 || g.Cols()%t.Cols != 0 {
		return nil, fmt.Errorf("%s: a %dx%d grid is not made of %dx%d blocks", t.Name(), g.Rows(), g.Cols(), t.Rows, t.Cols)
	}
	out := New(g.Rows()/t.Rows, g.Cols()/t.Cols)
	for r, row := range g {
		for c, v := range row {
			if v != g[r-r%t.Rows][c-c%t.Cols] {
				return nil, fmt.Errorf("%s: block at row %d column %d is not one colour", t.Name(), r/t.Rows, c/t.Cols)
			}
			out[r/t.Rows][c/t.Cols] = v
		}
	}
	return out, nil
}

// Repeat tiles the grid N times: Axis 0 vertically, 1 horizontally, 2 both (N×N).
// The inverse needs identical tiles.
type Repeat struct{ Axis, N int }

func (t Repeat) Name() string { return fmt.Sprintf("Repeat(%d, %d)", t.Axis, t.N) }
func (t Repeat) tiles() (int, int) {
	switch t.Axis {
	case 0:
		return t.N, 1
	case 1:
		return 1, t.N
	}
	return t.N, t.N
}
func (t Repeat) Apply(g Grid) Grid {
	tr, tc := t.tiles()
	h, w := g.Rows(), g.Cols()
	out := New(h*tr, w*tc)
	for r := range out {
		for c := range out[r] {
			out[r][c] = g[r%h][c%w]
		}
	}
	return out
}
func (t Repeat) Invert(g Grid) (Grid, error) {
	tr, tc := t.tiles()
	if g.Rows()%tr != 0 || g.Cols()%tc != 0 {
		return nil, fmt.Errorf("%s: a %dx%d grid is not %dx%d tiles", t.Name(), g.Rows(), g.Cols(), tr, tc)
	}
	h, w := g.Rows()/tr, g.Cols()/tc
	for r, row := range g {
		for c, v := range row {
			if v != g[r%h][c%w] {
				return nil, fmt.Errorf("%s: the tiles differ at row %d column %d", t.Name(), r, c)
			}
		}
	}
	out := make(Grid, h)
	for r := range out {
		out[r] = append([]int(nil), g[r][:w]...)
	}
	return out, nil
}

// Chain applies its transforms in order; the inverse undoes them in reverse.
type Chain []Transform

func (t Chain) Name() string {
	names := make([]string, len(t))
	for i, x := range t {
		names[i] = x.Name()
	}
	return "Chain([" + strings.Join(names, ", ") + "])"
}
func (t Chain) Apply(g Grid) Grid {
	for _, x := range t {
		g = x.Apply(g)
	}
	return g
}
func (t Chain) Invert(g Grid) (Grid, error) {
	var err error
	for i := len(t) - 1; i >= 0; i-- {
		if g, err = t[i].Invert(g); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// ColourMap recolours every cell: colour c becomes Map[c]. It must be a permutation
// of 0-9 to be invertible.
type ColourMap [10]int

func (t ColourMap) Name() string {
	return fmt.Sprintf("PermuteColors(%v)", [10]int(t))
}
func (t ColourMap) Apply(g Grid) Grid {
	out := g.Clone()
	for _, row := range out {
		for c, v := range row {
			row[c] = t[v]
		}
	}
	return out
}
func (t ColourMap) Invert(g Grid) (Grid, error) {
	var inv ColourMap
	seen := [10]bool{}
	for c, v := range t {
		if v < 0 || v > 9 || seen[v] {
			return nil, fmt.Errorf("%s is not a permutation of 0-9", t.Name())
		}
		seen[v] = true
		inv[v] = c
	}
	return inv.Apply(g), nil
}
