package cpu

import (
	"fmt"

	"seal/models/tensor"
)

// MatMul: c = alpha·op(a)·op(b) + beta·c, op(x) = xᵀ when transX.
//
// Each tensor is read as the matrix of its Rows() × Cols() (all but the last dimension are rows, so a
// [B, T, D] activation is a (B·T) × D matrix). c is m×n; a is stored m×k, or k×m when transA; b is
// stored k×n, or n×k when transB. a and c are F32; b is F32 or BF16 (frozen weights, widened to
// float32 inside the kernel, see SgemmBF16). beta == 0 overwrites c without reading it. A product with
// a few output rows and transB (decoding a batch: Y = X·Wᵀ) reads b once for all rows (smallm.go).
//
// There is no MatMulBackward: the gradients are products of the same kind. For c = alpha·op(a)·op(b),
// with dc the gradient of c:
//
//	da = alpha·dc·op(b)ᵀ  (stored k×m when transA: alpha·op(b)·dcᵀ)
//	db = alpha·op(a)ᵀ·dc  (stored n×k when transB: alpha·dcᵀ·op(a))
//
// that is MatMul(da, dc, b, false, !transB, alpha, 1) or MatMul(da, b, dc, transB, true, alpha, 1), and
// MatMul(db, a, dc, !transA, false, alpha, 1) or MatMul(db, dc, a, true, transA, alpha, 1); beta 1 adds
// to the gradient already there (a BF16 b cannot be the first operand: for transA, compute daᵀ =
// alpha·dc·op(b)ᵀ with b second). The tests check all of them against finite differences.
func (*Backend) MatMul(c, a, b *tensor.Tensor, transA, transB bool, alpha, beta float32) {
	const op = "MatMul"
	cv, av := f32(op, "c", c), f32(op, "a", a)
	m, n, k := matMulShape(op, c, a, b, transA, transB)
	if b.DType == tensor.BF16 {
		SgemmBF16(transA, transB, m, n, k, alpha, av, a.Cols(), b.BF16[:b.Len()], b.Cols(), beta, cv, n)
		return
	}
	Sgemm(transA, transB, m, n, k, alpha, av, a.Cols(), b.F32[:b.Len()], b.Cols(), beta, cv, n)
}

// MatMulBF16: c = alpha·bf16(a)·op(b) + beta·c with b BF16, a rounded to bf16 (SgemmBF16Dot: the
// VDPBF16PS kernel where the CPU has AVX512_BF16). The gradients are the same products as MatMul's;
// the training of a bf16 model takes both dX = dY·W and Y = X·Wᵀ this way.
func (*Backend) MatMulBF16(c, a, b *tensor.Tensor, transB bool, alpha, beta float32) {
	const op = "MatMulBF16"
	cv, av := f32(op, "c", c), f32(op, "a", a)
	if host(op, "b", b).DType != tensor.BF16 {
		panic(fmt.Sprintf("cpu: %s: b must be BF16, is %v", op, b.DType))
	}
	m, n, k := matMulShape(op, c, a, b, false, transB)
	SgemmBF16Dot(transB, m, n, k, alpha, av, a.Cols(), b.BF16[:b.Len()], b.Cols(), beta, cv, n)
}

// matMulShape checks that c = op(a)·op(b) fits and returns its m, n, k.
func matMulShape(op string, c, a, b *tensor.Tensor, transA, transB bool) (m, n, k int) {
	host(op, "b", b)
	m, n = c.Rows(), c.Cols()
	ar, ac := a.Rows(), a.Cols()
	br, bc := b.Rows(), b.Cols()
	k = ac
	if transA {
		k = ar
		ar, ac = ac, ar
	}
	kb, nb := br, bc
	if transB {
		kb, nb = bc, br
	}
	if kb != k {
		panic(fmt.Sprintf("cpu: %s: op(a %v)·op(b %v) with transA=%v transB=%v: op(a) is %d×%d and op(b) is %d×%d",
			op, a.Shape, b.Shape, transA, transB, ar, ac, kb, nb))
	}
	if ar != m || nb != n {
		panic(fmt.Sprintf("cpu: %s: c %v = op(a %v)·op(b %v) with transA=%v transB=%v: c must be %d×%d",
			op, c.Shape, a.Shape, b.Shape, transA, transB, ar, nb))
	}
	return m, n, k
}
