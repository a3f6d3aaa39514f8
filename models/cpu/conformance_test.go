package cpu

import (
	"testing"

	"seal/models/tensor/backendtest"
)

// TestConformance runs the suite every backend passes (forward against float64
// references, backward against finite differences, AdamW against torch's formula).
func TestConformance(t *testing.T) { backendtest.Run(t, New()) }

// TestConformanceMatMulBF16Paths runs the bf16 product's check on every path SgemmBF16Dot has here: the
// VDPBF16PS kernel (where the CPU has AVX512_BF16), A rounded with the f32 kernels, and the generic Go.
func TestConformanceMatMulBF16Paths(t *testing.T) {
	withDotPaths(t, func(t *testing.T) { backendtest.RunCheck(t, New(), "MatMulBF16") })
}
