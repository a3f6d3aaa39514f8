package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"seal/engine/arc"
	"seal/store/termsafe"
)

// ARC grids drawn as coloured cells: each cell is two spaces on the colour's ARC
// background, so a square cell looks square in a terminal. Without colours (NO_COLOR,
// a dumb terminal, the goldens) each cell is its digit and a space, so the grid still
// reads. A grid larger than the room it gets is cut, and the cut says so.

// gridColours reports whether cells can be painted.
func gridColours() bool { return lipgloss.ColorProfile() != termenv.Ascii }

// parseGrid reads a grid as the ARC domain writes it: NumPy text ("[[0 1]\n [2 3]]")
// or bare rows ("0 1\n2 3").
func parseGrid(text string) (arc.Grid, error) { return arc.ParseAnswer(strings.TrimSpace(text)) }

// gridLines draws g in at most w cells by h lines. A cut grid ends its rows with "…"
// (columns) or a last line "⋮ +N rows" (rows).
func gridLines(g arc.Grid, w, h int) []string {
	if w < 2 || h < 1 || len(g) == 0 {
		return nil
	}
	colour := gridColours()
	var cells [10]string
	for v := range cells {
		if colour {
			cells[v] = lipgloss.NewStyle().Background(lipgloss.Color(arc.Palette[v])).Render("  ")
		} else {
			cells[v] = fmt.Sprintf("%d ", v)
		}
	}
	cols, cutCols := g.Cols(), false
	if 2*cols > w {
		cols, cutCols = (w-1)/2, true
	}
	rows, cutRows := len(g), false
	if rows > h {
		rows, cutRows = h-1, true
	}
	out := make([]string, 0, rows+1)
	for r := 0; r < rows; r++ {
		var b strings.Builder
		for c := 0; c < cols && c < len(g[r]); c++ {
			v := g[r][c]
			if v < 0 || v > 9 {
				b.WriteString("? ")
				continue
			}
			b.WriteString(cells[v])
		}
		if cutCols {
			b.WriteString("…")
		}
		out = append(out, b.String())
	}
	if cutRows {
		m := fmt.Sprintf("⋮ +%d rows", len(g)-rows)
		if ansi.StringWidth(m) > w {
			m = fmt.Sprintf("⋮+%d", len(g)-rows)
		}
		out = append(out, ansi.Truncate(m, w, ""))
	}
	return out
}

// gridBlock is a captioned grid, or the caption and a line of text when the grid
// could not be read (a malformed prediction is shown as what the model wrote).
type gridBlock struct {
	caption string // the name and, for a grid, its shape ("input 4×5")
	name    int    // cells of the caption that must show: the name without the shape
	grid    arc.Grid
	text    string
}

// blockOf parses text into a captioned block; unreadable text stays text.
func blockOf(caption, text string) gridBlock {
	g, err := parseGrid(text)
	if err != nil {
		return gridBlock{caption: caption, name: ansi.StringWidth(caption), text: termsafe.Line(strings.Join(strings.Fields(text), " "))}
	}
	return gridBlock{caption: fmt.Sprintf("%s %d×%d", caption, g.Rows(), g.Cols()), name: ansi.StringWidth(caption), grid: g}
}

// lines draws the block in w x (h lines including the caption).
func (b gridBlock) lines(w, h int) []string {
	c := b.caption
	if ansi.StringWidth(c) > w && b.name <= w { // the name whole rather than the shape cut
		c = ansi.Truncate(c, b.name, "")
	}
	out := []string{ansi.Truncate(c, w, "…")}
	if b.grid == nil {
		t := b.text
		if t == "" {
			t = "(nothing)"
		}
		return append(out, styleDim.Render(ansi.Truncate(t, w, "…")))
	}
	return append(out, gridLines(b.grid, w, h-1)...)
}

// width is what the block needs uncut; with tight set, its caption's shape may be cut.
func (b gridBlock) width(tight bool) int {
	c := ansi.StringWidth(b.caption)
	if tight {
		c = b.name
	}
	if b.grid == nil {
		return max(c, min(ansi.StringWidth(b.text), 30))
	}
	return max(c, 2*b.grid.Cols())
}

