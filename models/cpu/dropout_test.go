package cpu

import (
	"math"
	"testing"

	"seal/models/tensor"
)

func TestDropout(t *testing.T) {
	be := New()
	n := 100_000
	x := tensor.New(n)
	for i := range x.F32 {
		x.F32[i] = float32(i%7) + 1
	}
	out := tensor.New(n)
	be.Dropout(out, x, 0.25, 99)
	kept := 0
	for i, v := range out.F32 {
		switch v {
		case 0:
		case x.F32[i] * (1 / float32(0.75)):
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
	again, other := tensor.New(n), tensor.New(n)
	be.Dropout(again, x, 0.25, 99)
	be.Dropout(other, x, 0.25, 100)
	same := 0
	for i := range out.F32 {
		if again.F32[i] != out.F32[i] {
			t.Fatal("same seed, different mask")
		}
		if (other.F32[i] == 0) == (out.F32[i] == 0) {
			same++
		}
	}
	if same > n*7/10 {
		t.Errorf("seeds 99 and 100 agree on %d of %d elements: masks are not independent", same, n)
	}
	be.Dropout(out, x, 0, 1)
	if out.F32[5] != x.F32[5] {
		t.Error("p = 0 must copy")
	}
}
