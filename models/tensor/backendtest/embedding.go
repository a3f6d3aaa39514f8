package backendtest

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

func testEmbedding(t *testing.T, be tensor.Backend) {
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
			table, t64 := weightTensor(be, randF32(r, sh.V*sh.D, 1), bf16, sh.V, sh.D)
			out := zeros(be, sh.n, sh.D)
			be.Embedding(out, table, ids)
			closeTo(t, name+" forward", down(be, out), refEmbedding(t64, sh.D, ids), 0, 0) // exact

			// Gradient of Σ R·out with respect to the (float64) table, by finite differences.
			if bf16 || sh.V*sh.D > 2000 {
				continue
			}
			R := randF32(r, sh.n*sh.D, 1)
			R64 := f64s(R)
			want := fdGrad(t64, func() float64 { return dot64(R64, refEmbedding(t64, sh.D, ids)) })
			d0 := randF32(r, sh.V*sh.D, 1) // EmbeddingBackward adds
			dt := up(be, d0, sh.V, sh.D)
			be.EmbeddingBackward(dt, up(be, R, sh.n, sh.D), ids)
			checkGrad(t, name+" dtable", sub32(down(be, dt), d0), want)
		}
	}
}

// testEmbeddingBackwardLarge checks a call big enough for a backend to split against a
// plain sequential sum, bit for bit (each element is a sum in id order).
func testEmbeddingBackwardLarge(t *testing.T, be tensor.Backend) {
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
	dt := zeros(be, V, D)
	be.EmbeddingBackward(dt, up(be, dout, n, D), ids)
	got := down(be, dt)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("element %d: %v, want %v", i, got[i], want[i])
		}
	}
}
