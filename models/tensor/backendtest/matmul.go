package backendtest

import (
	"fmt"
	"math"
	"testing"

	"seal/models/tensor"
)

// refMatMul is alpha·op(a)·op(b) + beta·c0 in float64; a is stored m×k (k×m when
// transA), b k×n (n×k when transB).
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

func testMatMul(t *testing.T, be tensor.Backend) {
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
					b, b64 := weightTensor(be, randF32(r, k*n, 1), bf16, stored(k, n, transB)...)
					c0 := randF32(r, m*n, 1)
					a := up(be, as, stored(m, k, transA)...)
					a64, c064 := f64s(as), f64s(c0)
					want := refMatMul(a64, b64, c064, m, n, k, transA, transB, alpha, beta)
					c := up(be, c0, m, n)
					be.MatMul(c, a, b, transA, transB, alpha, beta)
					closeTo(t, name+" forward", down(be, c), want, 1e-6, 1e-6)

					// Gradients of Σ R·c through the identities in MatMul's doc, with beta 1 (adding).
					R := randF32(r, m*n, 1)
					R64 := f64s(R)
					dc := up(be, R, m, n)
					loss := func() float64 { return dot64(R64, refMatMul(a64, b64, c064, m, n, k, transA, transB, alpha, beta)) }
					d0 := randF32(r, m*k, 1)
					da := up(be, d0, stored(m, k, transA)...)
					var got []float32
					switch {
					case !transA:
						be.MatMul(da, dc, b, false, !transB, alpha, 1)
						got = sub32(down(be, da), d0)
					case !bf16:
						be.MatMul(da, b, dc, transB, true, alpha, 1)
						got = sub32(down(be, da), d0)
					default:
						// A bf16 b cannot be the first operand: compute da's transpose.
						tmp := zeros(be, m, k)
						be.MatMul(tmp, dc, b, false, !transB, alpha, 0)
						tv := down(be, tmp)
						got = make([]float32, m*k)
						for i := 0; i < m; i++ {
							for p := 0; p < k; p++ {
								got[p*m+i] = tv[i*k+p]
							}
						}
					}
					checkGrad(t, name+" da", got, fdGrad(a64, loss))
					if bf16 {
						continue // frozen weights: no gradient
					}
					db := zeros(be, stored(k, n, transB)...)
					if !transB {
						be.MatMul(db, a, dc, !transA, false, alpha, 0)
					} else {
						be.MatMul(db, dc, a, true, transA, alpha, 0)
					}
					checkGrad(t, name+" db", down(be, db), fdGrad(b64, loss))
				}
			}
		}
	}
}

// testMatMulViews: a [B, T, D] activation is the (B·T)×D matrix.
func testMatMulViews(t *testing.T, be tensor.Backend) {
	r := newRNG(101)
	x := randF32(r, 2*3*4, 1)
	w := up(be, randF32(r, 5*4, 1), 5, 4)
	c3 := zeros(be, 2, 3, 5)
	be.MatMul(c3, up(be, x, 2, 3, 4), w, false, true, 1, 0)
	c2 := zeros(be, 6, 5)
	be.MatMul(c2, up(be, x, 6, 4), w, false, true, 1, 0)
	if !equalBits(down(be, c2), down(be, c3)) {
		t.Fatalf("[2,3,4]·Wᵀ and [6,4]·Wᵀ differ: %v vs %v", down(be, c3), down(be, c2))
	}
}

// testMatMulBF16: the product of a bf16 model. The reference takes a rounded to bf16 (nearest even, as
// torch rounds) and b's bf16 values exactly, in float64; the products of two bf16 values are exact in
// float32, so the backend's only error is its float32 sums and the tolerance is MatMul's own. A backend
// that did not round a would be off by about 2^-9 of each term, hundreds of times more. The shapes
// have odd sizes, and rows both few and many (a backend may switch kernels on the row count: the CPU's
// VDPBF16PS kernel takes 24 rows up).
//
// Its backward is the same op: for c = alpha·bf16(a)·op(b), da = alpha·bf16(dc)·op(b)ᵀ is
// MatMulBF16(da, dc, b, !transB, alpha, beta). It is checked against central differences of the
// smooth float64 function Σ R·(alpha·a·op(b)) that the bf16 product approximates, with a tolerance for
// dc's rounding to bf16 (2^-9 relative per term): 4e-3 of the gradient's scale.
func testMatMulBF16(t *testing.T, be tensor.Backend) {
	r := newRNG(102)
	shapes := []struct{ m, n, k int }{{1, 1, 1}, {1, 7, 5}, {3, 5, 7}, {17, 3, 1}, {7, 17, 33}, {49, 37, 67}, {61, 70, 34}}
	for _, sh := range shapes {
		for _, transB := range []bool{false, true} {
			for _, ab := range []struct{ alpha, beta float32 }{{1, 0}, {0.7, 0.5}} {
				m, n, k := sh.m, sh.n, sh.k
				name := fmt.Sprintf("m%d n%d k%d transB=%v alpha=%g beta=%g", m, n, k, transB, ab.alpha, ab.beta)
				as := randF32(r, m*k, 1)
				b, b64 := weightTensor(be, randF32(r, k*n, 1), true, stored(k, n, transB)...)
				c0 := randF32(r, m*n, 1)
				a64 := make([]float64, len(as))
				for i, v := range as {
					a64[i] = float64(math.Float32frombits(uint32(roundBF16(v)) << 16))
				}
				want := refMatMul(a64, b64, f64s(c0), m, n, k, false, transB, float64(ab.alpha), float64(ab.beta))
				c := up(be, c0, m, n)
				be.MatMulBF16(c, up(be, as, m, k), b, transB, ab.alpha, ab.beta)
				closeTo(t, name+" forward", down(be, c), want, 1e-6, 1e-6)

				if m*n*k > 5000 {
					continue // the finite differences cost m·k products: the small shapes check the layout
				}
				R := randF32(r, m*n, 1)
				x64 := f64s(as)
				loss := func() float64 {
					return dot64(f64s(R), refMatMul(x64, b64, make([]float64, m*n), m, n, k, false, transB, float64(ab.alpha), 0))
				}
				da := zeros(be, m, k)
				be.MatMulBF16(da, up(be, R, m, n), b, !transB, ab.alpha, 0)
				closeTo(t, name+" da", down(be, da), fdGrad(x64, loss), 4e-3, 4e-3)
			}
		}
	}
}
