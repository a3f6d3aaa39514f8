// Package termsafe makes strings from data, models and users safe to show on a
// terminal. Run names, passages, questions, self-edits, answers and error messages
// are stored exactly; they pass through here where they are printed, drawn or
// written as CSV, so none of them can clear the screen, retitle the window, move
// the cursor or reorder what a person reads.
//
// What goes: every C0 control (Line folds line breaks and tabs to a space), DEL, every escape
// sequence whole (CSI, OSC, DCS, SOS, PM, APC and the two-byte ESC forms, with
// their parameters and terminator), the C1 controls U+0080-U+009F (the 8-bit CSI,
// OSC, ... with their sequences), the bidi embeddings, overrides and isolates
// U+202A-U+202E and U+2066-U+2069, and invalid UTF-8. Each of them becomes one
// Marker, U+FFFD, so a reader sees that something was there.
//
// It lives under store because store is the leaf that the CLI, the UI and the CSV
// export all import; it imports nothing of ours.
package termsafe

import (
	"io"
	"strings"
	"unicode/utf8"
)

// Marker replaces each control, escape sequence, bidi control or invalid byte.
const Marker = "\uFFFD"

// Line returns s safe for one line of a terminal: a line break (LF, CRLF or CR) or a
// tab becomes one space, as a multi-line self-edit read on one line should; every
// other control is a marker. s itself is returned (no copy) when nothing needs it.
func Line(s string) string { return clean(s, false, false) }

// Text returns s safe for a multi-line pane: as Line, but newline and tab stay, and
// a CR before a newline (a Windows line end) is dropped.
func Text(s string) string { return clean(s, true, false) }

// Styled is Text for a rendered screen that carries its own colours: SGR sequences
// (ESC [ digits ; : m) stay, every other sequence goes. The workbench passes each
// whole frame through it, behind the per-string cleaning, so a string that reached
// a view unclean can still change no more than a colour.
func Styled(s string) string { return clean(s, true, true) }

// clean is Line (multi false), Text or Styled (sgr true).
func clean(s string, multi, sgr bool) string {
	if safe(s, multi, sgr) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case multi && (c == '\n' || c == '\t'):
			b.WriteByte(c)
			i++
		case multi && c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			i++ // the newline that follows is kept
		case !multi && (c == '\n' || c == '\t' || c == '\r'):
			if c == '\r' && i+1 < len(s) && s[i+1] == '\n' {
				i++ // CRLF is one break
			}
			b.WriteByte(' ')
			i++
		case c == 0x1b:
			if n := sgrLen(s[i:]); sgr && n > 0 {
				b.WriteString(s[i : i+n])
				i += n
				continue
			}
			i = skipEscape(s, i+1)
			b.WriteString(Marker)
		case c < 0x20 || c == 0x7f:
			b.WriteString(Marker)
			i++
		case c < 0x80:
			b.WriteByte(c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				i++
			case r == 0x9b: // CSI
				i = skipCSI(s, i+n)
			case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // DCS SOS OSC PM APC
				i = skipString(s, i+n)
			case r < 0xa0 || bidi(r):
				i += n
			default:
				b.WriteString(s[i : i+n])
				i += n
				continue
			}
			b.WriteString(Marker)
		}
	}
	return b.String()
}

// safe reports whether clean would return s unchanged; it allocates nothing.
func safe(s string, multi, sgr bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n' || c == '\t':
			if !multi {
				return false
			}
			i++
		case c == 0x1b:
			n := sgrLen(s[i:])
			if !sgr || n == 0 {
				return false
			}
			i += n
		case c < 0x20 || c == 0x7f:
			return false
		case c < 0x80:
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 || r < 0xa0 || bidi(r) {
				return false
			}
			i += n
		}
	}
	return true
}

// bidi reports the embeddings and overrides (U+202A-U+202E) and the isolates
// (U+2066-U+2069), which make a terminal show text in another order than it is.
func bidi(r rune) bool { return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 }

// sgrLen is the length of the SGR sequence (ESC [ params m) s starts with, 0 if none.
func sgrLen(s string) int {
	if len(s) < 3 || s[0] != 0x1b || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s); i++ {
		switch c := s[i]; {
		case c == 'm':
			return i + 1
		case c >= '0' && c <= '9' || c == ';' || c == ':':
		default:
			return 0
		}
	}
	return 0
}

// skipEscape returns the index after the sequence that an ESC at i-1 starts.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch c := s[i]; {
	case c == '[':
		return skipCSI(s, i+1)
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_': // OSC DCS SOS PM APC
		return skipString(s, i+1)
	case c >= 0x20 && c <= 0x2f: // intermediates, then a final byte
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			i++
		}
		return i
	case c >= 0x30 && c <= 0x7e: // a two-byte sequence (ESC c resets the terminal)
		return i + 1
	}
	return i // a lone ESC
}

// skipCSI returns the index after a control sequence's parameters, intermediates
// and final byte; a byte that fits none of them ends it (and is looked at again).
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x30 && s[i] <= 0x3f {
		i++
	}
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString returns the index after a control string's terminator (ST as ESC \ or
// U+009C, or BEL as xterm allows); an unterminated string runs to the end, as a
// terminal would swallow it.
func skipString(s string, i int) int {
	for ; i < len(s); i++ {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case s[i] == 0xc2 && i+1 < len(s) && s[i+1] == 0x9c:
			return i + 2
		}
	}
	return i
}

// JSON returns encoded JSON (as encoding/json writes it) with DEL, the C1 controls
// and the bidi controls written as \u escapes: encoding/json escapes the C0 controls
// but leaves these raw, and a terminal acts on them. The decoded strings are
// unchanged, bit for bit. b itself is returned when nothing needs it.
func JSON(b []byte) []byte {
	if jsonSafe(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		c := b[i]
		if c == 0x7f {
			out = append(out, `\u007f`...)
			i++
			continue
		}
		if c < 0x80 {
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r >= 0x80 && r < 0xa0 || bidi(r) {
			const hex = "0123456789abcdef"
			out = append(out, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

func jsonSafe(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c == 0x7f {
			return false
		}
		if c < 0x80 {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r >= 0x80 && r < 0xa0 || bidi(r) {
			return false
		}
		i += n
	}
	return true
}

// JSONWriter passes each Write through JSON. Each Write must hold whole UTF-8
// sequences, as json.Encoder's do (one encoded value per call); put it between the
// encoder and any buffer.
func JSONWriter(w io.Writer) io.Writer { return jsonWriter{w} }

type jsonWriter struct{ w io.Writer }

func (j jsonWriter) Write(p []byte) (int, error) {
	if _, err := j.w.Write(JSON(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// TextWriter passes each Write through Text: for a log whose lines quote what others
// sent (a job's error, a worker's name). Each Write must hold whole lines, as
// fmt.Fprintf's of a line do.
func TextWriter(w io.Writer) io.Writer { return textWriter{w} }

type textWriter struct{ w io.Writer }

func (t textWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(t.w, Text(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// CSVCell is Text for a text cell of a CSV file, with a leading ' when the cell
// starts with = + - @ tab or CR, which a spreadsheet would take for a formula.
func CSVCell(s string) string {
	s = Text(s)
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}
