package tensor

// AttnShape describes a batch for causal attention with grouped-query heads.
//
// q is [B*Tq, H*HD]; k and v are [B*Tk, KV*HD], where Tk is the row capacity per
// sequence (the KV cache length, or T when training). Query i of sequence b sits at
// position Past[b]+i and attends to keys 0..Past[b]+i of its own sequence. Past nil
// means all zeros (training, prefill of fresh sequences).
type AttnShape struct {
	B, Tq, Tk int
	H, KV, HD int
	Past      []int
	Scale     float32 // usually 1/sqrt(HD)
}

// AdamW holds one optimizer step's hyperparameters; Step counts from 1 and drives the
// bias correction as in torch.optim.AdamW.
type AdamW struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
	Step                               int
}

// BatchSplitter is implemented by a backend on which a small model's training step runs faster as
// two halves of its batch computed side by side than as one batch whose every op is shared out
// among the threads (the CPU: models/llama/split.go). A backend that computes one batch at a time
// best, a GPU, does not implement it.
type BatchSplitter interface {
	SplitsBatches() bool
	// Splitting is called with +1 as a half starts and -1 as it ends, so that the backend can
	// share its threads among the halves running.
	Splitting(delta int)
}

// Backend runs every op the network needs. Forward and backward of an op sit side by
// side. Outputs are written, not accumulated, unless the doc says "adds".
// Shapes are the caller's responsibility: a mismatch is a programming error and panics.
type Backend interface {
	Name() string

	// Memory. A tensor lives in the memory of the backend that allocated it (its Mem);
	// the host reaches its numbers only through Upload and Download, at points the
	// caller names. A host tensor is one made by New, FromF32 or FromBF16. Views
	// (Tensor.Sub, View, RowRange) are the same memory at an offset and need no call.

	// Alloc returns a zeroed tensor of dtype dt in the backend's memory.
	Alloc(dt DType, shape ...int) *Tensor
	// UploadShared returns a tensor in the backend's memory holding host tensor src's
	// numbers (weights, bound once at load). A backend whose memory is the host's uses
	// src's memory itself, with no copy (a memory-mapped checkpoint stays mapped; an
	// update through the result shows in src); a device copies it. Either way src must
	// stay alive while the result is used, and a caller that reads src after updating
	// the result Downloads into it first.
	UploadShared(src *Tensor) *Tensor
	// Free gives t's memory back now; t must not be used after.
	Free(t *Tensor)
	// Upload copies the host tensor src into dst; Download copies src into the host
	// tensor dst. Both need the same dtype and number of elements on each side.
	Upload(dst, src *Tensor)
	Download(dst, src *Tensor)
	// CopyRows copies n rows of src, from row srcRow, into dst from row dstRow; both are
	// viewed as matrices with the same number of columns and dtype (KV-cache appends,
	// row gathers). The ranges must not overlap unless they are the same.
	CopyRows(dst *Tensor, dstRow int, src *Tensor, srcRow, n int)

	// MatMul: c = alpha·op(a)·op(b) + beta·c for 2-D tensors; b may be BF16 (weights).
	MatMul(c, a, b *Tensor, transA, transB bool, alpha, beta float32)
	// MatMulBF16 is MatMul (a not transposed) for a BF16 b computed as a bf16 model computes: a is
	// rounded to bf16 (nearest, ties to even), the products of bf16 values are exact and summed in
	// float32, c stays float32. Its results differ from MatMul's by a's rounding, so it is opt-in: the
	// training of a model whose weights are bf16 uses it, as torch trains a bf16 model; everything that
	// expects float32 math (f32 weights, inference, the golden parity checks) uses MatMul.
	MatMulBF16(c, a, b *Tensor, transB bool, alpha, beta float32)

	// Embedding gathers rows of table (F32 or BF16) for ids into out [len(ids), D].
	Embedding(out, table *Tensor, ids []int32)
	// EmbeddingBackward adds dout's rows into dtable rows at ids.
	EmbeddingBackward(dtable, dout *Tensor, ids []int32)

	// RMSNorm: out = x / rms(x) * w per row; rstd [rows] keeps 1/rms for the backward.
	RMSNorm(out, rstd, x, w *Tensor, eps float32)
	// RMSNormBackward writes dx and, when dw is not nil, adds into dw.
	RMSNormBackward(dx, dw, dout, x, w, rstd *Tensor)

	// RoPE rotates x [rows, heads*hd] in place, the rotate-half (GPT-NeoX/HF Llama)
	// layout: row r uses position pos[r] and tables cos, sin [maxPos, hd/2].
	RoPE(x *Tensor, heads int, pos []int32, cos, sin *Tensor)
	// RoPEBackward applies the inverse rotation to dx in place.
	RoPEBackward(dx *Tensor, heads int, pos []int32, cos, sin *Tensor)

	// Attention: causal softmax(q·kᵀ·scale)·v with GQA; lse [B*Tq*H] (may be nil when
	// no backward follows) keeps each row's log-sum-exp so the backward can recompute
	// the probabilities instead of storing them.
	Attention(out, lse, q, k, v *Tensor, s AttnShape)
	// AttentionBackward writes dq, dk, dv (Past must be nil: training only).
	AttentionBackward(dq, dk, dv, dout, out, lse, q, k, v *Tensor, s AttnShape)

	// SwiGLU: out = silu(gate) * up.
	SwiGLU(out, gate, up *Tensor)
	SwiGLUBackward(dgate, dup, dout, gate, up *Tensor)

	// AddBias adds bias [cols] to every row of x; BiasBackward adds the column sums of dy into db.
	AddBias(x, bias *Tensor)
	BiasBackward(db, dy *Tensor)

	// Zero sets every element of a to 0, whatever it held (a NaN too, unlike Scale by 0).
	Zero(a *Tensor)
	// Add: a += alpha·b (residuals, gradient sums). Scale: a *= s.
	Add(a, b *Tensor, alpha float32)
	Scale(a *Tensor, s float32)
	// Dropout writes out = x·keep/(1−p), keeping element i when DropoutKeep(seed, i, p).
	// The mask is a pure function of (seed, i), so the backward pass is the same call
	// on the gradient and no mask is stored; out may be x.
	Dropout(out, x *Tensor, p float32, seed uint64)
	// SumSquares is Σx² in float64, for gradient-norm clipping.
	SumSquares(a *Tensor) float64

	// CrossEntropy over logits [N, V] with labels (ignore < 0). Returns the summed loss
	// and the count of scored rows; when dlogits is not nil it is written with
	// (softmax − onehot)·gradScale for scored rows and zero for ignored ones.
	CrossEntropy(dlogits, logits *Tensor, labels []int32, gradScale float32) (sum float64, count int)

	// AdamWStep updates p with gradient g and moments m, v (all F32) in place.
	AdamWStep(p, g, m, v *Tensor, h AdamW)
}

// DropoutKeep is the dropout mask every backend uses: a counter-based hash of (seed, i)
// (splitmix64), so CPU and GPU drop the same elements for the same seed.
func DropoutKeep(seed uint64, i int, p float32) bool {
	x := seed ^ uint64(i)*0x9e3779b97f4a7c15
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/(1<<53) >= float64(p)
}
