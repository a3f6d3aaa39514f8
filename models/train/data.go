package train

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// IgnoreIndex marks a label that does not count in the loss (torch's CrossEntropyLoss
// ignore_index and the HF convention).
const IgnoreIndex = -100

// Example is one training sequence. LossMask[i] true means token i is predicted, i.e. it
// counts in the loss (typically the completion, not the prompt). A nil LossMask means
// every token counts; otherwise it must be as long as Tokens.
type Example struct {
	Tokens   []int32
	LossMask []bool
}

// Labels follows the HF convention: labels are aligned with the inputs (the model shifts
// them), label[i] = Tokens[i] where LossMask[i] is true, else IgnoreIndex. label[0] is
// never consumed, since no position predicts the first token.
func Labels(ex Example) []int32 {
	if ex.LossMask != nil && len(ex.LossMask) != len(ex.Tokens) {
		panic(fmt.Sprintf("train: %d tokens but %d loss-mask entries", len(ex.Tokens), len(ex.LossMask)))
	}
	labels := make([]int32, len(ex.Tokens))
	for i, t := range ex.Tokens {
		if ex.LossMask == nil || ex.LossMask[i] {
			labels[i] = t
		} else {
			labels[i] = IgnoreIndex
		}
	}
	return labels
}

// ShiftedTargets is what the loss consumes: the target of position i is labels[i+1] and
// the last position's is IgnoreIndex (HF's shift_labels). labels nil means the tokens
// themselves (plain language modelling); otherwise it must be as long as tokens.
func ShiftedTargets(tokens, labels []int32) []int32 {
	if labels == nil {
		labels = tokens
	}
	if len(labels) != len(tokens) {
		panic(fmt.Sprintf("train: %d tokens but %d labels", len(tokens), len(labels)))
	}
	t := make([]int32, len(tokens))
	for i := range t {
		if i+1 < len(labels) {
			t[i] = labels[i+1]
		} else {
			t[i] = IgnoreIndex
		}
	}
	return t
}

// Pack makes a batch: every example right-padded with padID to the longest length, its
// labels (see Labels) padded with IgnoreIndex so padding never counts in the loss. Right
// padding keeps each real token's causal context free of padding.
func Pack(examples []Example, padID int32) (ids [][]int32, labels [][]int32) {
	if len(examples) == 0 {
		return nil, nil
	}
	width := 0
	for _, ex := range examples {
		width = max(width, len(ex.Tokens))
	}
	ids = make([][]int32, len(examples))
	labels = make([][]int32, len(examples))
	for b, ex := range examples {
		row := make([]int32, width)
		lab := make([]int32, width)
		copy(row, ex.Tokens)
		copy(lab, Labels(ex))
		for i := len(ex.Tokens); i < width; i++ {
			row[i] = padID
			lab[i] = IgnoreIndex
		}
		ids[b], labels[b] = row, lab
	}
	return ids, labels
}

// Shuffle is a deterministic permutation of 0..n-1 for one epoch: a Fisher-Yates shuffle
// driven by a math/rand/v2 PCG seeded with (seed, epoch). The index draw is written out
// here (Lemire's multiply-shift with rejection) so the order depends only on the PCG
// stream, which Go keeps stable, and not on rand.Perm's algorithm.
func Shuffle(n int, seed uint64, epoch int) []int {
	src := rand.NewPCG(seed, uint64(epoch)^0x9e3779b97f4a7c15)
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(uniform(src, uint64(i+1)))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// uniform returns an unbiased value in [0, n) from src.
func uniform(src *rand.PCG, n uint64) uint64 {
	for {
		hi, lo := bits.Mul64(src.Uint64(), n)
		if lo >= n || lo >= -n%n {
			return hi
		}
	}
}