// sideBySide draws blocks left to right with sep between them in at most w cells by h
// lines. Blocks that fit keep their size; the room left is shared among the others.
func sideBySide(blocks []gridBlock, sep string, w, h int) string {
	if len(blocks) == 0 || w < 1 || h < 1 {
		return ""
	}
	// Try whole captions before cut ones, and the spaced arrow before the bare one.
	widths := make([]int, len(blocks))
	need, sw := 0, 0
	for _, try := range []struct {
		tight bool
		sep   string
	}{{false, sep}, {false, strings.TrimSpace(sep)}, {true, sep}, {true, strings.TrimSpace(sep)}} {
		need, sep, sw = 0, try.sep, ansi.StringWidth(try.sep)
		for i, b := range blocks {
			widths[i] = b.width(try.tight)
			need += widths[i]
		}
		if need+sw*(len(blocks)-1) <= w {
			break
		}
	}
	room := w - sw*(len(blocks)-1)
	if need > room { // share evenly, giving what a small block leaves to the large ones
		left, n := room, len(blocks)
		done := make([]bool, len(blocks))
		for changed := true; changed; {
			changed = false
			for i := range blocks {
				if !done[i] && widths[i] <= left/max(1, n) {
					done[i], left, n, changed = true, left-widths[i], n-1, true
				}
			}
		}
		for i := range blocks {
			if !done[i] {
				widths[i] = max(2, left/max(1, n))
			}
		}
	}
	left := w - sw*(len(blocks)-1)
	for _, x := range widths {
		left -= x
	}
	for i, b := range blocks { // room to spare goes to captions that were cut
		if extra := min(left, ansi.StringWidth(b.caption)-widths[i]); extra > 0 {
			widths[i], left = widths[i]+extra, left-extra
		}
	}
	cols := make([][]string, len(blocks))
	height := 0
	for i, b := range blocks {
		cols[i] = b.lines(widths[i], h)
		height = max(height, len(cols[i]))
	}
	mid := 1 + (height-2)/2 // the separator sits halfway down the grids, below the captions
	var out strings.Builder
	for r := 0; r < height; r++ {
		if r > 0 {
			out.WriteByte('\n')
		}
		for i := range blocks {
			if i > 0 {
				if r == mid {
					out.WriteString(sep)
				} else {
					out.WriteString(strings.Repeat(" ", sw))
				}
			}
			l := ""
			if r < len(cols[i]) {
				l = cols[i][r]
			}
			out.WriteString(l + strings.Repeat(" ", max(0, widths[i]-ansi.StringWidth(l))))
		}
	}
	return out.String()
}

// attempts splits an ARC answer into its voted attempts ("\n--- or ---\n" between).
func attempts(answer string) []string {
	if strings.TrimSpace(answer) == "" {
		return nil
	}
	return strings.Split(answer, "\n--- or ---\n")
}

// arcQuestion splits an ARC eval question ("<task id> test <i>\n<grid>") into its
// title and grid text; a bare grid (as stored tasks hold) has no title.
func arcQuestion(q string) (title, grid string) {
	first, rest, ok := strings.Cut(q, "\n")
	if !ok || strings.HasPrefix(strings.TrimSpace(first), "[") || first != "" && first[0] >= '0' && first[0] <= '9' {
		return "", q
	}
	return first, rest
}

// arcAnswerBlocks are the blocks of one graded ARC answer: the test input, each
// attempt and the expected output.
func arcAnswerBlocks(input, answer, gold string) []gridBlock {
	var bs []gridBlock
	if input != "" {
		bs = append(bs, blockOf("input", input))
	}
	as := attempts(answer)
	if len(as) == 0 {
		bs = append(bs, gridBlock{caption: "prediction"})
	}
	for i, a := range as {
		c := "prediction"
		if len(as) > 1 {
			c = fmt.Sprintf("attempt %d", i+1)
		}
		bs = append(bs, blockOf(c, a))
	}
	return append(bs, blockOf("expected", gold))
}

// demo is one demonstration pair of an ARC task.
type demo struct{ in, out arc.Grid }

// parseDemos reads the demonstrations back out of an ARC task's stored self-edit
// prompt text: "Input:\n<rows>\n\nOutput:\n<rows>\n\n" per pair, up to the "------"
// line that starts the tool instructions.
func parseDemos(context string) ([]demo, error) {
	body, _, _ := strings.Cut(context, "\n------")
	parts := strings.Split(body, "Input:\n")
	if strings.TrimSpace(parts[0]) != "" {
		return nil, fmt.Errorf("arc task context: text before the first \"Input:\": %q", clip(parts[0], 40))
	}
	var out []demo
	for i, p := range parts[1:] {
		in, o, ok := strings.Cut(p, "\n\nOutput:\n")
		if !ok {
			return nil, fmt.Errorf("arc task context: demonstration %d has no \"Output:\"", i)
		}
		gi, err := parseGrid(in)
		if err != nil {
			return nil, fmt.Errorf("arc task context: demonstration %d input: %v", i, err)
		}
		gout, err := parseGrid(o)
		if err != nil {
			return nil, fmt.Errorf("arc task context: demonstration %d output: %v", i, err)
		}
		out = append(out, demo{gi, gout})
	}
	return out, nil
}
