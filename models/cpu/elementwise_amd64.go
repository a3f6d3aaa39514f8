package cpu

// The vector forms of the training step's memory-bound element loops (elementwise_amd64.s): the
// gradient sums of a split step (Add), gradient clipping (Scale) and the gradient norm (SumSquares).

//go:noescape
func addF32AVX512(dst, src *float32, n int, alpha float32)

//go:noescape
func scaleF32AVX512(a *float32, n int, s float32)

//go:noescape
func sumSqAVX512(x *float32, n int) float64

// The ...Fast functions run the vector form over the longest prefix of whole groups of 16 where the CPU
// has AVX-512 (activeKernels.vecMath) and return its length (0 otherwise); the caller does the rest.

func addF32Fast(dst, src []float32, alpha float32) int {
	n := len(dst) &^ 15
	if !activeKernels.vecMath || n == 0 {
		return 0
	}
	_ = src[n-1]
	addF32AVX512(&dst[0], &src[0], n, alpha)
	return n
}

func scaleF32Fast(a []float32, s float32) int {
	n := len(a) &^ 15
	if !activeKernels.vecMath || n == 0 {
		return 0
	}
	scaleF32AVX512(&a[0], n, s)
	return n
}

func sumSqFast(x []float32) (int, float64) {
	n := len(x) &^ 15
	if !activeKernels.vecMath || n == 0 {
		return 0, 0
	}
	return n, sumSqAVX512(&x[0], n)
}
