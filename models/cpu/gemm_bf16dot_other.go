//go:build !amd64

package cpu

// Without assembly there is no dot kernel (activeKernels.dot is nil): SgemmBF16Dot rounds A and runs the
// float32 path.

func packBPairTransFast(d []float32, b []uint16, ldb, j0, p0, kc, nr int) int    { return 0 }
func packBPairRowsFast(d []float32, b []uint16, ldb, p0, kc, j0, nc, nr int) int { return 0 }
func roundBF16PairsFast(dst, src []float32) int                                  { return 0 }
