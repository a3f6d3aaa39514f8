//go:build !amd64

package cpu

// Off amd64 the Go loops do all of it.

func addF32Fast(dst, src []float32, alpha float32) int { return 0 }
func scaleF32Fast(a []float32, s float32) int          { return 0 }
func sumSqFast(x []float32) (int, float64)             { return 0, 0 }
