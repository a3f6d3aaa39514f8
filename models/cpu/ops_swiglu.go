package cpu

import "seal/models/tensor"

// SwiGLU: out = silu(gate)·up with silu(x) = x·sigmoid(x) = x / (1 + e^−x), computed in float32 as
// torch's CPU silu kernel writes it. It is stable at both ends: for x → −∞, e^−x overflows to +Inf and
// x/Inf is −0; for x → +∞, e^−x is 0 and the result is x. out may be gate or up.
func (*Backend) SwiGLU(out, gate, up *tensor.Tensor) {
	const op = "SwiGLU"
	o := f32(op, "out", out)
	g := f32(op, "gate", gate)
	u := f32(op, "up", up)
	sameLen(op, "out", "gate", out, gate)
	sameLen(op, "up", "gate", up, gate)
	if runsInline(len(o), 4*len(o)) {
		swiGLU(o, g, u)
		return
	}
	parallelRange(&swiGLUOps, len(o), 4*len(o), swiGLUArgs{o: o, g: g, u: u}, func(a *swiGLUArgs, i0, i1 int) {
		swiGLU(a.o[i0:i1], a.g[i0:i1], a.u[i0:i1])
	})
}

// swiGLUArgs are the operands of SwiGLU (out in o) and SwiGLUBackward.
type swiGLUArgs struct{ o, g, u, d, dg, du []float32 }

var swiGLUOps opPool[swiGLUArgs]

func swiGLU(os, gs, us []float32) {
	us, os = us[:len(gs)], os[:len(gs)]
	j := swiGLUFast(os, gs, us)
	for i, x := range gs[j:] {
		os[j+i] = x / (1 + expf(-x)) * us[j+i]
	}
}

// SwiGLUBackward: with s = sigmoid(gate) = 1/(1 + e^−gate),
//
//	dgate = dout·up·s·(1 + gate·(1 − s))      (torch's silu_backward)
//	dup   = dout·silu(gate)
//
// Both are written; either may be dout itself.
func (*Backend) SwiGLUBackward(dgate, dup, dout, gate, up *tensor.Tensor) {
	const op = "SwiGLUBackward"
	dg := f32(op, "dgate", dgate)
	du := f32(op, "dup", dup)
	d := f32(op, "dout", dout)
	g := f32(op, "gate", gate)
	u := f32(op, "up", up)
	sameLen(op, "dgate", "gate", dgate, gate)
	sameLen(op, "dup", "gate", dup, gate)
	sameLen(op, "dout", "gate", dout, gate)
	sameLen(op, "up", "gate", up, gate)
	parallelRange(&swiGLUOps, len(g), 6*len(g), swiGLUArgs{g: g, u: u, d: d, dg: dg, du: du}, func(a *swiGLUArgs, i0, i1 int) {
		gs := a.g[i0:i1]
		us, ds, dgs, dus := a.u[i0:i1], a.d[i0:i1], a.dg[i0:i1], a.du[i0:i1]
		us, ds, dgs, dus = us[:len(gs)], ds[:len(gs)], dgs[:len(gs)], dus[:len(gs)]
		j := swiGLUBackwardFast(gs, us, ds, dgs, dus)
		gs, us, ds, dgs, dus = gs[j:], us[j:], ds[j:], dgs[j:], dus[j:]
		for i, x := range gs {
			den := 1 + expf(-x)
			s := 1 / den
			dy, up := ds[i], us[i]
			dgs[i] = dy * up * (s * (1 + x*(1-s)))
			dus[i] = dy * (x / den)
		}
	})
}
