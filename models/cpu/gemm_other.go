//go:build !amd64

package cpu

// Without assembly, every micro-panel is packed by the Go loops in gemm.go.

func packATransFast(d, a []float32, lda, i0, p0, kc, mr int) bool                { return false }
func packARowsFast(d, a []float32, lda, i0, p0, kc, mr int) int                  { return 0 }
func packBTransFast(d, b []float32, ldb, j0, p0, kc, nr int) int                 { return 0 }
func packBTransBF16Fast(d []float32, b []uint16, ldb, j0, p0, kc, nr int) int    { return 0 }
func packBRowsFast(d, b []float32, bh []uint16, ldb, p0, kc, j0, nc, nr int) int { return 0 }

type namedKernel struct {
	name string
	*gemmKernel
}

func kernelsForBench() []namedKernel { return []namedKernel{{"generic4x4", &genericGemm}} }
