//go:build !amd64

package cpu

// The assembly GEMV kernels exist on amd64 only; elsewhere kernelSet.asmGemv is false and these are
// never called.

func gemvDot4(n int, a *float32, lda int, x *float32, out *float32)    { panic("cpu: no assembly") }
func gemvDot4BF16(n int, a *uint16, lda int, x *float32, out *float32) { panic("cpu: no assembly") }
func gemvDot1(n int, a *float32, x *float32) float32                   { panic("cpu: no assembly") }
func gemvDot1BF16(n int, a *uint16, x *float32) float32                { panic("cpu: no assembly") }
func gemvAxpy4(n int, a *float32, lda int, x *float32, y *float32)     { panic("cpu: no assembly") }
func gemvAxpy4BF16(n int, a *uint16, lda int, x *float32, y *float32)  { panic("cpu: no assembly") }
