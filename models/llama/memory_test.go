package llama

import "testing"

// TestTrainingStepKeepsOnlyWhatTheBackwardCannotRecompute: a LoRA training step's
// memory grows with depth only by the activations each layer keeps for the backward
// (its output, q, k, v, the attention output and its log-sum-exp, the residual after
// attention, gate and up, the two rstd and the LoRA branches' x·Aᵀ). The norms' outputs
// and silu(gate)·up are recomputed, and the backward's own tensors live through two
// layers, not the whole step. And no buffer holds the logits of the whole batch: the
// lm_head and cross-entropy run LossChunk rows at a time.
func TestTrainingStepKeepsOnlyWhatTheBackwardCannotRecompute(t *testing.T) {
	const B, T, chunk = 2, 24, 10
	step := func(layers int) (elems, largest int) {
		be := &nullBackend{}
		c := allocConfig(false)
		c.NumLayers = layers
		m, _ := loraModelWith(t, be, c, 0)
		m.LossChunk = chunk
		be.elems, be.largest = 0, 0
		ids := make([]int32, B*T)
		if _, _, err := m.Loss(ids, make([]int32, B*T), B, T, true, 1); err != nil {
			t.Fatal(err)
		}
		return be.elems, be.largest
	}
	c, N, rank := allocConfig(false), B*T, 4
	kept := N * (c.HiddenSize + 1 + c.QDim() + 2*c.KVDim() + c.QDim() + c.NumHeads + c.HiddenSize + 1 +
		2*c.IntermediateSize + numProj*rank)
	e2, largest := step(2)
	e6, _ := step(6)
	if perLayer := (e6 - e2) / 4; perLayer > kept {
		t.Errorf("each layer adds %d elements to a training step, want at most the %d it must keep", perLayer, kept)
	}
	if largest > chunk*c.VocabSize {
		t.Errorf("a training step allocates a buffer of %d elements, more than %d rows of logits (%d)", largest, chunk, chunk*c.VocabSize)
	}
}
