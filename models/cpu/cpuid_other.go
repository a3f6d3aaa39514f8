//go:build !amd64

package cpu

func detectKernelFeatures() kernelFeatures { return kernelFeatures{} }

func selectKernels(kernelFeatures) *kernelSet {
	return &kernelSet{name: "generic Go 4x4 gemm, Go gemv, Go few-rows", gemm: genericGemm, narrow: genericGemm, smallM: &smallMGo, maxSmall: maxFewRows}
}
