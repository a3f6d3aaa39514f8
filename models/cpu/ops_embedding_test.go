package cpu

import (
	"fmt"
	"testing"

	"seal/models/tensor"
)

func refEmbedding(table []float64, D int, ids []int32) []float64 {
	out := make([]float64, len(ids)*D)
	for i, id := range ids {
		copy(out[i*D:(i+1)*D], table[int(id)*D:(int(id)+1)*D])
	}
	return out
}

func TestEmbedding(t *testing.T) {
	r := newRNG(5)
	for _, sh := range []struct{ V, D, n int }{{1, 1, 1}, {3, 5, 7}, {17, 3, 5}, {50, 64, 40}, {300, 130, 600}} {
		ids := make([]int32, sh.n)
		for i := range ids {
			ids[i] = int32(r.IntN(sh.V))
		}
		if sh.n > 2 {
			ids[1] = ids[0] // a repeated id
		}
		for _, bf16 := range []bool{false, true} {
			name := fmt.Sprintf("V%d D%d n%d bf16=%v", sh.V, sh.D, sh.n, bf16)
			table, t64 := weightTensor(randF32(r, sh.V*sh.D, 1), bf16, sh.V, sh.D)
			out := tensor.New(sh.n, sh.D)
			be.Embedding(out, table, ids)
			closeTo(t, name+" forward", out.F32, refEmbedding(t64, sh.D, ids), 0, 0) // exact

			// Gradient of Σ R·out with respect to the (float64) table, by finite differences.
			if bf16 || sh.V*sh.D > 2000 {
				continue
			}
			R := randF32(r, sh.n*sh.D, 1)
			R64 := f64s(R)
			want := fdGrad(t64, func() float64 { return dot64(R64, refEmbedding(t64, sh.D, ids)) })
			dt := tensor.New(sh.V, sh.D)
			d0 := randF32(r, sh.V*sh.D, 1) // EmbeddingBackward adds
			copy(dt.F32, d0)
			be.EmbeddingBackward(dt, tensor.FromF32(R, sh.n, sh.D), ids)
			for i := range d0 {
				dt.F32[i] -= d0[i]
			}
			checkGrad(t, name+" dtable", dt.F32, want)
		}
	}
}

// TestEmbeddingBackwardLarge checks the column-parallel path (a call big enough to be split) against
// a plain sequential sum.
func TestEmbeddingBackwardLarge(t *testing.T) {
	r := newRNG(6)
	const V, D, n = 100, 300, 512
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(r.IntN(V))
	}
	dout := randF32(r, n*D, 1)
	want := make([]float32, V*D)
	for i, id := range ids {
		for j := 0; j < D; j++ {
			want[int(id)*D+j] += dout[i*D+j]
		}
	}
	dt := tensor.New(V, D)
	be.EmbeddingBackward(dt, tensor.FromF32(dout, n, D), ids)
	for i := range want {
		if dt.F32[i] != want[i] {
			t.Fatalf("element %d: %v, want %v", i, dt.F32[i], want[i])
		}
	}
}

func TestEmbeddingPanics(t *testing.T) {
	table := tensor.New(4, 3)
	mustPanic(t, "outside the table", func() { be.Embedding(tensor.New(1, 3), table, []int32{4}) })
	mustPanic(t, "outside the table", func() { be.Embedding(tensor.New(1, 3), table, []int32{-1}) })
	mustPanic(t, "outside the table", func() { be.EmbeddingBackward(table, tensor.New(1, 3), []int32{7}) })
	mustPanic(t, "for 2 ids", func() { be.Embedding(tensor.New(1, 3), table, []int32{0, 1}) })
}
