package cpu

import (
	"seal/models/tensor"
)

// Add: a += alpha·b, element by element (a F32; b F32, or BF16 widened exactly). With alpha 1 it is
// the plain float32 sum (residual connections, gradient sums), as torch's a.add_(b).
func (*Backend) Add(a, b *tensor.Tensor, alpha float32) {
	const op = "Add"
	as := f32(op, "a", a)
	host(op, "b", b)
	sameLen(op, "a", "b", a, b)
	if runsInline(len(as), 2*len(as)) {
		addRange(as, b, alpha, 0, len(as))
		return
	}
	parallelRange(&addOps, len(as), 2*len(as), addArgs{as, b, alpha}, func(a *addArgs, i0, i1 int) {
		addRange(a.a, a.b, a.alpha, i0, i1)
	})
}

type addArgs struct {
	a     []float32
	b     *tensor.Tensor
	alpha float32
}

var addOps opPool[addArgs]

func addRange(as []float32, b *tensor.Tensor, alpha float32, i0, i1 int) {
	dst := as[i0:i1]
	if b.DType == tensor.BF16 {
		src := b.BF16[i0:i1]
		src = src[:len(dst)]
		for i, h := range src {
			dst[i] += alpha * widenBF16(h)
		}
		return
	}
	src := b.F32[i0:i1]
	src = src[:len(dst)]
	k := addF32Fast(dst, src, alpha)
	dst, src = dst[k:], src[k:]
	if alpha == 1 {
		for i, v := range src {
			dst[i] += v
		}
		return
	}
	for i, v := range src {
		dst[i] += alpha * v
	}
}

// Scale: a *= s.
func (*Backend) Scale(a *tensor.Tensor, s float32) {
	as := f32("Scale", "a", a)
	if runsInline(len(as), len(as)) {
		scaleF32(as, s)
		return
	}
	parallelRange(&scaleOps, len(as), len(as), scaleArgs{as, s}, func(a *scaleArgs, i0, i1 int) { scaleF32(a.a[i0:i1], a.s) })
}

type scaleArgs struct {
	a []float32
	s float32
}

var scaleOps opPool[scaleArgs]

// sumSqChunk is the fixed chunk of SumSquares: the partial sums, and so the result, do not depend on the
// number of threads.
const sumSqChunk = 1 << 14

// SumSquares is Σ a² with every square and sum in float64 (gradient-norm clipping).
func (*Backend) SumSquares(a *tensor.Tensor) float64 {
	as := f32("SumSquares", "a", a)
	chunks := (len(as) + sumSqChunk - 1) / sumSqChunk
	if chunks <= 1 {
		return sumSq(as)
	}
	pb := getF64(chunks)
	part := *pb
	parallelRange(&sumSqOps, chunks, len(as), sumSqArgs{as, part}, func(a *sumSqArgs, c0, c1 int) {
		for c := c0; c < c1; c++ {
			a.part[c] = sumSq(a.a[c*sumSqChunk : min((c+1)*sumSqChunk, len(a.a))])
		}
	})
	var s float64
	for _, v := range part {
		s += v
	}
	putF64(pb)
	return s
}

type sumSqArgs struct {
	a    []float32
	part []float64
}

var sumSqOps opPool[sumSqArgs]

func sumSq(x []float32) float64 {
	j, v := sumSqFast(x)
	s0, s1, s2, s3 := v, 0.0, 0.0, 0.0
	for ; j+4 <= len(x); j += 4 {
		r := x[j : j+4 : j+4]
		a, b, c, d := float64(r[0]), float64(r[1]), float64(r[2]), float64(r[3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for ; j < len(x); j++ {
		a := float64(x[j])
		s0 += a * a
	}
	return (s0 + s1) + (s2 + s3)
}
