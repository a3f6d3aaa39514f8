package stricttest

import "seal/models/tensor"

// The ops: each operand is resolved to its private numbers (or panics), then the CPU
// kernel runs on them.

func (b *Backend) MatMul(c, a, w *tensor.Tensor, transA, transB bool, alpha, beta float32) {
	const op = "MatMul"
	b.cpu.MatMul(b.dev(op, "c", c), b.dev(op, "a", a), b.dev(op, "b", w), transA, transB, alpha, beta)
}

func (b *Backend) MatMulBF16(c, a, w *tensor.Tensor, transB bool, alpha, beta float32) {
	const op = "MatMulBF16"
	b.cpu.MatMulBF16(b.dev(op, "c", c), b.dev(op, "a", a), b.dev(op, "b", w), transB, alpha, beta)
}

func (b *Backend) Embedding(out, table *tensor.Tensor, ids []int32) {
	const op = "Embedding"
	b.cpu.Embedding(b.dev(op, "out", out), b.dev(op, "table", table), ids)
}

func (b *Backend) EmbeddingBackward(dtable, dout *tensor.Tensor, ids []int32) {
	const op = "EmbeddingBackward"
	b.cpu.EmbeddingBackward(b.dev(op, "dtable", dtable), b.dev(op, "dout", dout), ids)
}

func (b *Backend) RMSNorm(out, rstd, x, w *tensor.Tensor, eps float32) {
	const op = "RMSNorm"
	b.cpu.RMSNorm(b.dev(op, "out", out), b.dev(op, "rstd", rstd), b.dev(op, "x", x), b.dev(op, "w", w), eps)
}

func (b *Backend) RMSNormBackward(dx, dw, dout, x, w, rstd *tensor.Tensor) {
	const op = "RMSNormBackward"
	b.cpu.RMSNormBackward(b.dev(op, "dx", dx), b.opt(op, "dw", dw), b.dev(op, "dout", dout), b.dev(op, "x", x),
		b.dev(op, "w", w), b.dev(op, "rstd", rstd))
}

func (b *Backend) RoPE(x *tensor.Tensor, heads int, pos []int32, cos, sin *tensor.Tensor) {
	const op = "RoPE"
	b.cpu.RoPE(b.dev(op, "x", x), heads, pos, b.dev(op, "cos", cos), b.dev(op, "sin", sin))
}

func (b *Backend) RoPEBackward(dx *tensor.Tensor, heads int, pos []int32, cos, sin *tensor.Tensor) {
	const op = "RoPEBackward"
	b.cpu.RoPEBackward(b.dev(op, "dx", dx), heads, pos, b.dev(op, "cos", cos), b.dev(op, "sin", sin))
}

func (b *Backend) Attention(out, lse, q, k, v *tensor.Tensor, s tensor.AttnShape) {
	const op = "Attention"
	b.cpu.Attention(b.dev(op, "out", out), b.opt(op, "lse", lse), b.dev(op, "q", q), b.dev(op, "k", k), b.dev(op, "v", v), s)
}

func (b *Backend) AttentionBackward(dq, dk, dv, dout, out, lse, q, k, v *tensor.Tensor, s tensor.AttnShape) {
	const op = "AttentionBackward"
	b.cpu.AttentionBackward(b.dev(op, "dq", dq), b.dev(op, "dk", dk), b.dev(op, "dv", dv), b.dev(op, "dout", dout),
		b.dev(op, "out", out), b.dev(op, "lse", lse), b.dev(op, "q", q), b.dev(op, "k", k), b.dev(op, "v", v), s)
}

func (b *Backend) SwiGLU(out, gate, up *tensor.Tensor) {
	const op = "SwiGLU"
	b.cpu.SwiGLU(b.dev(op, "out", out), b.dev(op, "gate", gate), b.dev(op, "up", up))
}

func (b *Backend) SwiGLUBackward(dgate, dup, dout, gate, up *tensor.Tensor) {
	const op = "SwiGLUBackward"
	b.cpu.SwiGLUBackward(b.dev(op, "dgate", dgate), b.dev(op, "dup", dup), b.dev(op, "dout", dout),
		b.dev(op, "gate", gate), b.dev(op, "up", up))
}

func (b *Backend) AddBias(x, bias *tensor.Tensor) {
	b.cpu.AddBias(b.dev("AddBias", "x", x), b.dev("AddBias", "bias", bias))
}

func (b *Backend) BiasBackward(db, dy *tensor.Tensor) {
	b.cpu.BiasBackward(b.dev("BiasBackward", "db", db), b.dev("BiasBackward", "dy", dy))
}

func (b *Backend) Add(a, x *tensor.Tensor, alpha float32) {
	b.cpu.Add(b.dev("Add", "a", a), b.dev("Add", "b", x), alpha)
}

func (b *Backend) Scale(a *tensor.Tensor, s float32) { b.cpu.Scale(b.dev("Scale", "a", a), s) }

func (b *Backend) Dropout(out, x *tensor.Tensor, p float32, seed uint64) {
	b.cpu.Dropout(b.dev("Dropout", "out", out), b.dev("Dropout", "x", x), p, seed)
}

func (b *Backend) SumSquares(a *tensor.Tensor) float64 {
	return b.cpu.SumSquares(b.dev("SumSquares", "a", a))
}

func (b *Backend) CrossEntropy(dlogits, logits *tensor.Tensor, labels []int32, gradScale float32) (float64, int) {
	const op = "CrossEntropy"
	return b.cpu.CrossEntropy(b.opt(op, "dlogits", dlogits), b.dev(op, "logits", logits), labels, gradScale)
}

func (b *Backend) AdamWStep(p, g, m, v *tensor.Tensor, h tensor.AdamW) {
	const op = "AdamWStep"
	b.cpu.AdamWStep(b.dev(op, "p", p), b.dev(op, "g", g), b.dev(op, "m", m), b.dev(op, "v", v), h)
}
