//go:build !amd64

package cpu

// The assembly few-rows kernels exist on amd64 only; elsewhere no kernel set names them (smallMKernels.isa).

func smallMF32Asm(rows, k int, b []float32, ldb int, x []float32, ldx int, out *[4 * smallMGroup]float32) {
	panic("cpu: no assembly")
}

func smallMBF16Asm(rows, k int, b []uint16, ldb int, x []float32, ldx int, out *[4 * smallMGroup]float32) {
	panic("cpu: no assembly")
}

func smallMF32AVX2(rows, k int, b []float32, ldb int, x []float32, ldx int, out *[4 * smallMGroup]float32) {
	panic("cpu: no assembly")
}

func smallMBF16AVX2(rows, k int, b []uint16, ldb int, x []float32, ldx int, out *[4 * smallMGroup]float32) {
	panic("cpu: no assembly")
}
