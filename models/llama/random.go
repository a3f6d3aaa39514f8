package llama

import (
	"math/rand/v2"
	"runtime"
	"sync"

	"seal/models/safetensors"
	"seal/models/tensor"
)

// NewRandom builds a model of the given shape with random weights (normal, std 0.02,
// norms at 1, biases at 0), for benchmarks and for pretraining from scratch. With
// bf16 set, projection and embedding matrices are stored as BF16, as a real checkpoint
// would be; otherwise every weight is an owned F32 tensor, trainable with TrainFull.
// The weights are drawn on the host and uploaded to b.
func NewRandom(c *Config, b tensor.Backend, bf16 bool, seed uint64) *Model {
	m := &Model{Config: c, Backend: b, Layers: make([]Layer, c.NumLayers), owned: map[*tensor.Tensor]bool{}}
	var seq uint64
	matrix := func(rows, cols int) *tensor.Tensor {
		seq++
		if bf16 {
			h := make([]uint16, rows*cols)
			fillNormal(len(h), 0.02, seed, seq, func(i int, v float32) { h[i] = safetensors.F32ToBF16(v) })
			return b.UploadShared(tensor.FromBF16(h, rows, cols))
		}
		h := make([]float32, rows*cols)
		fillNormal(len(h), 0.02, seed, seq, func(i int, v float32) { h[i] = v })
		t := b.UploadShared(tensor.FromF32(h, rows, cols))
		m.owned[t] = true
		return t
	}
	vector := func(n int, v float32) *tensor.Tensor {
		h := make([]float32, n)
		for i := range h {
			h[i] = v
		}
		t := b.UploadShared(tensor.FromF32(h, n))
		m.owned[t] = true
		return t
	}
	m.Embed = matrix(c.VocabSize, c.HiddenSize)
	m.LMHead = m.Embed
	if !c.TieWordEmbeddings {
		m.LMHead = matrix(c.VocabSize, c.HiddenSize)
	}
	m.Norm = vector(c.HiddenSize, 1)
	for i := range m.Layers {
		l := &m.Layers[i]
		l.AttnNorm, l.MLPNorm = vector(c.HiddenSize, 1), vector(c.HiddenSize, 1)
		for j, proj := range Projections {
			out, in, _ := c.ProjectionShape(proj)
			l.W[j] = matrix(out, in)
			if c.hasBias(proj) {
				l.Bias[j] = vector(out, 0)
			}
		}
		if c.QKNorm {
			l.QNorm, l.KNorm = vector(c.HeadDim, 1), vector(c.HeadDim, 1)
		}
	}
	m.rope = newRopeTables(c, b)
	return m
}

// fillNormal draws n normal values in parallel chunks, each chunk with its own stream,
// so the result depends only on (seed, seq) and not on the number of cores; set stores
// value i (straight into bf16 for big models, with no float32 copy of the whole matrix).
func fillNormal(n int, std float64, seed, seq uint64, set func(i int, v float32)) {
	const chunk = 1 << 20
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		sem <- struct{}{}
		go func(lo int) {
			defer func() { <-sem; wg.Done() }()
			r := rand.New(rand.NewPCG(seed^seq*0x9e3779b97f4a7c15, uint64(lo)))
			for i := lo; i < min(lo+chunk, n); i++ {
				set(i, float32(r.NormFloat64()*std))
			}
		}(lo)
	}
	wg.Wait()
}
