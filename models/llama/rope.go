package llama

import (
	"math"
	"sync"

	"seal/models/tensor"
)

// ropeTables holds cos and sin [positions, head_dim/2] in the backend's memory, grown
// on demand: Llama 3.2 allows 131072 positions and a table that long is rarely needed.
// They are computed on the host (as transformers does, in float64 from float32 angles)
// and uploaded; a grown table replaces the old one, which a pass still running may hold.
type ropeTables struct {
	be       tensor.Backend
	invFreq  []float32
	mu       sync.Mutex
	cos, sin *tensor.Tensor
}

func newRopeTables(c *Config, be tensor.Backend) *ropeTables {
	return &ropeTables{be: be, invFreq: invFrequencies(c)}
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
	hc, hs := make([]float32, size*half), make([]float32, size*half)
	for p := 0; p < size; p++ {
		for i, f := range r.invFreq {
			// transformers multiplies in float32, then takes cos/sin of that float32 angle.
			angle := float64(f * float32(p))
			hc[p*half+i] = float32(math.Cos(angle))
			hs[p*half+i] = float32(math.Sin(angle))
		}
	}
	r.cos = r.be.UploadShared(tensor.FromF32(hc, size, half))
	r.sin = r.be.UploadShared(tensor.FromF32(hs, size, half))
	return r.cos, r.sin
}
