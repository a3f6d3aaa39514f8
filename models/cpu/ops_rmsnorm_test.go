package cpu

import (
	"fmt"
	"testing"

	"seal/models/tensor"
)

func TestRMSNormPanics(t *testing.T) {
	mustPanic(t, "needs w", func() {
		be.RMSNorm(tensor.New(2, 3), tensor.New(2), tensor.New(2, 3), tensor.New(4), 1e-5)
	})
	mustPanic(t, "must be F32", func() {
		be.RMSNorm(tensor.New(2, 3), tensor.New(2), tensor.FromBF16(make([]uint16, 6), 2, 3), tensor.New(3), 1e-5)
	})
}

func BenchmarkRMSNorm(b *testing.B) {
	r := newRNG(4)
	for _, sh := range []struct{ rows, D int }{{512, 256}, {512, 2048}} {
		rows, D := sh.rows, sh.D
		x := tensor.FromF32(randF32(r, rows*D, 1), rows, D)
		w := tensor.FromF32(randF32(r, D, 1), D)
		out, rstd := tensor.New(rows, D), tensor.New(rows)
		dout := tensor.FromF32(randF32(r, rows*D, 1), rows, D)
		dx, dw := tensor.New(rows, D), tensor.New(D)
		b.Run(fmt.Sprintf("fwd/%dx%d", rows, D), func(b *testing.B) {
			b.SetBytes(int64(8 * rows * D))
			for b.Loop() {
				be.RMSNorm(out, rstd, x, w, 1e-5)
			}
		})
		be.RMSNorm(out, rstd, x, w, 1e-5)
		b.Run(fmt.Sprintf("bwd/%dx%d", rows, D), func(b *testing.B) {
			b.SetBytes(int64(12 * rows * D))
			for b.Loop() {
				be.RMSNormBackward(dx, dw, dout, x, w, rstd)
			}
		})
	}
}
