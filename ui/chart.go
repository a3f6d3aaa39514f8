package ui

// The only file that knows the chart library (github.com/NimbleMarkets/ntcharts): swap
// it by rewriting lineChart here.

import (
	"fmt"
	"math"
	"strings"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/linechart"
	"github.com/charmbracelet/lipgloss"
)

// series is one named line of a chart; X is the point's index.
type series struct {
	Name   string
	Points []float64
	Color  lipgloss.Color
}

// lineChart draws the series overlaid in a w x h box (axes included). Too small a box
// or no points gives a short note instead of a broken chart.
func lineChart(w, h int, ss []series) string {
	lo, hi, n := math.Inf(1), math.Inf(-1), 0
	for _, s := range ss {
		for _, v := range s.Points {
			lo, hi = min(lo, v), max(hi, v)
		}
		n = max(n, len(s.Points))
	}
	if n == 0 {
		return "(no data yet)"
	}
	if w < 12 || h < 4 {
		return fmt.Sprintf("last %.3f", ss[0].Points[len(ss[0].Points)-1])
	}
	if hi-lo < 1e-9 {
		lo, hi = lo-0.5, hi+0.5
	}
	maxX := float64(max(n-1, 1))
	c := linechart.New(w, h, 0, maxX, lo, hi,
		linechart.WithXYSteps(max(1, w/12), max(1, h/3)),
		linechart.WithXLabelFormatter(func(_ int, v float64) string { return fmt.Sprintf("%.0f", v) }),
		linechart.WithYLabelFormatter(func(_ int, v float64) string { return fmt.Sprintf("%.2g", v) }))
	c.DrawXYAxisAndLabel()
	for _, s := range ss {
		st := lipgloss.NewStyle().Foreground(s.Color)
		for i, v := range s.Points {
			p := canvas.Float64Point{X: float64(i), Y: v}
			q := p
			if i+1 < len(s.Points) {
				q = canvas.Float64Point{X: float64(i + 1), Y: s.Points[i+1]}
			}
			c.DrawBrailleLineWithStyle(p, q, st)
		}
	}
	return c.View()
}

// heatmap draws a matrix (rows of values in [0, 1]) as coloured cells with the value
// printed, row labels on the left: the retention matrix.
func heatmap(rows [][]float64, rowLabel, colLabel string) string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("%-6s", rowLabel+`\`+colLabel))
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	for j := 0; j < cols; j++ {
		b.WriteString(fmt.Sprintf(" %4d", j))
	}
	for i, r := range rows {
		b.WriteString(fmt.Sprintf("\n%-6d", i))
		for _, v := range r {
			if math.IsNaN(v) {
				b.WriteString("    ·")
				continue
			}
			b.WriteString(" " + heatStyle(v).Render(fmt.Sprintf("%4.2f", v)))
		}
	}
	return b.String()
}

// heatStyle shades a value in [0, 1] from red through yellow to green.
func heatStyle(v float64) lipgloss.Style {
	palette := []string{"196", "202", "208", "214", "220", "190", "154", "118", "82", "46"}
	i := int(math.Round(math.Max(0, math.Min(1, v)) * float64(len(palette)-1)))
	return lipgloss.NewStyle().Foreground(lipgloss.Color("0")).Background(lipgloss.Color(palette[i]))
}
