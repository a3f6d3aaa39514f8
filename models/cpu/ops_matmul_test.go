package cpu

import (
	"fmt"
	"testing"

	"seal/models/tensor"
)

// refMatMul is alpha·op(a)·op(b) + beta·c0 in float64; a is stored m×k (k×m when transA), b k×n (n×k
// when transB).
func refMatMul(a, b, c0 []float64, m, n, k int, transA, transB bool, alpha, beta float64) []float64 {
	c := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				av, bv := a[i*k+p], b[p*n+j]
				if transA {
					av = a[p*m+i]
				}
				if transB {
					bv = b[j*k+p]
				}
				s += av * bv
			}
			c[i*n+j] = alpha*s + beta*c0[i*n+j]
		}
	}
	return c
}

// stored returns the stored shape of an operand that is rows×cols after op().
func stored(rows, cols int, trans bool) []int {
	if trans {
		return []int{cols, rows}
	}
	return []int{rows, cols}
}

func TestMatMul(t *testing.T) {
	r := newRNG(100)
	shapes := []struct{ m, n, k int }{{1, 1, 1}, {1, 7, 5}, {3, 5, 7}, {5, 1, 3}, {17, 3, 1}, {7, 17, 33}, {2, 40, 16}}
	for _, sh := range shapes {
		for _, transA := range []bool{false, true} {
			for _, transB := range []bool{false, true} {
				for _, bf16 := range []bool{false, true} {
					m, n, k := sh.m, sh.n, sh.k
					name := fmt.Sprintf("m%d n%d k%d transA=%v transB=%v bf16=%v", m, n, k, transA, transB, bf16)
					const alpha, beta = 0.7, 0.5
					as := randF32(r, m*k, 1)
					b, b64 := weightTensor(randF32(r, k*n, 1), bf16, stored(k, n, transB)...)
					c0 := randF32(r, m*n, 1)
					a := tensor.FromF32(as, stored(m, k, transA)...)
					a64, c064 := f64s(as), f64s(c0)
					want := refMatMul(a64, b64, c064, m, n, k, transA, transB, alpha, beta)
					c := tensor.FromF32(append([]float32(nil), c0...), m, n)
					be.MatMul(c, a, b, transA, transB, alpha, beta)
					closeTo(t, name+" forward", c.F32, want, 1e-6, 1e-6)

					// Gradients of Σ R·c through the identities in MatMul's doc, with beta 1 (adding).
					R := randF32(r, m*n, 1)
					R64 := f64s(R)
					dc := tensor.FromF32(R, m, n)
					loss := func() float64 { return dot64(R64, refMatMul(a64, b64, c064, m, n, k, transA, transB, alpha, beta)) }
					da := tensor.New(stored(m, k, transA)...)
					d0 := randF32(r, m*k, 1)
					copy(da.F32, d0)
					switch {
					case !transA:
						be.MatMul(da, dc, b, false, !transB, alpha, 1)
					case !bf16:
						be.MatMul(da, b, dc, transB, true, alpha, 1)
					default:
						// A bf16 b cannot be the first operand: compute da's transpose, then transpose.
						tmp := tensor.New(m, k)
						be.MatMul(tmp, dc, b, false, !transB, alpha, 0)
						for i := 0; i < m; i++ {
							for p := 0; p < k; p++ {
								da.F32[p*m+i] += tmp.F32[i*k+p]
							}
						}
					}
					for i := range d0 {
						da.F32[i] -= d0[i]
					}
					checkGrad(t, name+" da", da.F32, fdGrad(a64, loss))
					if bf16 {
						continue // frozen weights: no gradient
					}
					db := tensor.New(stored(k, n, transB)...)
					if !transB {
						be.MatMul(db, a, dc, !transA, false, alpha, 0)
					} else {
						be.MatMul(db, dc, a, true, transA, alpha, 0)
					}
					checkGrad(t, name+" db", db.F32, fdGrad(b64, loss))
				}
			}
		}
	}
}

// TestMatMulViews: a [B, T, D] activation is the (B·T)×D matrix.
func TestMatMulViews(t *testing.T) {
	r := newRNG(101)
	x := randF32(r, 2*3*4, 1)
	w := randF32(r, 5*4, 1)
	c3 := tensor.New(2, 3, 5)
	be.MatMul(c3, tensor.FromF32(x, 2, 3, 4), tensor.FromF32(w, 5, 4), false, true, 1, 0)
	c2 := tensor.New(6, 5)
	be.MatMul(c2, tensor.FromF32(x, 6, 4), tensor.FromF32(w, 5, 4), false, true, 1, 0)
	for i := range c2.F32 {
		if c2.F32[i] != c3.F32[i] {
			t.Fatalf("element %d: %v vs %v", i, c3.F32[i], c2.F32[i])
		}
	}
}

func TestMatMulPanics(t *testing.T) {
	mustPanic(t, "op(a) is 3×4 and op(b) is 5×2", func() {
		be.MatMul(tensor.New(3, 2), tensor.New(3, 4), tensor.New(5, 2), false, false, 1, 0)
	})
	mustPanic(t, "c must be 3×2", func() {
		be.MatMul(tensor.New(3, 3), tensor.New(4, 3), tensor.New(2, 4), true, true, 1, 0)
	})
	mustPanic(t, "a must be F32", func() {
		be.MatMul(tensor.New(1, 1), tensor.FromBF16([]uint16{0}, 1, 1), tensor.New(1, 1), false, false, 1, 0)
	})
}
