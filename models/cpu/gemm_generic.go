package cpu

import "unsafe"

// The pure-Go path: the same packing and blocking as the assembly one, with a 4×4 register tile computed
// as two 4×2 halves. Eight scalar accumulators plus the operands fit the 15 floating-point registers
// that Go's amd64 ABI leaves free (X15 is its zero register); sixteen accumulators spilled to the stack
// and ran at a third of the speed. It is what non-amd64 machines and amd64 machines without AVX2+FMA
// run, and tests force it on this one.
var genericGemm = gemmKernel{mr: 4, nr: 4, kc: 256, mc: 64, nc: 1024, ncPar: 1024, full: gemmKernelGeneric4x4}

func gemmKernelGeneric4x4(kc int, a, b, c *float32, ldc int, alpha, beta float32) {
	as := unsafe.Slice(a, 4*kc)
	bs := unsafe.Slice(b, 4*kc)
	cs := unsafe.Slice(c, 3*ldc+4)
	for half := 0; half < 4; half += 2 {
		var c00, c01, c10, c11, c20, c21, c30, c31 float32
		ap, bp := as, bs[half:]
		for len(ap) >= 4 && len(bp) >= 2 {
			b0, b1 := bp[0], bp[1]
			a0 := ap[0]
			c00 += a0 * b0
			c01 += a0 * b1
			a1 := ap[1]
			c10 += a1 * b0
			c11 += a1 * b1
			a2 := ap[2]
			c20 += a2 * b0
			c21 += a2 * b1
			a3 := ap[3]
			c30 += a3 * b0
			c31 += a3 * b1
			ap = ap[4:]
			if len(bp) < 4 {
				break
			}
			bp = bp[4:]
		}
		acc := [4][2]float32{{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}}
		for i := range acc {
			row := cs[i*ldc+half : i*ldc+half+2]
			if beta == 0 {
				row[0], row[1] = alpha*acc[i][0], alpha*acc[i][1]
			} else {
				row[0], row[1] = alpha*acc[i][0]+beta*row[0], alpha*acc[i][1]+beta*row[1]
			}
		}
	}
}
