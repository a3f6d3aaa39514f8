package backendtest

import (
	"math"
	"testing"

	"seal/models/tensor"
)

func testAddScaleSumSquares(t *testing.T, be tensor.Backend) {
	r := newRNG(42)
	for _, n := range []int{1, 3, 5, 17, 1000, 100003} {
		as, bs := randF32(r, n, 1), randF32(r, n, 1)
		for _, alpha := range []float32{1, -0.5} {
			a := up(be, as, n)
			be.Add(a, up(be, bs, n), alpha)
			for i, got := range down(be, a) {
				if want := as[i] + alpha*bs[i]; got != want {
					t.Fatalf("Add n=%d alpha=%v: element %d = %v, want %v", n, alpha, i, got, want)
				}
			}
		}
		// b in bf16
		bh := bf16Slice(bs)
		a := up(be, as, n)
		be.Add(a, upBF16(be, bh, n), 2)
		for i, got := range down(be, a) {
			if want := as[i] + 2*math.Float32frombits(uint32(bh[i])<<16); got != want {
				t.Fatalf("Add bf16 n=%d: element %d = %v, want %v", n, i, got, want)
			}
		}
		a = up(be, as, n)
		be.Scale(a, 0.3)
		for i, got := range down(be, a) {
			if got != as[i]*0.3 {
				t.Fatalf("Scale n=%d: element %d", n, i)
			}
		}
		var want float64
		for _, v := range as {
			want += float64(v) * float64(v)
		}
		got := be.SumSquares(up(be, as, n))
		if math.Abs(got-want) > 1e-13*want {
			t.Errorf("SumSquares n=%d: %v, want %v", n, got, want)
		}
	}
	// SumSquares is exact on values whose squares and sums are exact in float64.
	x := make([]float32, 1<<20+3)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	s := be.SumSquares(up(be, x, len(x)))
	var w float64
	for _, v := range x {
		w += float64(v * v)
	}
	if s != w {
		t.Errorf("SumSquares: %v, want %v", s, w)
	}
}
