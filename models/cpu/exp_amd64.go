package cpu

// The vector forms of expf in exp_amd64.s (AVX-512F): n a multiple of 8 and > 0.

//go:noescape
func expShiftSumAVX512(dst, src *float32, n int, shift float32, k *expConstants) float64

//go:noescape
func swiGLUAVX512(o, gate, u *float32, n int, k *expConstants)

//go:noescape
func swiGLUBackwardAVX512(gate, u, d, dg, du *float32, n int, k *expConstants)

//go:noescape
func maxF32AVX512(p *float32, n int, first float32) float32

// maxF32Fast runs maxF32AVX512 over row[1:] in whole groups of 16 and returns how far it got (1 and
// row[0] when it did not run).
func maxF32Fast(row []float32) (int, float32) {
	n := (len(row) - 1) &^ 15
	if !activeKernels.vecMath || n == 0 {
		return 1, row[0]
	}
	return 1 + n, maxF32AVX512(&row[1], n, row[0])
}

// The ...Fast functions run the vector forms on the longest prefix of whole groups of 8 where the CPU
// has AVX-512 (activeKernels.vecMath) and return its length (0 otherwise); the caller does the rest.

func expShiftSumFast(dst, src []float32, shift float32) (int, float64) {
	n := len(src) &^ 7
	if !activeKernels.vecMath || n == 0 {
		return 0, 0
	}
	_ = dst[n-1]
	return n, expShiftSumAVX512(&dst[0], &src[0], n, shift, &expK)
}

func swiGLUFast(o, g, u []float32) int {
	n := len(g) &^ 7
	if !activeKernels.vecMath || n == 0 {
		return 0
	}
	_, _ = o[n-1], u[n-1]
	swiGLUAVX512(&o[0], &g[0], &u[0], n, &expK)
	return n
}

func swiGLUBackwardFast(g, u, d, dg, du []float32) int {
	n := len(g) &^ 7
	if !activeKernels.vecMath || n == 0 {
		return 0
	}
	_, _, _, _ = u[n-1], d[n-1], dg[n-1], du[n-1]
	swiGLUBackwardAVX512(&g[0], &u[0], &d[0], &dg[0], &du[0], n, &expK)
	return n
}
