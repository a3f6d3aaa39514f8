package cpu

import (
	"fmt"
	"runtime"
)

// kernelFeatures records what the running CPU can do, decided once at start-up; the kernels are chosen
// from it by selectKernels (cpuid_amd64.go, cpuid_other.go).
type kernelFeatures struct {
	avx2FMA bool // AVX2 and FMA3, with the OS saving YMM state: the 6x16 assembly kernels
	avx512  bool // AVX-512 F, with the OS saving ZMM state: the 12x32 assembly GEMM kernel
	bf16dot bool // AVX512_BF16 (VDPBF16PS) besides: the bf16 dot kernel of SgemmBF16Dot
}

// hostFeatures is what the hardware offers; activeKernels is what the package uses. activeKernels is a
// variable so that tests can force the generic Go path (and the AVX2 one) on a machine with AVX-512 and
// cover every path; they swap it only while no product is running.
var (
	hostFeatures  = detectKernelFeatures()
	activeKernels = selectKernels(hostFeatures)
)

// kernelSet is the code the package runs: one GEMM micro-kernel with its blocking, and whether the
// assembly packing and GEMV kernels are used (the Go loops otherwise).
type kernelSet struct {
	name    string
	gemm    gemmKernel
	narrow  gemmKernel  // for products with few rows or columns, where a big tile would be mostly padding
	dot     *gemmKernel // SgemmBF16Dot's bf16 pair kernel; nil where the CPU has no AVX512_BF16
	asmPack bool        // AVX2 packing routines (gemm_pack_amd64.s)
	asmGemv bool        // AVX2+FMA GEMV kernels (gemv_amd64.s)
	// smallM, when set, computes products Y = X·Wᵀ with at most maxSmall rows (decoding a batch) in one
	// pass over W (smallm.go); otherwise up to maxFewRows rows run as matrix-vector products.
	smallM   *smallMKernels
	maxSmall int
	// vecMath: the softmaxes' exponentials and row maxima and SwiGLU run their AVX-512 forms
	// (exp_amd64.s), with the Go code's results.
	vecMath bool
}

// useKernelFeatures switches the package to the kernels for f (tests force the generic path with
// kernelFeatures{}) and returns the previous selection so that the caller can restore it.
func useKernelFeatures(f kernelFeatures) *kernelSet {
	prev := activeKernels
	activeKernels = selectKernels(f)
	return prev
}

// KernelName says which GEMM/GEMV code paths run on this machine, for `seal bench` and logs, e.g.
// "avx512 12x32 gemm (avx2+fma 6x16 for narrow), avx2+fma gemv (amd64, 2 threads)" or
// "generic Go 4x4 gemm, Go gemv (arm64, 8 threads)".
func KernelName() string {
	return fmt.Sprintf("%s (%s, %d threads)", activeKernels.name, runtime.GOARCH, Threads())
}
