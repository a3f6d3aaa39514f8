package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// GPT-2's bytes_to_unicode: every byte gets a printable rune, so byte-level vocabularies
// can be stored as text ("Ġ" is the space byte). Printable Latin-1 bytes map to themselves,
// the other 68 bytes to U+0100 onwards, in byte order.
var (
	byteRune  [256]rune
	byteUTF8  [256][2]byte // UTF-8 of byteRune[b]; every such rune needs at most 2 bytes
	byteUTF8n [256]uint8
	runeByte  [0x144]int16 // inverse of byteRune; -1 where a rune is not in the alphabet
)

func init() {
	for i := range runeByte {
		runeByte[i] = -1
	}
	n := rune(0)
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		r := rune(b)
		if !printable {
			r = 256 + n
			n++
		}
		byteRune[b] = r
		byteUTF8n[b] = uint8(utf8.EncodeRune(byteUTF8[b][:], r))
		runeByte[r] = int16(b)
	}
}

// appendByteLevel appends the byte-level spelling of s (each byte as its alphabet rune).
func appendByteLevel(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		b := s[i]
		dst = append(dst, byteUTF8[b][:byteUTF8n[b]]...)
	}
	return dst
}

// byteLevelString is appendByteLevel for callers that need a string.
func byteLevelString(s string) string {
	return string(appendByteLevel(make([]byte, 0, 2*len(s)), s))
}

// byteLevelDecode turns a token string back into raw bytes the way HF's ByteLevel decoder
// does: if every rune is in the alphabet, the bytes they stand for; otherwise (added tokens
// such as "<|a b|>") the token's own UTF-8 bytes.
func byteLevelDecode(dst []byte, tok string) []byte {
	start := len(dst)
	for _, r := range tok {
		if r >= rune(len(runeByte)) || runeByte[r] < 0 {
			return append(dst[:start], tok...)
		}
		dst = append(dst, byte(runeByte[r]))
	}
	return dst
}

// isByteLevelAlphabet reports whether every rune of s is in the byte-level alphabet.
func isByteLevelAlphabet(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r >= rune(len(runeByte)) || runeByte[r] < 0 }) < 0
}
