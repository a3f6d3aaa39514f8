package tokenizer

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"seal/internal/shareddata"
)

// benchProse generates about n bytes of English-like prose deterministically: words from a
// fixed list, capitals, punctuation, numbers, contractions and paragraph breaks.
func benchProse(n int) string {
	words := strings.Fields(`the of and to in a is that for it as was with be by on not he I this are or his
		from at which but have an they you were her she there been one all we their has would when if so no
		what can more said them some could into time only other new people two may first water words made
		like over did down number way long little very after called just where most know get through back
		much before go good new write our used me man too any day same right look think also around another
		came come work three word must because does part even place well such here take why things help put
		years different away again off went old number great tell men say small every found still between
		name should home big give air line set own under read last never us left end along while might next
		sound below saw something thought both few those always looked show large often together asked house
		don't world going want school important until form food keep children feet land side without boy once
		animals life enough took sometimes four head above kind began almost live page got earth need far hand
		high year mother light parts country father let night following picture being study second eyes soon
		times story boys since white days ever paper hard near sentence better best across during today others
		however sure means knew it's try told young miles sun ways thing whole hear example heard several change
		answer room sea against top turned learn point city play toward five using himself usually money seen
		didn't car morning I'm body upon family later turn move face door cut done group true leave color red
		friends easy problem complete rather crowd patterns reading science government measure economy 1984`)
	punct := []string{",", ",", ".", ";", ":", "!", "?", " -", "\"", "'s", "(", ")"}
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.Grow(n + 64)
	sentenceStart := true
	for b.Len() < n {
		w := words[r.IntN(len(words))]
		switch x := r.IntN(100); {
		case x < 3:
			w = fmt.Sprint(r.IntN(100000))
		case x < 4:
			w = fmt.Sprintf("%d.%02d", r.IntN(1000), r.IntN(100))
		}
		if sentenceStart {
			w = strings.ToUpper(w[:1]) + w[1:]
			sentenceStart = false
		}
		b.WriteString(w)
		switch x := r.IntN(100); {
		case x < 8:
			b.WriteString(". ")
			sentenceStart = true
		case x < 9:
			b.WriteString(".\n\n")
			sentenceStart = true
		case x < 16:
			b.WriteString(punct[r.IntN(len(punct))] + " ")
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// BenchmarkEncode1MB encodes 1 MB of prose with the Llama 3 (and Qwen3) tokenizer. The word
// cache belongs to the tokenizer, as in HF, so after the first iteration it is warm, as in
// any long-running process.
// go test -run=XXX -bench=Encode1MB ./models/tokenizer/
func BenchmarkEncode1MB(b *testing.B) {
	for _, name := range []string{"llama3", "qwen3"} {
		b.Run(name, func(b *testing.B) {
			tok := sharedTokenizer(b, name)
			text := benchProse(1 << 20)
			b.SetBytes(int64(len(text)))
			b.ResetTimer()
			var n int
			for b.Loop() {
				n = len(tok.Encode(text))
			}
			b.ReportMetric(float64(n), "tokens")
		})
	}
}

// BenchmarkEncode1MBParallel runs Encode from several goroutines on one tokenizer.
func BenchmarkEncode1MBParallel(b *testing.B) {
	tok := sharedTokenizer(b, "llama3")
	text := benchProse(1 << 20)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tok.Encode(text)
		}
	})
}

// BenchmarkLoadLlama3 loads the 9 MB Llama 3 tokenizer.json.
func BenchmarkLoadLlama3(b *testing.B) {
	dir := shareddata.PathOrSkip(b, "data", "tokenizers", "llama3")
	for b.Loop() {
		if _, err := Load(filepath.Join(dir, "tokenizer.json")); err != nil {
			b.Fatal(err)
		}
	}
}
