package backendtest

import (
	"math"
	"testing"

	"seal/models/tensor"
)

// testDropout: the mask is tensor.DropoutKeep's, so every backend drops the same
// elements for a seed, and kept elements are scaled by 1/(1−p).
func testDropout(t *testing.T, be tensor.Backend) {
	n := 100_000
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = float32(i%7) + 1
	}
	x := up(be, xs, n)
	ot := zeros(be, n)
	be.Dropout(ot, x, 0.25, 99)
	out := down(be, ot)
	kept := 0
	for i, v := range out {
		switch v {
		case 0:
		case xs[i] * (1 / float32(0.75)):
			kept++
		default:
			t.Fatalf("element %d: %g is neither 0 nor x·1/(1-p)", i, v)
		}
		if (v != 0) != tensor.DropoutKeep(99, i, 0.25) {
			t.Fatalf("element %d does not follow DropoutKeep", i)
		}
	}
	if frac := float64(kept) / float64(n); math.Abs(frac-0.75) > 0.01 {
		t.Errorf("kept %.3f of elements, want 0.75", frac)
	}
	// The same seed gives the same mask (the backward pass); another seed another mask.
	at, bt := zeros(be, n), zeros(be, n)
	be.Dropout(at, x, 0.25, 99)
	be.Dropout(bt, x, 0.25, 100)
	again, other := down(be, at), down(be, bt)
	same := 0
	for i := range out {
		if again[i] != out[i] {
			t.Fatal("same seed, different mask")
		}
		if (other[i] == 0) == (out[i] == 0) {
			same++
		}
	}
	if same > n*7/10 {
		t.Errorf("seeds 99 and 100 agree on %d of %d elements: masks are not independent", same, n)
	}
	// In place, and p = 0 copies.
	be.Dropout(x, x, 0.25, 99)
	if !equalBits(down(be, x), out) {
		t.Error("in place (out = x) differs")
	}
	be.Dropout(ot, up(be, xs, n), 0, 1)
	if !equalBits(down(be, ot), xs) {
		t.Error("p = 0 must copy")
	}
}
