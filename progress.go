package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/x/term"
	"github.com/muesli/termenv"
)

// A long command's progress on stderr: on a terminal one line redrawn in place (a bar,
// done of total, rate, ETA), elsewhere a plain line every few seconds, so a log shows
// the run is alive without filling up. stdout is never written.

// plainEvery is how often the plain line is written when stderr is not a terminal.
const plainEvery = 10 * time.Second

// redrawEvery bounds how often the terminal line is redrawn (events come fast).
const redrawEvery = 100 * time.Millisecond

// terminalFlag is a writer that says whether it is a terminal; tests flag a buffer.
type terminalFlag interface{ Terminal() bool }

func isTerminal(w io.Writer) bool {
	if t, ok := w.(terminalFlag); ok {
		return t.Terminal()
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// terminalWidth is w's width in columns, 80 when it cannot be asked.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(f.Fd()); err == nil && cols > 0 {
			return cols
		}
	}
	return 80
}

// progressLine is the state of one progress display and how it is written.
type progressLine struct {
	w     io.Writer
	tty   bool
	width int
	now   func() time.Time
	every time.Duration // plain mode: at most one line per every
	unit  string        // what is counted: "candidates", "steps"
	bar   progress.Model

	phase       string
	done, total int
	start       time.Time // when this process began counting
	startDone   int       // done at start (a resume's earlier work is not this process's rate)
	last        time.Time // when the last line was written
	drawn       bool      // a terminal line is on screen, to be erased before other output
	started     bool
}

// newProgressLine writes to w; now and every are the clock and the plain interval
// (tests give their own).
func newProgressLine(w io.Writer, unit string, now func() time.Time, every time.Duration) *progressLine {
	if now == nil {
		now = time.Now
	}
	if every <= 0 {
		every = plainEvery
	}
	p := &progressLine{w: w, tty: isTerminal(w), width: terminalWidth(w), now: now, every: every, unit: unit}
	p.setWidth(p.width)
	return p
}

// setWidth fits the line to a terminal of cols columns: a shorter bar below 100.
func (p *progressLine) setWidth(cols int) {
	bar := 20
	if cols < 100 {
		bar = 10
	}
	p.width = cols
	p.bar = progress.New(progress.WithWidth(bar), progress.WithoutPercentage(), progress.WithColorProfile(termenv.Ascii))
}

// begin starts the clock with done of total already finished.
func (p *progressLine) begin(done, total int) {
	p.done, p.total, p.startDone, p.start, p.started = done, total, done, p.now(), true
	p.last = p.start
}

// set updates the phase and the count and writes the line when it is due: on a
// terminal at a count change or after redrawEvery, elsewhere after every.
func (p *progressLine) set(phase string, done int) {
	if !p.started {
		p.begin(0, 0)
	}
	changed := done != p.done
	p.phase, p.done = phase, done
	p.tick(changed)
}

// tick writes the line if it is due (force: on a terminal, now).
func (p *progressLine) tick(force bool) {
	if !p.started {
		return
	}
	since := p.now().Sub(p.last)
	switch {
	case p.tty && (force || since >= redrawEvery):
		fmt.Fprint(p.w, "\r\033[K"+clipRunes(p.text(true), p.width-1))
		p.drawn = true
	case !p.tty && since >= p.every:
		fmt.Fprintln(p.w, p.text(false))
	default:
		return
	}
	p.last = p.now()
}

// clear erases the terminal line, so other output starts at column 0 of an empty
// line; the next tick draws it again below that output.
func (p *progressLine) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// text is the line: phase, a bar on a terminal, done/total, rate and ETA. On a
// terminal the phase is cut to fit the width, so the numbers always show.
func (p *progressLine) text(bar bool) string {
	var b strings.Builder
	if p.total > 0 {
		if bar {
			b.WriteString(p.bar.ViewAs(min(1, float64(p.done)/float64(p.total))) + " ")
		}
		fmt.Fprintf(&b, "%d/%d %s", p.done, p.total, p.unit)
	} else {
		fmt.Fprintf(&b, "%d %s", p.done, p.unit)
	}
	elapsed := p.now().Sub(p.start)
	if p.done > p.startDone && elapsed > 0 {
		rate := float64(p.done-p.startDone) / elapsed.Seconds()
		if rate >= 1 {
			fmt.Fprintf(&b, "  %.1f/s", rate)
		} else {
			fmt.Fprintf(&b, "  %.1f/min", rate*60)
		}
		if p.total > p.done {
			eta := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
			fmt.Fprintf(&b, "  ETA %s", eta.Round(time.Second))
		}
	}
	if !bar || !strings.Contains(b.String(), "ETA") { // on a terminal the ETA says enough
		fmt.Fprintf(&b, "  %s elapsed", elapsed.Round(time.Second))
	}
	tail := b.String()
	if p.phase == "" {
		return tail
	}
	phase := p.phase
	if bar {
		room := p.width - 1 - len([]rune(tail)) - 2
		if room < 8 {
			return tail
		}
		if r := []rune(phase); len(r) > room {
			phase = string(r[:room-1]) + "…"
		}
	}
	return phase + "  " + tail
}

// clipRunes cuts s to n runes, so the redrawn line never wraps (a wrapped line could
// not be erased with \r).
func clipRunes(s string, n int) string {
	r := []rune(s)
	if n > 0 && len(r) > n {
		return string(r[:n])
	}
	return s
}
