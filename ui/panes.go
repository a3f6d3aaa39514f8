package ui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

var (
	colFocus  = lipgloss.Color("212")
	colDim    = lipgloss.Color("240")
	colGood   = lipgloss.Color("42")
	colBad    = lipgloss.Color("203")
	colAccent = lipgloss.Color("81")

	styleTitle  = lipgloss.NewStyle().Bold(true)
	styleDim    = lipgloss.NewStyle().Foreground(colDim)
	styleGood   = lipgloss.NewStyle().Foreground(colGood)
	styleBad    = lipgloss.NewStyle().Foreground(colBad)
	styleAccent = lipgloss.NewStyle().Foreground(colAccent)
	styleBar    = lipgloss.NewStyle().Reverse(true)
)

// box draws body in a rounded frame of exactly w x h cells with the title in the top
// edge. Lines are cut to fit (never wrapped here: wrapping is the caller's choice) and
// the frame is padded, so a pane never changes size with its content (no flicker).
// tail keeps the last lines when the body is too tall (a stream), else the first.
func box(title, body string, w, h int, focused, tail bool) string {
	if w < 4 || h < 2 {
		return fit("", w, h)
	}
	border := lipgloss.NewStyle().Foreground(colDim)
	if focused {
		border = lipgloss.NewStyle().Foreground(colFocus)
	}
	inner := w - 2
	title = ansi.Truncate(title, max(0, inner-2), "…")
	top := "╭" + title + strings.Repeat("─", max(0, inner-ansi.StringWidth(title))) + "╮"
	if focused {
		top = border.Render("╭") + styleTitle.Foreground(colFocus).Render(title) + border.Render(strings.Repeat("─", max(0, inner-ansi.StringWidth(title)))+"╮")
	} else {
		top = border.Render(top)
	}
	lines := clipLines(body, inner, h-2, tail)
	var b strings.Builder
	b.WriteString(top)
	for _, l := range lines {
		b.WriteString("\n" + border.Render("│") + l + border.Render("│"))
	}
	b.WriteString("\n" + border.Render("╰"+strings.Repeat("─", inner)+"╯"))
	return b.String()
}

// clipLines cuts body to n lines of exactly w cells.
func clipLines(body string, w, n int, tail bool) []string {
	w, n = max(0, w), max(0, n)
	lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
	if len(lines) > n {
		if tail {
			lines = lines[len(lines)-n:]
		} else {
			lines = lines[:n]
		}
	}
	out := make([]string, n)
	for i := range out {
		l := ""
		if i < len(lines) {
			l = ansi.Truncate(lines[i], w, "…")
		}
		out[i] = l + strings.Repeat(" ", max(0, w-ansi.StringWidth(l)))
	}
	return out
}

// fit pads or cuts a block to w x h.
func fit(s string, w, h int) string {
	return strings.Join(clipLines(s, w, h, false), "\n")
}

// wrap word-wraps text to w cells, breaking words that are longer than a line.
func wrap(s string, w int) string {
	if w < 1 {
		return ""
	}
	return ansi.Wrap(s, w, " -")
}

// clip shortens a one-line string to n cells.
func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return ansi.Truncate(s, max(0, n), "…")
}
