package cpu

import (
	"fmt"
	"math"
	"sync"

	"seal/models/tensor"
)

// attnBlock is how many query rows of one head are handled together: their scores against all the keys
// they may see are one Sgemm (a block of at most attnBlock × Tk floats of scratch), and the causal
// triangle is skipped block by block, so a block computes at most attnBlock−1 masked columns per row.
const attnBlock = 64

// Attention is causal scaled-dot-product attention with grouped-query heads, as transformers' Llama
// (eager or sdpa) computes it in float32:
//
//	S = scale · q_h · k_gᵀ        query head h reads kv head g = h / (H/KV)
//	P = softmax(S) row-wise over the visible keys, with the row maximum subtracted before exp
//	out_h = P · v_g               computed as (exp(S − max)·v_g) / Σ exp(S − max)
//
// Layout (tensor.AttnShape): q and out are [B·Tq, H·HD], k and v are [B·Tk, KV·HD]; the keys of
// sequence b are rows b·Tk … b·Tk+Tk−1. Query i of sequence b sits at position Past[b]+i and sees keys
// 0 … Past[b]+i (Past nil means zeros), so Past[b]+Tq <= Tk is required; keys past that are not read.
// The scale is applied inside the product (alpha of the Sgemm), the exponentials are expf (within 0.51
// float32 ulp), the row sums are float64.
//
// lse, when not nil, is [B·Tq·H] with lse[(b·Tq+i)·H+h] = log Σ_j exp(S_ij) = max_j S_ij + log Σ_j
// exp(S_ij − max): what the backward needs to recompute P without storing it.
//
// Work is split over the B·H (sequence, head) pairs; within one, the query rows go in blocks of
// attnBlock through Sgemm. Decoding (Tq = 1) goes by kv head instead, see attnDecode.
func (*Backend) Attention(out, lse, q, k, v *tensor.Tensor, s tensor.AttnShape) {
	const op = "Attention"
	if s.Tq == 1 {
		attnDecode(out, lse, q, k, v, s)
		return
	}
	var c attnCall
	checkAttnInto(&c.a, op, s, q, k, v)
	c.o = f32(op, "out", out)
	sameLen(op, "out", "q", out, q)
	if lse != nil {
		c.ls = f32(op, "lse", lse)
		if len(c.ls) != s.B*s.Tq*s.H {
			panic(fmt.Sprintf("cpu: Attention: lse %v, want [%d] (B·Tq·H)", lse.Shape, s.B*s.Tq*s.H))
		}
	}
	parallelTasks(&attnOps, s.B*s.H, c.a.threads(s.B*s.H), c, attnForwardTask)
}

// attnCall is one Attention or AttentionBackward call: its checked operands and outputs.
type attnCall struct {
	a                      attnArgs
	o, ls                  []float32 // the forward's out and lse (lse is the backward's input)
	dq, dk, dv, dout, outs []float32 // the backward's
}

var attnOps opPool[attnCall]

// attnForwardTask does Attention's task t: sequence t/H, query head t%H.
func attnForwardTask(c *attnCall, t, _ int) {
	a, o, ls := &c.a, c.o, c.ls
	s := a.s
	Tq, Tk, H, HD := s.Tq, s.Tk, s.H, s.HD
	ldq, ldk := H*HD, s.KV*HD
	rep := H / s.KV
	bq := min(attnBlock, Tq)
	b, h := t/H, t%H
	g := h / rep
	past := a.past(b)
	buf := getF32(bq*(past+Tq) + bq)
	inv := (*buf)[:bq]
	koff := b*Tk*ldk + g*HD
	for i0 := 0; i0 < Tq; i0 += bq {
		i1 := min(i0+bq, Tq)
		nq, kEnd := i1-i0, past+i1
		qoff := (b*Tq+i0)*ldq + h*HD
		S := (*buf)[bq : bq+nq*kEnd]
		Sgemm(false, true, nq, kEnd, HD, s.Scale, a.q[qoff:], ldq, a.k[koff:], ldk, 0, S, kEnd)
		for r := 0; r < nq; r++ {
			n := past + i0 + r + 1 // visible keys
			row := S[r*kEnd : r*kEnd+n]
			m := maxF32(row)
			sum := expShiftSum(row, m) // row = exp(S − m), not yet divided by the sum
			inv[r] = float32(1 / sum)
			clear(S[r*kEnd+n : (r+1)*kEnd])
			if ls != nil {
				ls[(b*Tq+i0+r)*H+h] = float32(float64(m) + math.Log(sum))
			}
		}
		// out = (exp(S − m)·v) / sum: the division moves to the HD outputs of a row instead of its
		// kEnd probabilities.
		Sgemm(false, false, nq, HD, kEnd, 1, S, kEnd, a.v[koff:], ldk, 0, o[qoff:], ldq)
		for r := 0; r < nq; r++ {
			scaleF32(o[qoff+r*ldq:qoff+r*ldq+HD], inv[r])
		}
	}
	putF32(buf)
}

