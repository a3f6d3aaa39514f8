package llama

import "seal/models/tensor"

// DefaultLossChunk is how many positions the lm_head and the cross-entropy see at once
// in Loss. With a 128k vocabulary the logits of a whole 4x128 batch are 263 MB (and as
// much again for their gradient); 64 rows at a time keep that at 33 MB each. At the 1B
// shape, 64 and 128 rows measured the same speed (the product still streams the lm_head
// once per chunk) and 64 kept the peak 0.07 GB lower.
const DefaultLossChunk = 64

// lossChunk is the number of rows per lm_head + cross-entropy chunk.
func (m *Model) lossChunk() int {
	if m.LossChunk > 0 {
		return m.LossChunk
	}
	return DefaultLossChunk
}

// headLoss computes the summed cross-entropy of the final hidden state xnf [N, hidden]
// against targets, chunk by chunk of rows: a chunk's logits, its loss and (with dxnf)
// its dlogits are made in two chunk-sized buffers and discarded, and dxnf's rows get
// dlogits·W_lm. In full training the lm_head's (or the tied embedding's) gradient
// gathers dlogitsᵀ·xnf over the chunks. scale multiplies dlogits (gradScale/count).
func (m *Model) headLoss(p *pass, xnf *tensor.Tensor, targets []int32, scale float32, dxnf *tensor.Tensor) float64 {
	be, N, V := m.Backend, xnf.Rows(), m.Config.VocabSize
	rows := min(m.lossChunk(), N)
	logits := p.tensor(rows, V)
	var dlogits *tensor.Tensor
	if dxnf != nil {
		dlogits = p.tensor(rows, V)
	}
	var dW *tensor.Tensor
	if g := m.full; g != nil && dxnf != nil {
		dW = g.embed // tied: lm_head is the embedding
		if g.lmHead != nil {
			dW = g.lmHead
		}
	}
	var sum float64
	for r0 := 0; r0 < N; r0 += rows {
		n := min(rows, N-r0)
		x, lg := p.rows(xnf, r0, n), p.rows(logits, 0, n)
		m.frozenMatMul(lg, x, m.LMHead, true)
		var dl *tensor.Tensor
		if dlogits != nil {
			dl = p.rows(dlogits, 0, n)
		}
		s, _ := be.CrossEntropy(dl, lg, targets[r0:r0+n], scale)
		sum += s
		if dxnf == nil {
			continue
		}
		m.frozenMatMul(p.rows(dxnf, r0, n), dl, m.LMHead, false)
		if dW != nil {
			be.MatMul(dW, dl, x, true, false, 1, 1)
		}
	}
	return sum
}
