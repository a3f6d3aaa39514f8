package cpu

// GEMV kernels in gemv_amd64.s (AVX2+FMA). n is a multiple of 16 and > 0; the Go callers bounds-check
// the rows they pass and do the remaining columns.

//go:noescape
func gemvDot4(n int, a *float32, lda int, x *float32, out *float32)

//go:noescape
func gemvDot4BF16(n int, a *uint16, lda int, x *float32, out *float32)

//go:noescape
func gemvDot1(n int, a *float32, x *float32) float32

//go:noescape
func gemvDot1BF16(n int, a *uint16, x *float32) float32

//go:noescape
func gemvAxpy4(n int, a *float32, lda int, x *float32, y *float32)

//go:noescape
func gemvAxpy4BF16(n int, a *uint16, lda int, x *float32, y *float32)
