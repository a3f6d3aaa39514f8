package tokenizer

import "strings"

// lossyUTF8 converts bytes to a string like Rust's String::from_utf8_lossy: each maximal
// prefix of a valid sequence that is cut short, and each byte that cannot start one, becomes
// one U+FFFD. (Go's strings.ToValidUTF8 would merge neighbouring bad bytes into one, and a
// rune loop would give one U+FFFD per byte.)
func lossyUTF8(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			sb.WriteByte(c)
			i++
			continue
		}
		width, lo, hi := 0, byte(0x80), byte(0xBF)
		switch {
		case c >= 0xC2 && c <= 0xDF:
			width = 2
		case c == 0xE0:
			width, lo = 3, 0xA0
		case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
			width = 3
		case c == 0xED:
			width, hi = 3, 0x9F
		case c == 0xF0:
			width, lo = 4, 0x90
		case c >= 0xF1 && c <= 0xF3:
			width = 4
		case c == 0xF4:
			width, hi = 4, 0x8F
		}
		n := 1 // bytes of the (possibly partial) sequence
		for width > 0 && n < width && i+n < len(b) {
			x := b[i+n]
			if n == 1 && (x < lo || x > hi) || n > 1 && (x < 0x80 || x > 0xBF) {
				break
			}
			n++
		}
		if width > 0 && n == width {
			sb.Write(b[i : i+n])
		} else {
			sb.WriteString("\uFFFD")
		}
		i += n
	}
	return sb.String()
}