// attnDecode is Attention for one query row per sequence (decoding), split over the B·KV (sequence,
// kv head) pairs: the H/KV query heads of a group are contiguous in q's row, so their scores are one
// [H/KV, Past+1] product and their outputs one [H/KV, HD] product, and each kv head's cache rows are
// read once for all of them. Its state is a pooled attnDecodeTask: a decode step allocates nothing.
func attnDecode(out, lse, q, k, v *tensor.Tensor, s tensor.AttnShape) {
	const op = "Attention"
	d := attnDecodes.Get().(*attnDecodeTask)
	checkAttnInto(&d.a, op, s, q, k, v)
	d.o = f32(op, "out", out)
	sameLen(op, "out", "q", out, q)
	if lse != nil {
		d.ls = f32(op, "lse", lse)
		if len(d.ls) != s.B*s.H {
			panic(fmt.Sprintf("cpu: Attention: lse %v, want [%d] (B·Tq·H)", lse.Shape, s.B*s.H))
		}
	}
	parallelDo(s.B*s.KV, d.a.threads(s.B*s.KV), d)
	*d = attnDecodeTask{}
	attnDecodes.Put(d)
}

type attnDecodeTask struct {
	a     attnArgs
	o, ls []float32
}

var attnDecodes = sync.Pool{New: func() any { return new(attnDecodeTask) }}

// task t is sequence t/KV, kv head t%KV.
func (d *attnDecodeTask) task(t int) {
	a, o, ls := &d.a, d.o, d.ls
	s := a.s
	H, KV, HD, Tk := s.H, s.KV, s.HD, s.Tk
	rep := H / KV
	ldq, ldk := H*HD, KV*HD
	b, g := t/KV, t%KV
	n := a.past(b) + 1 // visible keys
	buf := getF32(rep * (n + 1))
	inv := (*buf)[:rep]
	S := (*buf)[rep : rep+rep*n]
	qoff := b*ldq + g*rep*HD
	koff := b*Tk*ldk + g*HD
	Sgemm(false, true, rep, n, HD, s.Scale, a.q[qoff:], HD, a.k[koff:], ldk, 0, S, n)
	for r := 0; r < rep; r++ {
		row := S[r*n : (r+1)*n]
		m := maxF32(row)
		sum := expShiftSum(row, m)
		inv[r] = float32(1 / sum)
		if ls != nil {
			ls[b*H+g*rep+r] = float32(float64(m) + math.Log(sum))
		}
	}
	Sgemm(false, false, rep, HD, n, 1, S, n, a.v[koff:], ldk, 0, o[qoff:], HD)
	for r := 0; r < rep; r++ {
		scaleF32(o[qoff+r*HD:qoff+(r+1)*HD], inv[r])
	}
	putF32(buf)
}

// AttentionBackward writes dq [B·Tq, H·HD] and dk, dv [B·Tk, KV·HD] from dout, the forward's out and
// lse, and q, k, v, flash-attention style: P is recomputed from q, k and lse (P_ij = exp(S_ij − lse_i)
// on the visible keys, 0 elsewhere), then with D_i = Σ_d dout_id·out_id
//
//	dP = dout_h · v_gᵀ
//	dS = P ∘ (dP − D)               (row-wise D)
//	dq_h  = scale · dS · k_g
//	dk_g += scale · dSᵀ · q_h        summed over the H/KV query heads of group g
//	dv_g += Pᵀ · dout_h
//
// dk and dv are written (zeroed first, then summed); rows of a sequence past Past[b]+Tq get zero. The
// interface documents Past nil (training); nonzero Past is handled the same way as in the forward.
// Work is split over the B·KV (sequence, kv head) pairs, so that no two threads write the same dk or
// dv rows and the sums are in a fixed order.
func (*Backend) AttentionBackward(dq, dk, dv, dout, out, lse, q, k, v *tensor.Tensor, s tensor.AttnShape) {
	const op = "AttentionBackward"
	var c attnCall
	checkAttnInto(&c.a, op, s, q, k, v)
	c.dq = f32(op, "dq", dq)
	c.dk = f32(op, "dk", dk)
	c.dv = f32(op, "dv", dv)
	c.dout = f32(op, "dout", dout)
	c.outs = f32(op, "out", out)
	c.ls = f32(op, "lse", lse)
	sameLen(op, "dq", "q", dq, q)
	sameLen(op, "dout", "q", dout, q)
	sameLen(op, "out", "q", out, q)
	sameLen(op, "dk", "k", dk, k)
	sameLen(op, "dv", "v", dv, v)
	if len(c.ls) != s.B*s.Tq*s.H {
		panic(fmt.Sprintf("cpu: AttentionBackward: lse %v, want [%d] (B·Tq·H)", lse.Shape, s.B*s.Tq*s.H))
	}
	parallelTasks(&attnOps, s.B*s.KV, c.a.threads(s.B*s.KV), c, attnBackwardTask)
}

