package cpu

import "golang.org/x/sys/cpu"

// detectKernelFeatures asks the CPU (and the OS: x/sys/cpu reports AVX only when the OS saves the wider
// registers on a context switch).
func detectKernelFeatures() kernelFeatures {
	x := cpu.X86
	f := kernelFeatures{avx2FMA: x.HasAVX2 && x.HasFMA && x.HasAVX}
	f.avx512 = f.avx2FMA && x.HasAVX512 && x.HasAVX512F
	f.bf16dot = f.avx512 && x.HasAVX512BF16
	return f
}

// selectKernels picks the fastest kernels that f allows. AVX-512 only changes the GEMM micro-kernel:
// on the Zen 4 it was measured on, the 12×32 tile and the 6×16 AVX2 tile reach about the same FLOP rate
// on one core (~110 GFLOP/s, near the 2 FMA/cycle peak), but the bigger tile needs half the operand
// bandwidth per FLOP and was 5-10% faster on two threads; GEMV is memory-bound and stays AVX2. The
// few-rows kernels (smallm.go) are AVX-512: at 5 rows of A they are FMA-bound, not memory-bound. With
// AVX512_BF16 besides, SgemmBF16Dot gets the VDPBF16PS kernel (about twice the f32 kernel's rate on the
// 1B training shapes, BenchmarkSgemmBF16Dot).
func selectKernels(f kernelFeatures) *kernelSet {
	switch {
	case f.avx512:
		ks := &kernelSet{name: "avx512 12x32 gemm (avx2+fma 6x16 for narrow), avx2+fma gemv, avx512 few-rows, avx512 exp", gemm: avx512Gemm, narrow: avx2Gemm, asmPack: true, asmGemv: true,
			smallM: &smallMAVX512, maxSmall: maxSmallRowsAVX512, vecMath: true}
		if f.bf16dot {
			ks.name += ", avx512-bf16 12x32 dot"
			ks.dot = &bf16DotGemm
		}
		return ks
	case f.avx2FMA:
		return &kernelSet{name: "avx2+fma 6x16 gemm, avx2+fma gemv, avx2 few-rows", gemm: avx2Gemm, narrow: avx2Gemm, asmPack: true, asmGemv: true,
			smallM: &smallMAVX2, maxSmall: maxSmallRowsAVX2}
	}
	return &kernelSet{name: "generic Go 4x4 gemm, Go gemv, Go few-rows", gemm: genericGemm, narrow: genericGemm, smallM: &smallMGo, maxSmall: maxFewRows}
}
