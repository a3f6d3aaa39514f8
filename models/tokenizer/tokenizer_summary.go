package tokenizer

import (
	"fmt"
	"strings"
)

// Summary describes a tokenizer for `seal inspect`.
type Summary struct {
	Model         string   // model type: "BPE"
	VocabSize     int      // max id + 1 over the vocabulary and added tokens
	ModelVocab    int      // entries in model.vocab
	Merges        int      // merge rules
	IgnoreMerges  bool     // whole pre-tokens in the vocabulary skip merging (Llama 3)
	ByteFallback  bool     // unknown characters fall back to <0xXX> tokens
	Normalizer    string   // "none", "NFC", ...
	PreTokenizers []string // stage kinds, in order, e.g. "Split(llama3 pattern, Isolated)"
	PostProcessor string   // "none", "ByteLevel", "TemplateProcessing(<|begin_of_text|> $A)", ...
	Decoder       string   // "ByteLevel", or "none" (tokens joined by spaces)
	AddedTokens   int
	SpecialTokens int
}

// Summary returns what the tokenizer is made of.
func (t *Tokenizer) Summary() Summary {
	s := Summary{
		Model:         "BPE",
		VocabSize:     t.VocabSize(),
		ModelVocab:    len(t.model.vocab),
		Merges:        t.model.numMerges,
		IgnoreMerges:  t.model.ignoreMerges,
		ByteFallback:  t.model.byteFallback,
		Normalizer:    t.norm.kind(),
		PreTokenizers: stageKinds(t.pre),
		PostProcessor: "none",
		Decoder:       "none",
		AddedTokens:   len(t.added),
	}
	for _, a := range t.added {
		if a.Special {
			s.SpecialTokens++
		}
	}
	if len(t.post) > 0 {
		names := make([]string, len(t.post))
		for i, p := range t.post {
			names[i] = p.name
		}
		s.PostProcessor = strings.Join(names, ", ")
	}
	switch {
	case len(t.dec) > 0:
		s.Decoder = strings.Repeat("ByteLevel, ", len(t.dec)-1) + "ByteLevel"
	case t.dec != nil:
		s.Decoder = "Sequence()" // tokens joined with nothing between them
	}
	return s
}

// String is the one-line form `seal inspect` prints.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, vocab %d (%d merges", s.Model, s.VocabSize, s.Merges)
	if s.IgnoreMerges {
		b.WriteString(", ignore_merges")
	}
	if s.ByteFallback {
		b.WriteString(", byte_fallback")
	}
	fmt.Fprintf(&b, "), %d added tokens (%d special); normalizer %s; pre-tokenizer %s; post-processor %s; decoder %s",
		s.AddedTokens, s.SpecialTokens, s.Normalizer, strings.Join(s.PreTokenizers, " + "), s.PostProcessor, s.Decoder)
	return b.String()
}
