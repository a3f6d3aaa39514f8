package llama

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"seal/models/cpu"
	"seal/models/lora"
	"seal/models/tensor"
	"seal/models/train"
)

// nullBackend does no arithmetic: it hands out host memory and counts what it hands
// out, so a test sees the allocations of the model code alone (a real backend's own
// per-call bookkeeping is its business, and the conformance suite's).
type nullBackend struct {
	tensor.Backend // any op not below panics: the decode path must not use it
	allocs         int
	elems, largest int // elements handed out in all, and in the largest allocation
}

func (b *nullBackend) Name() string { return "null" }
func (b *nullBackend) Alloc(dt tensor.DType, shape ...int) *tensor.Tensor {
	b.allocs++
	b.elems += tensor.Numel(shape)
	b.largest = max(b.largest, tensor.Numel(shape))
	if dt == tensor.BF16 {
		return tensor.FromBF16(make([]uint16, tensor.Numel(shape)), shape...)
	}
	return tensor.New(shape...)
}
func (b *nullBackend) CopyRows(dst *tensor.Tensor, dstRow int, src *tensor.Tensor, srcRow, n int) {
}
func (b *nullBackend) UploadShared(src *tensor.Tensor) *tensor.Tensor                  { return src }
func (b *nullBackend) Download(dst, src *tensor.Tensor)                                {}
func (b *nullBackend) Zero(a *tensor.Tensor)                                           {}
func (b *nullBackend) Free(t *tensor.Tensor)                                           {}
func (b *nullBackend) MatMul(c, a, w *tensor.Tensor, ta, tb bool, alpha, beta float32) {}
func (b *nullBackend) MatMulBF16(c, a, w *tensor.Tensor, tb bool, alpha, beta float32) {}
func (b *nullBackend) Embedding(out, table *tensor.Tensor, ids []int32)                {}
func (b *nullBackend) RMSNorm(out, rstd, x, w *tensor.Tensor, eps float32)             {}
func (b *nullBackend) RoPE(x *tensor.Tensor, heads int, pos []int32, cos, sin *tensor.Tensor) {
}
func (b *nullBackend) Attention(out, lse, q, k, v *tensor.Tensor, s tensor.AttnShape) {}
func (b *nullBackend) SwiGLU(out, gate, up *tensor.Tensor)                            {}
func (b *nullBackend) AddBias(x, bias *tensor.Tensor)                                 {}
func (b *nullBackend) Add(a, x *tensor.Tensor, alpha float32)                         {}

// The training step's ops.
func (b *nullBackend) CrossEntropy(d, logits *tensor.Tensor, labels []int32, scale float32) (float64, int) {
	return 1, len(labels)
}
func (b *nullBackend) SwiGLUBackward(dg, du, dout, gate, up *tensor.Tensor)    {}
func (b *nullBackend) RMSNormBackward(dx, dw, dout, x, w, rstd *tensor.Tensor) {}
func (b *nullBackend) AttentionBackward(dq, dk, dv, dout, out, lse, q, k, v *tensor.Tensor, s tensor.AttnShape) {
}
func (b *nullBackend) RoPEBackward(dx *tensor.Tensor, heads int, pos []int32, cos, sin *tensor.Tensor) {
}
func (b *nullBackend) Dropout(out, x *tensor.Tensor, p float32, seed uint64) {}
func (b *nullBackend) SumSquares(a *tensor.Tensor) float64                   { return 1 }
func (b *nullBackend) Scale(a *tensor.Tensor, s float32)                     {}
func (b *nullBackend) AdamWStep(p, g, m, v *tensor.Tensor, h tensor.AdamW)   {}

func allocConfig(qkNorm bool) *Config {
	return &Config{Arch: ArchLlama, VocabSize: 512, HiddenSize: 64, IntermediateSize: 96, NumLayers: 3,
		NumHeads: 4, NumKVHeads: 2, HeadDim: 16, MaxPositions: 4096, RMSNormEps: 1e-5, RopeTheta: 10000,
		RopeScaling: RopeScaling{Type: "default"}, TieWordEmbeddings: true, QKNorm: qkNorm}
}

