package cpu

import (
	"testing"

	"seal/models/tensor"
)

// TestSumSquaresThreads: SumSquares gives the same exact sum on one thread as on the pool.
func TestSumSquaresThreads(t *testing.T) {
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
}

func TestAddPanics(t *testing.T) {
	mustPanic(t, "differ in size", func() { be.Add(tensor.New(3), tensor.New(4), 1) })
	mustPanic(t, "must be F32", func() { be.Add(tensor.FromBF16(make([]uint16, 3), 3), tensor.New(3), 1) })
}
