package termsafe

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

const m = Marker

func TestLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"ünïcödé ✓ 日本 \uFFFD", "ünïcödé ✓ 日本 \uFFFD"},
		{"x\x1b[2J\x1b]0;pwned\x07", "x" + m + m},                           // the name: CSI and OSC, whole
		{"a\x1b[38;5;196mred\x1b[0m", "a" + m + "red" + m},                  // SGR goes too
		{"a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "a" + m + "link" + m}, // OSC 8 with ST
		{"a\x1bP1$r0m\x1b\\b", "a" + m + "b"},                               // DCS
		{"a\x1b_apc\x1b\\b\x1b^pm\x07c\x1bXsos\x1b\\d", "a" + m + "b" + m + "c" + m + "d"},
		{"a\x1bcb", "a" + m + "b"},  // RIS, two bytes
		{"a\x1b(Bb", "a" + m + "b"}, // charset designation: intermediate + final
		{"a\x1b", "a" + m},          // lone ESC at the end
		{"a\x1b\x1b[Hb", "a" + m + m + "b"},
		{"a\x1b]0;never ends", "a" + m}, // unterminated string: the rest goes, as a terminal swallows it
		{"a\u009b2Jb", "a" + m + "b"},   // C1 CSI with its parameters
		{"a\u009d0;t\u009cb", "a" + m + "b"},
		{"a\u0085b\u009cc", "a" + m + "b" + m + "c"},
		{"a\nb\rc\td\x00e\x7ff", "a b c d" + m + "e" + m + "f"}, // breaks and tabs fold to a space
		{"1. one\r\n2. two", "1. one 2. two"},
		{"evil\u202Etxt.exe\u2066x\u2069", "evil" + m + "txt.exe" + m + "x" + m},
		{"bad\xffutf8\xc3", "bad" + m + "utf8" + m},
		{"\x9b2J", m + "2J"}, // a raw 0x9b byte is invalid UTF-8, not a CSI
	} {
		if got := Line(c.in); got != c.want {
			t.Errorf("Line(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"line one\nline\ttwo\n", "line one\nline\ttwo\n"},
		{"win\r\nline\r\n", "win\nline\n"},
		{"a\rb", "a" + m + "b"},
		{"x\x1b[2J\ny\x1b]0;pwned\x07", "x" + m + "\ny" + m},
	} {
		if got := Text(c.in); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestStyledKeepsColoursOnly(t *testing.T) {
	in := "\x1b[1;38;5;212mtitle\x1b[0m\n\x1b[2Jx\x1b]0;pwned\x07\u009b2J\x1b[7m"
	want := "\x1b[1;38;5;212mtitle\x1b[0m\n" + m + "x" + m + m + "\x1b[7m"
	if got := Styled(in); got != want {
		t.Errorf("Styled = %q, want %q", got, want)
	}
}

func TestFastPathDoesNotAllocate(t *testing.T) {
	s := strings.Repeat("a plain passage, ünïcödé ✓\n", 20)
	if got := Text(s); got != s {
		t.Fatal("plain text changed")
	}
	if n := testing.AllocsPerRun(100, func() { Text(s); Line("run name 1") }); n != 0 {
		t.Errorf("%v allocations on plain text, want 0", n)
	}
}

func TestJSONKeepsStringsExact(t *testing.T) {
	in := "x\x1b[2J\x1b]0;pwned\x07 \u009b2J \u202Eevil\u2069 \x7f ok ✓"
	b, _ := json.Marshal(map[string]string{"name": in})
	out := JSON(b)
	if i := strings.IndexFunc(string(out), unsafeRune(true)); i >= 0 {
		t.Errorf("JSON left %q raw in %s", string(out)[i:], out)
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["name"] != in {
		t.Errorf("decoded %q (%v), want %q exactly", back["name"], err, in)
	}
	plain := []byte(`{"a":"plain ✓"}`)
	if got := JSON(plain); &got[0] != &plain[0] {
		t.Error("plain JSON was copied")
	}
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+1":                       "'+1",
		"-2+3":                     "'-2+3",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\tx":                      "'\tx",
		"plain, edit\nline two":    "plain, edit\nline two",
		"a=b":                      "a=b",
		"x\x1b]0;pwned\x07":        "x" + m,
		"":                         "",
	} {
		if got := CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// unsafeRune reports what must never reach a terminal; multi allows newline and tab.
func unsafeRune(multi bool) func(rune) bool {
	return func(r rune) bool {
		if multi && (r == '\n' || r == '\t') {
			return false
		}
		return r < 0x20 || r >= 0x7f && r < 0xa0 || bidi(r)
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"plain", "x\x1b[2J\x1b]0;pwned\x07", "a\u009b2Jb", "\u202Eabc", "\xff\xfe", "a\r\nb\tc",
		"\x1b[1;31mred\x1b[0m", "\x1bP\x1b\\", "\x1b]\xc2\x9c", "\x1b(", "é\x1b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []struct {
			name  string
			fn    func(string) string
			multi bool
		}{{"Line", Line, false}, {"Text", Text, true}, {"Styled", Styled, true}} {
			out := c.fn(s)
			if !utf8.ValidString(out) {
				t.Fatalf("%s(%q) = %q is not UTF-8", c.name, s, out)
			}
			rest := out
			if c.name == "Styled" { // its only escapes are SGR sequences
				for i := strings.IndexByte(rest, 0x1b); i >= 0; i = strings.IndexByte(rest, 0x1b) {
					n := sgrLen(rest[i:])
					if n == 0 {
						t.Fatalf("Styled(%q) = %q keeps a non-SGR escape", s, out)
					}
					rest = rest[:i] + rest[i+n:]
				}
			}
			if i := strings.IndexFunc(rest, unsafeRune(c.multi)); i >= 0 {
				t.Fatalf("%s(%q) = %q keeps %q", c.name, s, out, rest[i:])
			}
			if again := c.fn(out); again != out {
				t.Fatalf("%s is not idempotent on %q: %q then %q", c.name, s, out, again)
			}
			if utf8.ValidString(s) && strings.IndexFunc(s, unsafeRune(c.multi)) < 0 && !strings.Contains(s, "\r") && out != s {
				t.Fatalf("%s changed clean text %q to %q", c.name, s, out)
			}
		}
		b, _ := json.Marshal(s)
		var back string
		if err := json.Unmarshal(JSON(b), &back); err != nil || back != strings.ToValidUTF8(s, "\uFFFD") && utf8.ValidString(s) {
			t.Fatalf("JSON changed %q: %q (%v)", s, back, err)
		}
		if i := strings.IndexFunc(string(JSON(b)), unsafeRune(false)); i >= 0 {
			t.Fatalf("JSON(%s) keeps %q", b, string(JSON(b))[i:])
		}
	})
}

func TestTextWriterCleansEachLine(t *testing.T) {
	var b strings.Builder
	w := TextWriter(&b)
	line := "job 3 failed: \x1b]0;pwned\x07boom\n"
	n, err := fmt.Fprint(w, line)
	if err != nil || n != len(line) {
		t.Fatalf("wrote %d, %v; want %d", n, err, len(line))
	}
	if got := b.String(); strings.ContainsAny(got, "\x1b\x07") || !strings.HasSuffix(got, "boom\n") {
		t.Fatalf("got %q", got)
	}
}