// TestDecodeStepAllocatesNothing: once a shape has been seen, a forward pass with the KV
// cache (a decode step, or a prefill of a length seen before) allocates nothing on the
// Go heap and asks the backend for no memory: every activation comes from the buffers
// the model keeps between passes. For Llama, Qwen3 (per-head norms) and with a LoRA
// adapter on every projection.
func TestDecodeStepAllocatesNothing(t *testing.T) {
	for _, v := range []struct {
		name         string
		qkNorm, lora bool
	}{{"llama", false, false}, {"qwen3", true, false}, {"lora", false, true}} {
		be := &nullBackend{}
		c := allocConfig(v.qkNorm)
		m := NewRandom(c, be, false, 1)
		if v.lora {
			a, err := lora.New(&lora.Config{Rank: 4, Alpha: 8, TargetModules: Projections}, c.NumLayers, Projections, c.ProjectionShape, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.SetAdapter(a); err != nil {
				t.Fatal(err)
			}
		}
		for _, B := range []int{1, 5} {
			name := fmt.Sprintf("%s batch %d", v.name, B)
			cache := m.NewCache(B, 1024)
			prompt, last := make([]int32, B*7), []int{6}
			if B > 1 {
				last = append(last, 13)
			}
			pre, out := tensor.New(len(last), c.VocabSize), tensor.New(B, c.VocabSize)
			ids := make([]int32, B)
			prefill := func() {
				clear(cache.Len)
				if err := m.ForwardInto(pre, prompt, B, 7, cache, last); err != nil {
					t.Fatal(err)
				}
			}
			step := func() {
				if err := m.ForwardInto(out, ids, B, 1, cache, nil); err != nil {
					t.Fatal(err)
				}
			}
			prefill()
			step() // the first of each shape sizes the buffers
			be.allocs = 0
			if n := testing.AllocsPerRun(50, step); n != 0 {
				t.Errorf("%s: a decode step makes %v heap allocations, want 0", name, n)
			}
			if n := testing.AllocsPerRun(5, prefill); n != 0 {
				t.Errorf("%s: a prefill of a seen length makes %v heap allocations, want 0", name, n)
			}
			if be.allocs != 0 {
				t.Errorf("%s: the steady state asked the backend for %d tensors, want 0", name, be.allocs)
			}
		}
	}
}

// TestBuffersCarryNothingBetweenPasses: one model serving two batches of different
// shapes, their prefills and decode steps interleaved (so every buffer is reused by
// the other batch in between), gives bit for bit the logits of two models that each
// serve one batch alone.
func TestBuffersCarryNothingBetweenPasses(t *testing.T) {
	c := allocConfig(true)
	shared := NewRandom(c, cpu.New(), false, 5)
	type batch struct {
		B, T  int
		alone *Model
		cache [2]*KVCache // on shared, on alone
	}
	batches := []*batch{{B: 1, T: 5}, {B: 3, T: 9}}
	for _, b := range batches {
		b.alone = NewRandom(c, cpu.New(), false, 5)
		b.cache = [2]*KVCache{shared.NewCache(b.B, 64), b.alone.NewCache(b.B, 64)}
	}
	r := rand.New(rand.NewPCG(3, 4))
	ids := func(n int) []int32 {
		s := make([]int32, n)
		for i := range s {
			s[i] = int32(r.IntN(c.VocabSize))
		}
		return s
	}
	run := func(b *batch, in []int32, T int) {
		got, err := shared.Forward(in, b.B, T, b.cache[0], nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := b.alone.Forward(in, b.B, T, b.cache[1], nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want.F32 {
			if got.F32[i] != want.F32[i] {
				t.Fatalf("batch of %d, pass of %d tokens at position %d: logit %d is %v interleaved, %v alone",
					b.B, T, b.cache[1].Len[0]-T, i, got.F32[i], want.F32[i])
			}
		}
	}
	for _, b := range batches {
		run(b, ids(b.B*b.T), b.T)
	}
	for step := 0; step < 6; step++ {
		for _, b := range batches {
			run(b, ids(b.B), 1)
		}
	}
}

// loraModel is a small model with a trainable adapter (B nonzero, so A gets gradients).
func loraModel(t *testing.T, be tensor.Backend, qkNorm bool, dropout float64) (*Model, []*train.Param) {
	t.Helper()
	return loraModelWith(t, be, allocConfig(qkNorm), dropout)
}

// loraModelWith is loraModel for a given configuration.
func loraModelWith(t *testing.T, be tensor.Backend, c *Config, dropout float64) (*Model, []*train.Param) {
	t.Helper()
	m := NewRandom(c, be, false, 7)
	a, err := lora.New(&lora.Config{Rank: 4, Alpha: 8, Dropout: dropout, TargetModules: Projections}, c.NumLayers, Projections, c.ProjectionShape, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	for _, mod := range a.Modules {
		for i := range mod.B {
			mod.B[i] = float32(math.Sin(float64(i))) * 0.3
		}
	}
	if err := m.SetAdapter(a); err != nil {
		t.Fatal(err)
	}
	params, err := m.TrainLoRA()
	if err != nil {
		t.Fatal(err)
	}
	return m, params
}

// TestArenaBuffersAreWrittenBeforeRead: with every reused buffer poisoned with NaN, a
// training step repeated on the same batch gives the same loss and bit for bit the same
// gradients as the first, and decoding gives the logits of a model without reuse: no
// op reads what an earlier pass left in a buffer.
func TestArenaBuffersAreWrittenBeforeRead(t *testing.T) {
	poisonArenas = true
	defer func() { poisonArenas = false }()
	for _, qk := range []bool{false, true} {
		m, params := loraModel(t, cpu.New(), qk, 0.1)
		ids := []int32{1, 5, 9, 2, 33, 7, 4, 4, 12, 40, 11, 3}
		targets := []int32{5, 9, 2, 33, 7, 4, -100, 12, 40, 3, 8, 1}
		var first [][]float32
		var firstLoss float64
		for step := 0; step < 3; step++ {
			for _, p := range params {
				clear(p.Grad.F32)
			}
			m.dropoutCalls = 0 // the same dropout masks each time
			loss, _, err := m.Loss(ids, targets, 2, 6, true, 1)
			if err != nil {
				t.Fatal(err)
			}
			if step == 0 {
				firstLoss = loss
				for _, p := range params {
					first = append(first, append([]float32(nil), p.Grad.F32...))
				}
				continue
			}
			if loss != firstLoss || math.IsNaN(loss) {
				t.Fatalf("qk=%v step %d: loss %v, first %v", qk, step, loss, firstLoss)
			}
			for i, p := range params {
				if !slices.Equal(p.Grad.F32, first[i]) {
					t.Fatalf("qk=%v step %d: gradient of %s differs from the first step's", qk, step, p.Name)
				}
			}
		}
		// Inference on buffers a larger pass sized (so all of them are reused, poisoned),
		// against a model whose buffers are all new.
		m.StopTraining()
		ref, _ := loraModel(t, cpu.New(), qk, 0.1)
		ref.StopTraining()
		if _, err := m.Forward(ids, 1, 12, nil, nil); err != nil {
			t.Fatal(err)
		}
		got, _ := m.Forward(ids, 2, 6, nil, []int{5, 11})
		want, _ := ref.Forward(ids, 2, 6, nil, []int{5, 11})
		if !slices.Equal(got.F32, want.F32) {
			t.Fatalf("qk=%v: logits from reused, poisoned buffers differ from a new model's", qk)
		}
	}
}

// TestTrainingStepAllocatesNothing: a LoRA training step (loss, backward with dropout,
// gradient clipping, AdamW, zeroing) on a batch shape seen before allocates nothing on
// the Go heap and asks the backend for no memory: the step's activations and the
// backward's tensors live in the model's training buffers, reused step after step.
func TestTrainingStepAllocatesNothing(t *testing.T) {
	for _, qk := range []bool{false, true} {
		be := &nullBackend{}
		m, params := loraModel(t, be, qk, 0.1)
		opt := train.NewAdamW(be, params, train.AdamWConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, MaxGradNorm: 1}, nil)
		ids := make([]int32, 4*16)
		targets := make([]int32, len(ids))
		step := func() {
			if _, _, err := m.Loss(ids, targets, 4, 16, true, 1); err != nil {
				t.Fatal(err)
			}
			opt.Step()
			opt.ZeroGrad()
		}
		step()
		be.allocs = 0
		if n := testing.AllocsPerRun(20, step); n != 0 {
			t.Errorf("qk=%v: a training step makes %v heap allocations, want 0", qk, n)
		}
		if be.allocs != 0 {
			t.Errorf("qk=%v: the steady state asked the backend for %d tensors, want 0", qk, be.allocs)
		}
	}
}

// TestTrainingStepAllocatesNothingOnCPU: the same LoRA training step on the real CPU
// backend, on the small model's layer shapes (d 256, 4 layers, 2×64 tokens: big enough
// that every element-wise op, norm and backward runs on the worker pool) makes no heap
// allocation once its shape has been seen: the ops hand their work to the pool as pooled
// records, not as closures.
func TestTrainingStepAllocatesNothingOnCPU(t *testing.T) {
	c := &Config{Arch: ArchLlama, VocabSize: 2048, HiddenSize: 256, IntermediateSize: 688, NumLayers: 4,
		NumHeads: 8, NumKVHeads: 4, HeadDim: 32, MaxPositions: 512, RMSNormEps: 1e-5, RopeTheta: 10000,
		RopeScaling: RopeScaling{Type: "default"}, TieWordEmbeddings: true}
	m, params := loraModelWith(t, cpu.New(), c, 0.1)
	opt := train.NewAdamW(m.Backend, params, train.AdamWConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, MaxGradNorm: 1}, nil)
	ids := make([]int32, 2*64)
	targets := make([]int32, len(ids))
	for i := range ids {
		ids[i], targets[i] = int32(i%50), int32((i+1)%50)
	}
	step := func() {
		if _, _, err := m.Loss(ids, targets, 2, 64, true, 1); err != nil {
			t.Fatal(err)
		}
		opt.Step()
		opt.ZeroGrad()
	}
	for range 5 {
		step()
	}
	// AllocsPerRun reports whole allocations per step, rounded down. The records and scratch are
	// in sync.Pools, whose per-P slots miss now and then when the scheduler moves the pool's
	// goroutines between threads (a new record, a pool chain grown): with 10 steps, on a loaded
	// machine, 10 such misses read as "1 per step" in 4 runs of 10 (the code at the start of this
	// session as well). Over 50 steps an op that allocates on every call still shows, as hundreds.
	if n := testing.AllocsPerRun(50, step); n != 0 {
		t.Errorf("a LoRA training step on the CPU makes %v heap allocations, want 0", n)
	}
}

// TestDecodeStepAllocatesNothingOnCPU: with the real CPU backend too (its worker pool's
// jobs, its matrix products' records and its scratch are pooled), a decode step of a
// shape seen before makes no heap allocation, at batch 1 and 5 (the few-rows products).
func TestDecodeStepAllocatesNothingOnCPU(t *testing.T) {
	c := &Config{Arch: ArchLlama, VocabSize: 4096, HiddenSize: 256, IntermediateSize: 688, NumLayers: 2,
		NumHeads: 8, NumKVHeads: 4, HeadDim: 32, MaxPositions: 4096, RMSNormEps: 1e-5, RopeTheta: 10000,
		RopeScaling: RopeScaling{Type: "default"}, TieWordEmbeddings: true}
	m := NewRandom(c, cpu.New(), false, 1)
	for _, B := range []int{1, 5} {
		cache := m.NewCache(B, 512)
		ids, out := make([]int32, B), tensor.New(B, c.VocabSize)
		step := func() {
			if err := m.ForwardInto(out, ids, B, 1, cache, nil); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			step()
		}
		if n := testing.AllocsPerRun(100, step); n != 0 {
			t.Errorf("batch %d: a decode step makes %v heap allocations, want 0", B, n)
		}
	}
}
