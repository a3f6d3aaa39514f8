package safetensors

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// benchFile writes a 16 MiB tensor of the given 2-byte dtype and opens it.
func benchFile(b *testing.B, mk func(string, []int, []float32) Tensor) (*File, []float32) {
	const n = 8 << 20 // 8 Mi elements × 2 bytes = 16 MiB
	r := rand.New(rand.NewPCG(5, 6))
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = float32(r.NormFloat64())
	}
	p := filepath.Join(b.TempDir(), "bench.safetensors")
	if err := WriteFile(p, []Tensor{mk("w", []int{2048, 4096}, vals)}, nil); err != nil {
		b.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f, make([]float32, n)
}

// BenchmarkFloat32BF16 measures bf16 -> f32 widening of a 16 MiB tensor
// from the mapping into a reused buffer; MB/s counts source bytes.
func BenchmarkFloat32BF16(b *testing.B) {
	f, dst := benchFile(b, BF16Tensor)
	b.SetBytes(int64(2 * len(dst)))
	for b.Loop() {
		if err := f.ReadFloat32("w", dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloat32F16 is the same for IEEE half, which needs a branchy
// per-element conversion.
func BenchmarkFloat32F16(b *testing.B) {
	f, dst := benchFile(b, F16Tensor)
	b.SetBytes(int64(2 * len(dst)))
	for b.Loop() {
		if err := f.ReadFloat32("w", dst); err != nil {
			b.Fatal(err)
		}
	}
}
