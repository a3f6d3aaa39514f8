package llama

import (
	"math"
	"sync"

	"seal/models/tensor"
)

// ropeTables holds cos and sin [positions, head_dim/2], grown on demand: Llama 3.2
// allows 131072 positions and a table that long is rarely needed.
type ropeTables struct {
	invFreq  []float32
	mu       sync.Mutex
	cos, sin *tensor.Tensor
}

func newRopeTables(c *Config) *ropeTables {
	return &ropeTables{invFreq: invFrequencies(c)}
}

// invFrequencies follows transformers' rope init functions in float32:
// inv_freq = 1 / theta^(2i/d), then the llama3 rescaling of low and medium frequencies.
func invFrequencies(c *Config) []float32 {
	half := c.HeadDim / 2
	inv := make([]float32, half)
	for i := range inv {
		exp := float32(2*i) / float32(c.HeadDim)
		inv[i] = float32(1 / math.Pow(c.RopeTheta, float64(exp)))
	}
	s := c.RopeScaling
	if s.Type != "llama3" {
		return inv
	}
	old := float64(s.OriginalMaxPositionEmbeddings)
	lowWavelen := old / s.LowFreqFactor
	highWavelen := old / s.HighFreqFactor
	for i, f := range inv {
		wavelen := 2 * math.Pi / float64(f)
		scaled := float64(f)
		if wavelen > lowWavelen {
			scaled = float64(f) / s.Factor
		}
		if !(wavelen < highWavelen) && !(wavelen > lowWavelen) {
			smooth := (old/wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
			scaled = (1-smooth)*scaled/s.Factor + smooth*scaled
		}
		inv[i] = float32(scaled)
	}
	return inv
}

// tables returns cos and sin covering positions [0, n).
func (r *ropeTables) tables(n int) (cos, sin *tensor.Tensor) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cos != nil && r.cos.Shape[0] >= n {
		return r.cos, r.sin
	}
	size := 256
	for size < n {
		size *= 2
	}
	half := len(r.invFreq)
	cos, sin = tensor.New(size, half), tensor.New(size, half)
	for p := 0; p < size; p++ {
		for i, f := range r.invFreq {
			// transformers multiplies in float32, then takes cos/sin of that float32 angle.
			angle := float64(f * float32(p))
			cos.F32[p*half+i] = float32(math.Cos(angle))
			sin.F32[p*half+i] = float32(math.Sin(angle))
		}
	}
	r.cos, r.sin = cos, sin
	return cos, sin
}
