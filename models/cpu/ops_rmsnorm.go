package cpu

import (
	"fmt"
	"math"

	"seal/models/tensor"
)

// RMSNorm is Hugging Face's LlamaRMSNorm on float32 activations, row by row (a row is the last
// dimension, D = x.Cols()):
//
//	variance = mean(x²)                     (Σ x² accumulated in float64, rounded once to float32)
//	rstd     = 1 / sqrt(variance + eps)     (float32: the add, the sqrt and the division each rounded,
//	                                         as torch.rsqrt on the CPU)
//	out      = w · float32(x · rstd)        (w F32 or BF16, widened exactly)
//
// rstd [rows] keeps each row's rstd for the backward. out may be x itself.
func (*Backend) RMSNorm(out, rstd, x, w *tensor.Tensor, eps float32) {
	const op = "RMSNorm"
	o := f32(op, "out", out)
	xs := f32(op, "x", x)
	rs := f32(op, "rstd", rstd)
	host(op, "w", w)
	D, rows := x.Cols(), x.Rows()
	sameLen(op, "out", "x", out, x)
	if w.Len() != D || len(rs) != rows {
		panic(fmt.Sprintf("cpu: RMSNorm: x %v needs w [%d] and rstd [%d], has w %v and rstd %v", x.Shape, D, rows, w.Shape, rstd.Shape))
	}
	wb := getF32(D)
	wv := widenInto(*wb, w, D)
	if runsInline(rows, rows*D) {
		rmsNormRows(o, rs, xs, wv, D, eps, 0, rows)
	} else {
		parallelRange(&rmsNormOps, rows, rows*D, rmsNormArgs{o: o, rs: rs, xs: xs, wv: wv, D: D, eps: eps}, func(a *rmsNormArgs, r0, r1 int) {
			rmsNormRows(a.o, a.rs, a.xs, a.wv, a.D, a.eps, r0, r1)
		})
	}
	putF32(wb)
}

// rmsNormArgs are the operands of RMSNorm and RMSNormBackward (dx in o, dout in ds, dw in dw, and acc
// the backward's float64 column sums).
type rmsNormArgs struct {
	o, rs, xs, wv, ds, dw []float32
	acc                   []float64
	D                     int
	eps                   float32
}

var rmsNormOps opPool[rmsNormArgs]

func rmsNormRows(o, rs, xs, wv []float32, D int, eps float32, r0, r1 int) {
	for r := r0; r < r1; r++ {
		xr := xs[r*D : (r+1)*D]
		or := o[r*D : (r+1)*D]
		or, w := or[:len(xr)], wv[:len(xr)] // no bounds checks in the loop
		s := rstdOf(xr, eps)
		rs[r] = s
		for j, v := range xr {
			or[j] = w[j] * float32(v*s)
		}
	}
}

// rstdOf is 1/sqrt(mean(x²) + eps) with torch's float32 roundings (see RMSNorm).
func rstdOf(x []float32, eps float32) float32 {
	variance := float32(sumSq(x) / float64(len(x)))
	t := variance + eps
	return 1 / float32(math.Sqrt(float64(t))) // sqrt of a float32, rounded to float32, is the float32 sqrt
}

// RMSNormBackward: with n = x·rstd (as float32) and out = w·n, for each row
//
//	g  = dout·w
//	dx = rstd·g − x·rstd³·(Σ g·x)/D
//	dw += Σ_rows dout·n          (only when dw is not nil; frozen norms pass nil)
//
// dx is written and may be dout itself (dw is summed first, before dout is overwritten). The row
// sums Σ g·x are accumulated in float64. dw's column sums run over the rows in order, so the result
// does not depend on the number of threads.
func (*Backend) RMSNormBackward(dx, dw, dout, x, w, rstd *tensor.Tensor) {
	const op = "RMSNormBackward"
	dxs := f32(op, "dx", dx)
	ds := f32(op, "dout", dout)
	xs := f32(op, "x", x)
	rs := f32(op, "rstd", rstd)
	host(op, "w", w)
	D, rows := x.Cols(), x.Rows()
	sameLen(op, "dx", "x", dx, x)
	sameLen(op, "dout", "x", dout, x)
	if w.Len() != D || len(rs) != rows {
		panic(fmt.Sprintf("cpu: RMSNormBackward: x %v needs w [%d] and rstd [%d], has w %v and rstd %v", x.Shape, D, rows, w.Shape, rstd.Shape))
	}
	if dw != nil {
		dws := f32(op, "dw", dw)
		if len(dws) != D {
			panic(fmt.Sprintf("cpu: RMSNormBackward: dw %v for rows of %d", dw.Shape, D))
		}
		// Column chunks of 64 (whole cache lines), each summed over all rows in order; float64 partial
		// sums in a pooled buffer.
		accb := getF64(D)
		acc := *accb
		clear(acc)
		const cw = 64
		args := rmsNormArgs{rs: rs, xs: xs, ds: ds, dw: dws, acc: acc, D: D}
		parallelRange(&rmsNormOps, (D+cw-1)/cw, rows*D, args, func(b *rmsNormArgs, c0, c1 int) {
			rs, xs, ds, dws, acc, D := b.rs, b.xs, b.ds, b.dw, b.acc, b.D
			rows := len(rs)
			j0, j1 := c0*cw, min(c1*cw, D)
			a := acc[j0:j1]
			for r := 0; r < rows; r++ {
				s := rs[r]
				xr := xs[r*D+j0 : r*D+j1]
				dr := ds[r*D+j0 : r*D+j1]
				dr, a := dr[:len(xr)], a[:len(xr)]
				for j, v := range xr {
					a[j] += float64(dr[j] * float32(v*s))
				}
			}
			for j, v := range a {
				dws[j0+j] += float32(v)
			}
		})
		putF64(accb)
	}
	wb := getF32(D)
	wv := widenInto(*wb, w, D)
	args := rmsNormArgs{o: dxs, rs: rs, xs: xs, wv: wv, ds: ds, D: D}
	parallelRange(&rmsNormOps, rows, 2*rows*D, args, func(a *rmsNormArgs, r0, r1 int) {
		dxs, rs, xs, wv, ds, D := a.o, a.rs, a.xs, a.wv, a.ds, a.D
		invD := 1 / float64(D)
		for r := r0; r < r1; r++ {
			xr := xs[r*D : (r+1)*D]
			dr := ds[r*D : (r+1)*D]
			var s0, s1, s2, s3 float64
			j := 0
			for ; j+4 <= D; j += 4 {
				x, d, w := xr[j:j+4:j+4], dr[j:j+4:j+4], wv[j:j+4:j+4]
				s0 += float64(d[0]*w[0]) * float64(x[0])
				s1 += float64(d[1]*w[1]) * float64(x[1])
				s2 += float64(d[2]*w[2]) * float64(x[2])
				s3 += float64(d[3]*w[3]) * float64(x[3])
			}
			for ; j < D; j++ {
				s0 += float64(dr[j]*wv[j]) * float64(xr[j])
			}
			s := rs[r]
			c := float32(float64(s) * float64(s) * float64(s) * ((s0 + s1) + (s2 + s3)) * invD)
			dxr := dxs[r*D : (r+1)*D]
			dxr, dr, w := dxr[:len(xr)], dr[:len(xr)], wv[:len(xr)]
			for j, v := range xr {
				dxr[j] = s*(dr[j]*w[j]) - v*c
			}
		}
	})
	putF32(wb)
}