// attnBackwardTask does AttentionBackward's task t: sequence t/KV, kv head t%KV.
func attnBackwardTask(c *attnCall, t, _ int) {
	a := &c.a
	dqs, dks, dvs, dos, outs, ls := c.dq, c.dk, c.dv, c.dout, c.outs, c.ls
	s := a.s
	Tq, Tk, H, KV, HD := s.Tq, s.Tk, s.H, s.KV, s.HD
	ldq, ldk := H*HD, KV*HD
	rep := H / KV
	bq := min(attnBlock, Tq)
	b, g := t/KV, t%KV
	past := a.past(b)
	koff := b*Tk*ldk + g*HD
	for r := 0; r < Tk; r++ {
		clear(dks[koff+r*ldk : koff+r*ldk+HD])
		clear(dvs[koff+r*ldk : koff+r*ldk+HD])
	}
	pb := getF32(bq * (past + Tq))
	db := getF32(bq * (past + Tq))
	for h := g * rep; h < (g+1)*rep; h++ {
		for i0 := 0; i0 < Tq; i0 += bq {
			i1 := min(i0+bq, Tq)
			nq, kEnd := i1-i0, past+i1
			qoff := (b*Tq+i0)*ldq + h*HD
			P := (*pb)[:nq*kEnd]
			dS := (*db)[:nq*kEnd]
			Sgemm(false, true, nq, kEnd, HD, s.Scale, a.q[qoff:], ldq, a.k[koff:], ldk, 0, P, kEnd)
			Sgemm(false, true, nq, kEnd, HD, 1, dos[qoff:], ldq, a.v[koff:], ldk, 0, dS, kEnd)
			for r := 0; r < nq; r++ {
				n := past + i0 + r + 1
				l := ls[(b*Tq+i0+r)*H+h]
				o := qoff + r*ldq
				D := dotF32(dos[o:o+HD], outs[o:o+HD])
				pr := P[r*kEnd : r*kEnd+n]
				dr := dS[r*kEnd : r*kEnd+n]
				dr = dr[:len(pr)]
				expShiftSum(pr, l) // P = exp(S − lse)
				for j, p := range pr {
					dr[j] = p * (dr[j] - D)
				}
				clear(P[r*kEnd+n : (r+1)*kEnd])
				clear(dS[r*kEnd+n : (r+1)*kEnd])
			}
			Sgemm(false, false, nq, HD, kEnd, s.Scale, dS, kEnd, a.k[koff:], ldk, 0, dqs[qoff:], ldq)
			Sgemm(true, false, kEnd, HD, nq, s.Scale, dS, kEnd, a.q[qoff:], ldq, 1, dks[koff:], ldk)
			Sgemm(true, false, kEnd, HD, nq, 1, P, kEnd, dos[qoff:], ldq, 1, dvs[koff:], ldk)
		}
	}
	putF32(pb)
	putF32(db)
}

// attnArgs is a checked attention call.
type attnArgs struct {
	s       tensor.AttnShape
	q, k, v []float32
}

func (a *attnArgs) past(b int) int {
	if a.s.Past == nil {
		return 0
	}
	return a.s.Past[b]
}

// threads is 1 when the whole call is too small to share (a few tiny heads), else the pool's size.
func (a *attnArgs) threads(tasks int) int {
	s := a.s
	keys := s.Tq
	for b := 0; b < s.B; b++ {
		keys = max(keys, a.past(b)+s.Tq)
	}
	if s.B*s.H*s.Tq*keys*s.HD < 1<<16 || tasks < 2 {
		return 1
	}
	return callThreads()
}

// checkAttnInto checks an attention call's shapes and fills a with its operands.
func checkAttnInto(a *attnArgs, op string, s tensor.AttnShape, q, k, v *tensor.Tensor) {
	*a = attnArgs{s: s, q: f32(op, "q", q), k: f32(op, "k", k), v: f32(op, "v", v)}
	if s.B <= 0 || s.Tq <= 0 || s.Tk <= 0 || s.H <= 0 || s.KV <= 0 || s.HD <= 0 || s.H%s.KV != 0 {
		panic(fmt.Sprintf("cpu: %s: bad shape %+v (need positive sizes, H a multiple of KV)", op, s))
	}
	if len(a.q) != s.B*s.Tq*s.H*s.HD || q.Cols() != s.H*s.HD {
		panic(fmt.Sprintf("cpu: %s: q %v, want [%d, %d] for %+v", op, q.Shape, s.B*s.Tq, s.H*s.HD, s))
	}
	for _, t := range []struct {
		name string
		t    *tensor.Tensor
		n    int
	}{{"k", k, len(a.k)}, {"v", v, len(a.v)}} {
		if t.n != s.B*s.Tk*s.KV*s.HD || t.t.Cols() != s.KV*s.HD {
			panic(fmt.Sprintf("cpu: %s: %s %v, want [%d, %d] for %+v", op, t.name, t.t.Shape, s.B*s.Tk, s.KV*s.HD, s))
		}
	}
	if s.Past != nil && len(s.Past) != s.B {
		panic(fmt.Sprintf("cpu: %s: %d Past offsets for B=%d", op, len(s.Past), s.B))
	}
	for b := 0; b < s.B; b++ {
		if p := a.past(b); p < 0 || p+s.Tq > s.Tk {
			panic(fmt.Sprintf("cpu: %s: sequence %d: Past %d + Tq %d does not fit Tk %d", op, b, p, s.Tq, s.Tk))
		}
	}
}
