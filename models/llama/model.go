package llama

import (
	"fmt"
	"unsafe"

	"seal/models/lora"
	"seal/models/safetensors"
	"seal/models/tensor"
)

// Projection indexes, in the order of Projections.
const (
	Q = iota
	K
	V
	O
	Gate
	Up
	Down
	numProj
)

// Layer holds one decoder block's weights, bound by their Hugging Face names.
type Layer struct {
	AttnNorm, MLPNorm *tensor.Tensor
	W                 [numProj]*tensor.Tensor // [out, in]
	Bias              [numProj]*tensor.Tensor // nil where the architecture has none
	QNorm, KNorm      *tensor.Tensor          // Qwen3 only
}

// Model is a Llama-family network bound to a backend.
type Model struct {
	Config  *Config
	Backend tensor.Backend
	Embed   *tensor.Tensor // [vocab, hidden]
	Layers  []Layer
	Norm    *tensor.Tensor
	LMHead  *tensor.Tensor // the same tensor as Embed when tied

	// LossChunk is how many positions Loss sends through the lm_head and the
	// cross-entropy at once (0: DefaultLossChunk); the whole batch's logits are never
	// held.
	LossChunk int
	// KeepMLP keeps each layer's gate and up projections for the backward of a training
	// step instead of recomputing them there: 2 × tokens × intermediate floats per layer
	// more (0.5 GB for the 1B shape at 4×128 tokens) against two more matrix products per
	// layer in the backward (about a seventh more compute).
	KeepMLP bool
	// BF16Products makes a training step on bf16 weights multiply its frozen products in
	// bf16 (MatMulBF16: the activations rounded to bf16, as torch trains a bf16 model, at
	// about twice the float32 rate where the CPU has AVX512_BF16); off, they multiply in
	// float32. The caller chooses: the engine turns it on for large models (LoadModel).
	BF16Products bool

	rope   *ropeTables
	passes passPool // inference passes' buffers, kept between calls (buffers.go)
	train  *pass    // the training step's buffers, from the first Loss with backward

	adapter *lora.Adapter
	lora    [][numProj]*loraModule  // [layer][projection], nil where no adapter
	full    *fullGrads              // set while full-parameter training
	owned   map[*tensor.Tensor]bool // weights this model may write (not the checkpoint's mapped memory)

	training     bool        // inside a Loss call with backward: LoRA dropout is active
	dropoutCalls uint64      // counts those calls, so each draws fresh dropout masks
	dropoutSalt  uint64      // 0, or 1 for the replica that runs a split step's second half (its own masks)
	split        *splitState // that replica and its gradients (split.go), while training
}

// LoadOptions says how weights are held in memory.
type LoadOptions struct {
	// Trainable makes every weight an owned F32 copy, for full-parameter training.
	// Otherwise large matrices stay as stored (F32 or BF16) and are used in place from
	// the memory-mapped file, so a model costs no more memory than its checkpoint.
	Trainable bool
}

// Load binds a checkpoint's weights and uploads them to backend b (UploadShared: on the
// CPU the memory-mapped weights are used in place). The checkpoint must stay open while
// the model is used unless opts.Trainable copied everything.
func Load(ck *Checkpoint, b tensor.Backend, opts LoadOptions) (*Model, error) {
	c := ck.Config
	m := &Model{Config: c, Backend: b, Layers: make([]Layer, c.NumLayers), owned: map[*tensor.Tensor]bool{}}
	get := func(name string, small bool) (*tensor.Tensor, error) {
		h, owned, err := bindTensor(ck.Weights, name, small || opts.Trainable)
		if err != nil {
			return nil, err
		}
		t := b.UploadShared(h) // the CPU maps it in place; a device copies it up
		if owned {
			m.owned[t] = true
		}
		return t, nil
	}
	var err error
	if m.Embed, err = get("model.embed_tokens.weight", false); err != nil {
		return nil, err
	}
	if m.Norm, err = get("model.norm.weight", true); err != nil {
		return nil, err
	}
	if _, ok := ck.Weights.Info("lm_head.weight"); ok && !c.TieWordEmbeddings {
		if m.LMHead, err = get("lm_head.weight", false); err != nil {
			return nil, err
		}
	} else {
		m.LMHead = m.Embed
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		p := fmt.Sprintf("model.layers.%d.", i)
		if l.AttnNorm, err = get(p+"input_layernorm.weight", true); err != nil {
			return nil, err
		}
		if l.MLPNorm, err = get(p+"post_attention_layernorm.weight", true); err != nil {
			return nil, err
		}
		for j, proj := range Projections {
			name := ProjectionName(i, proj)
			if l.W[j], err = get(name+".weight", false); err != nil {
				return nil, err
			}
			if c.hasBias(proj) {
				if l.Bias[j], err = get(name+".bias", true); err != nil {
					return nil, err
				}
			}
		}
		if c.QKNorm {
			if l.QNorm, err = get(p+"self_attn.q_norm.weight", true); err != nil {
				return nil, err
			}
			if l.KNorm, err = get(p+"self_attn.k_norm.weight", true); err != nil {
				return nil, err
			}
		}
	}
	m.rope = newRopeTables(c, b)
	return m, nil
}

// bindTensor returns the named weight: F32 and BF16 data in place from the mapping
// when aligned, otherwise (F16, misaligned, or copy requested) an owned F32 copy.
func bindTensor(w *safetensors.Set, name string, copyF32 bool) (t *tensor.Tensor, owned bool, err error) {
	info, ok := w.Info(name)
	if !ok {
		return nil, false, fmt.Errorf("weight %s is missing", name)
	}
	shape := append([]int(nil), info.Shape...)
	if !copyF32 {
		raw, err := w.Raw(name)
		if err != nil {
			return nil, false, err
		}
		switch {
		case info.DType == safetensors.F32 && aligned(raw, 4):
			return tensor.FromF32(unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(raw))), len(raw)/4), shape...), false, nil
		case info.DType == safetensors.BF16 && aligned(raw, 2):
			return tensor.FromBF16(unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(raw))), len(raw)/2), shape...), false, nil
		}
	}
	data, err := w.Float32(name)
	if err != nil {
		return nil, false, err
	}
	return tensor.FromF32(data, shape...), true, nil
}

func aligned(b []byte, n uintptr) bool {
	return len(b) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%n == 0
}

// WeightBytes is the memory the bound weights occupy (tied embeddings counted once).
func (m *Model) WeightBytes() int64 {
	var n int64
	add := func(t *tensor.Tensor) {
		if t != nil {
			n += t.Bytes()
		}
	}
	add(m.Embed)
	add(m.Norm)
	if m.LMHead != m.Embed {
		add(m.LMHead)
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		add(l.AttnNorm)
		add(l.MLPNorm)
		add(l.QNorm)
		add(l.KNorm)
		for j := range l.W {
			add(l.W[j])
			add(l.Bias[j])
		}
	}
	return n
}
