package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"seal/engine"
	"seal/store/termsafe"
)

// Lines under the live panes that appear only when their events arrive: the guard's
// newest verdict with the numbers behind it (and the version the model is at), and
// the remote workers with their devices, throughput and the queue.

// infoLines are the guard and worker lines, each cut to w; none when neither reported.
func (s *liveState) infoLines(w int) []string {
	var out []string
	if l := s.guardLine(false); l != "" {
		if ansi.StringWidth(l) > w {
			l = s.guardLine(true)
		}
		out = append(out, ansi.Truncate(l, w, "…"))
	}
	if l := s.workersLine(); l != "" {
		out = append(out, ansi.Truncate(l, w, "…"))
	}
	return out
}

// guardLine: "guard PASS v7 continual 2 · retention 0.812→0.790 Δ-0.022 (noise 0.031,
// margin 0.050, n 40) · flips 0 · rules 0 · 3 pass 1 hold 0 reject · model v7
// (continual 2)", the last part alone while the guard has said nothing; short
// keeps the numbers and drops the words, for a narrow terminal.
func (s *liveState) guardLine(short bool) string {
	if len(s.guard) == 0 && s.versions == 0 {
		return ""
	}
	var b strings.Builder
	if len(s.guard) > 0 {
		g := s.guard[len(s.guard)-1]
		b.WriteString(styleTitle.Render("guard ") + verdictWord(g.Verdict))
		if short {
			r := g.Retention
			fmt.Fprintf(&b, " v%d %s%d · ret %.3f→%.3f Δ%+.3f noise %.3f margin %.3f · flips %d · rules %d",
				g.Entry, termsafe.Line(g.Kind[:min(1, len(g.Kind))]), g.Step, r.Before, r.After, r.Delta, r.Noise, r.Margin, len(g.Flips), len(g.Hits))
		} else {
			b.WriteString(" " + termsafe.Line(engine.VersionName(g.Entry, g.Kind, g.Step, g.Run)))
			b.WriteString(" · " + retentionText(g.Retention))
			fmt.Fprintf(&b, " · flips %d · rules %d", len(g.Flips), len(g.Hits))
			if len(g.Reasons) > 0 {
				b.WriteString(" · " + styleBad.Render(termsafe.Line(strings.Join(g.Reasons, "; "))))
			}
			if len(g.Warnings) > 0 {
				b.WriteString(" · " + styleBad.Render(strings.Join(g.Warnings, "; ")))
			}
			fmt.Fprintf(&b, " · %s %s", styleDim.Render(fmt.Sprintf("%d pass %d hold %d reject, newest last:", s.verdicts["pass"], s.verdicts["hold"], s.verdicts["reject"])), s.verdictTrail())
		}
		b.WriteString(" · ")
	}
	if s.versions > 0 {
		v := s.version
		fmt.Fprintf(&b, "%s %s", styleTitle.Render("model"), termsafe.Line(engine.VersionName(v.Version, v.Kind, v.Step, v.Run)))
	}
	return strings.TrimSuffix(b.String(), " · ")
}

// verdictTrail is the kept verdicts as one mark each, oldest first: ✓ pass, ‖ hold, ✗ reject.
func (s *liveState) verdictTrail() string {
	var b strings.Builder
	for _, g := range s.guard {
		switch g.Verdict {
		case "pass":
			b.WriteString(styleGood.Render("✓"))
		case "hold":
			b.WriteString(styleAccent.Render("‖"))
		default:
			b.WriteString(styleBad.Render("✗"))
		}
	}
	return b.String()
}

func verdictWord(v string) string {
	switch v {
	case "pass":
		return styleGood.Render("PASS")
	case "hold":
		return styleAccent.Render("HOLD")
	}
	return styleBad.Render(strings.ToUpper(termsafe.Line(v)))
}

func retentionText(r engine.Retention) string {
	if r.N == 0 {
		return "retention: no probes"
	}
	t := fmt.Sprintf("retention %.3f→%.3f Δ%+.3f (noise %.3f, margin %.3f, n %d)", r.Before, r.After, r.Delta, r.Noise, r.Margin, r.N)
	if r.Dropped {
		t = styleBad.Render(t)
	}
	return t
}

// workersLine: "workers 2 (1 busy) · queue 3 · 1.00 jobs/s · w1 cuda:0 12 jobs 0.80/s ● · ...".
func (s *liveState) workersLine() string {
	ws := s.workers
	if ws == nil {
		return ""
	}
	busy, rate := 0, 0.0
	for _, w := range ws.Workers {
		if w.Busy {
			busy++
		}
		rate += w.JobsPerSec
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s%d (%d busy) · queue %d · %.2f jobs/s", styleTitle.Render("workers "), len(ws.Workers), busy, ws.QueueDepth, rate)
	for _, w := range ws.Workers {
		dot := styleDim.Render("○")
		if w.Busy {
			dot = styleGood.Render("●")
		}
		fmt.Fprintf(&b, " · %s %s %s %d jobs", dot, termsafe.Line(w.Name), termsafe.Line(w.Device), w.Jobs) // named by the workers
		// Jobs sent back to the queue after a failure that may mend, and jobs made dead
		// letters, once there are any: a person sees which worker is in trouble.
		if w.Retried > 0 {
			fmt.Fprintf(&b, " %s", styleAccent.Render(fmt.Sprintf("%d retried", w.Retried)))
		}
		if w.Rejected > 0 {
			fmt.Fprintf(&b, " %s", styleBad.Render(fmt.Sprintf("%d rejected", w.Rejected)))
		}
		fmt.Fprintf(&b, " %.2f/s", w.JobsPerSec)
	}
	if len(ws.Workers) == 0 {
		b.WriteString(" · " + styleBad.Render("no worker has reported"))
	}
	return b.String()
}
