package cpu

import (
	"math"
	"testing"

	"seal/models/tensor"
)

func TestAddScaleSumSquares(t *testing.T) {
	r := newRNG(42)
	for _, n := range []int{1, 3, 5, 17, 1000, 100003} {
		as, bs := randF32(r, n, 1), randF32(r, n, 1)
		for _, alpha := range []float32{1, -0.5} {
			a := tensor.FromF32(append([]float32(nil), as...), n)
			be.Add(a, tensor.FromF32(bs, n), alpha)
			for i := range as {
				if want := as[i] + alpha*bs[i]; a.F32[i] != want {
					t.Fatalf("Add n=%d alpha=%v: element %d = %v, want %v", n, alpha, i, a.F32[i], want)
				}
			}
		}
		// b in bf16
		bh := bf16Slice(bs)
		a := tensor.FromF32(append([]float32(nil), as...), n)
		be.Add(a, tensor.FromBF16(bh, n), 2)
		for i := range as {
			if want := as[i] + 2*math.Float32frombits(uint32(bh[i])<<16); a.F32[i] != want {
				t.Fatalf("Add bf16 n=%d: element %d = %v, want %v", n, i, a.F32[i], want)
			}
		}
		a = tensor.FromF32(append([]float32(nil), as...), n)
		be.Scale(a, 0.3)
		for i := range as {
			if a.F32[i] != as[i]*0.3 {
				t.Fatalf("Scale n=%d: element %d", n, i)
			}
		}
		var want float64
		for _, v := range as {
			want += float64(v) * float64(v)
		}
		got := be.SumSquares(tensor.FromF32(as, n))
		if math.Abs(got-want) > 1e-13*want {
			t.Errorf("SumSquares n=%d: %v, want %v", n, got, want)
		}
	}
	// SumSquares is exact on values whose squares and sums are exact in float64 and the same with any
	// number of threads.
	x := make([]float32, 1<<20+3)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	s := be.SumSquares(tensor.FromF32(x, len(x)))
	prev := Threads()
	SetThreads(1)
	s1 := be.SumSquares(tensor.FromF32(x, len(x)))
	SetThreads(prev)
	var w float64
	for _, v := range x {
		w += float64(v * v)
	}
	if s != w || s1 != w {
		t.Errorf("SumSquares: %v (1 thread %v), want %v", s, s1, w)
	}
	mustPanic(t, "differ in size", func() { be.Add(tensor.New(3), tensor.New(4), 1) })
	mustPanic(t, "must be F32", func() { be.Add(tensor.FromBF16(make([]uint16, 3), 3), tensor.New(3), 1) })

}
