package llama

import "testing"

// TestTrainingStepKeepsOnlyWhatTheBackwardCannotRecompute: a LoRA training step's
// memory grows with depth only by the activations each layer keeps for the backward
// (its output, q, k, v, the residual after attention, the two rstd and the LoRA
// branches' x·Aᵀ; gate and up as well with KeepMLP). The norms' outputs, the attention
// output, gate, up and silu(gate)·up are recomputed, and the backward's own tensors live
// through two layers, not the whole step. And no buffer holds the logits of the whole batch: the
// lm_head and cross-entropy run LossChunk rows at a time.
func TestTrainingStepKeepsOnlyWhatTheBackwardCannotRecompute(t *testing.T) {
	const B, T, chunk = 2, 24, 10
	step := func(layers int, keepMLP bool) (elems, largest int) {
		be := &nullBackend{}
		c := allocConfig(false)
		c.NumLayers = layers
		m, _ := loraModelWith(t, be, c, 0)
		m.LossChunk, m.KeepMLP = chunk, keepMLP
		be.elems, be.largest = 0, 0
		ids := make([]int32, B*T)
		if _, _, err := m.Loss(ids, make([]int32, B*T), B, T, true, 1); err != nil {
			t.Fatal(err)
		}
		return be.elems, be.largest
	}
	c, N, rank := allocConfig(false), B*T, 4
	kept := N * (c.HiddenSize + 1 + c.QDim() + 2*c.KVDim() + c.HiddenSize + 1 + numProj*rank)
	for _, keep := range []bool{false, true} {
		want := kept
		if keep {
			want += N * 2 * c.IntermediateSize
		}
		e2, _ := step(2, keep)
		e6, _ := step(6, keep)
		if perLayer := (e6 - e2) / 4; perLayer > want {
			t.Errorf("KeepMLP %v: each layer adds %d elements to a training step, want at most the %d it must keep", keep, perLayer, want)
		}
	}
	_, largest := step(2, false)
	if largest > chunk*c.VocabSize {
		t.Errorf("a training step allocates a buffer of %d elements, more than %d rows of logits (%d)", largest, chunk, chunk*c.VocabSize)
	}
}

// TestBackwardHoldsOneLayerAtATime: the backward's tensors come from one arena reset per
// layer; the second training arena holds only the two dx buffers that carry a layer's
// gradient to the layer below (a layer's whole backward set there would double it).
func TestBackwardHoldsOneLayerAtATime(t *testing.T) {
	const B, T = 2, 24
	be := &nullBackend{}
	c := allocConfig(false)
	m, _ := loraModelWith(t, be, c, 0)
	ids := make([]int32, B*T)
	if _, _, err := m.Loss(ids, make([]int32, B*T), B, T, true, 1); err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, s := range m.train.layers[1].slots {
		if s.store != nil {
			held += s.store.Len()
		}
	}
	if want := 2 * B * T * c.HiddenSize; held != want {
		t.Errorf("the carry arena holds %d elements, want two dx buffers of %d", held, want/2)
	}
}
