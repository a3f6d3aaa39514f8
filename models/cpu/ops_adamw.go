package cpu

import (
	"fmt"
	"math"
	"strconv"

	"seal/models/tensor"
)

// AdamWStep updates p (F32) in place from its gradient g and moments m, v, exactly as torch.optim.AdamW
// does for a float32 CPU tensor (the single-tensor path, which torch takes for CPU tensors), operation by
// operation and rounding by rounding:
//
//	p.mul_(1 − lr·wd)                              (skipped when wd == 0)
//	m.lerp_(g, 1 − β1)                             m + w·(g − m) as one fused multiply-add for w < 0.5
//	                                               (torch's vectorised lerp), g − (1−w)·(g − m) otherwise
//	v.mul_(β2).addcmul_(g, g, value=1 − β2)        v·β2 + ((1−β2)·g)·g
//	bc1 = 1 − β1^t, bc2 = 1 − β2^t                 (float64, t = h.Step)
//	denom = sqrt(v) / sqrt(bc2) + eps
//	p.addcdiv_(m, denom, value=−lr/bc1)            p + ((−lr/bc1)·m) / denom
//
// The scalar factors are computed in float64 and rounded to float32 where torch converts them (a Python
// float meeting a float32 tensor). The hyperparameters arrive as float32; each is widened through its
// shortest decimal form (0.9f becomes the double 0.9, the value a Python script would have passed), so
// that 1 − β1 and lr/bc1 match torch's to the bit as far as those decimal values go.
func (*Backend) AdamWStep(p, g, m, v *tensor.Tensor, h tensor.AdamW) {
	const op = "AdamWStep"
	ps := f32(op, "p", p)
	gs := f32(op, "g", g)
	ms := f32(op, "m", m)
	vs := f32(op, "v", v)
	sameLen(op, "g", "p", g, p)
	sameLen(op, "m", "p", m, p)
	sameLen(op, "v", "p", v, p)
	if h.Step < 1 {
		panic(fmt.Sprintf("cpu: AdamWStep: Step = %d (steps count from 1)", h.Step))
	}
	c := adamwConsts(h)
	if runsInline(len(ps), 4*len(ps)) {
		adamwRange(c, ps, gs, ms, vs)
		return
	}
	parallelRange(&adamwOps, len(ps), 4*len(ps), adamwArgs{c, ps, gs, ms, vs}, func(a *adamwArgs, i0, i1 int) {
		adamwRange(a.c, a.p[i0:i1], a.g[i0:i1], a.m[i0:i1], a.v[i0:i1])
	})
}

type adamwArgs struct {
	c          adamwScalars
	p, g, m, v []float32
}

var adamwOps opPool[adamwArgs]

// adamwScalars are the float32 constants of one step, rounded as torch rounds them.
type adamwScalars struct {
	decay     float32 // 1 − lr·wd
	wd        bool
	w         float32 // lerp weight 1 − β1
	beta2     float32
	c2        float32 // 1 − β2
	bc2sqrt   float32
	eps       float32
	negStep   float32 // −lr / bc1
	smallLerp bool    // w < 0.5
}

// decimal widens a float32 hyperparameter through its shortest decimal representation.
func decimal(x float32) float64 {
	f, err := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
	if err != nil {
		return float64(x)
	}
	return f
}

func adamwConsts(h tensor.AdamW) adamwScalars {
	lr, b1, b2 := decimal(h.LR), decimal(h.Beta1), decimal(h.Beta2)
	eps, wd := decimal(h.Eps), decimal(h.WeightDecay)
	t := float64(h.Step)
	bc1 := 1 - math.Pow(b1, t)
	bc2 := 1 - math.Pow(b2, t)
	w := float32(1 - b1)
	return adamwScalars{
		decay:     float32(1 - lr*wd),
		wd:        wd != 0,
		w:         w,
		beta2:     float32(b2),
		c2:        float32(1 - b2),
		bc2sqrt:   float32(math.Sqrt(bc2)),
		eps:       float32(eps),
		negStep:   float32(-(lr / bc1)),
		smallLerp: math.Abs(float64(w)) < 0.5,
	}
}

// fma32 is a·b + c rounded once to float32 (through float64: the product of two float32s is exact
// there, and the one double rounding that follows differs from a true float32 FMA only in rare halfway
// cases).
func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// adamwRange is the update of one slice; every intermediate is converted to float32 explicitly, which
// also keeps the compiler from fusing a multiply and an add that torch rounds separately.
func adamwRange(c adamwScalars, p, g, m, v []float32) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	if n := adamwFast(c, p, g, m, v); n > 0 {
		p, g, m, v = p[n:], g[n:], m[n:], v[n:]
	}
	for i := range p {
		pv := p[i]
		if c.wd {
			pv = float32(pv * c.decay)
		}
		gi, mi := g[i], m[i]
		diff := float32(gi - mi)
		if c.smallLerp {
			mi = fma32(c.w, diff, mi)
		} else {
			mi = fma32(float32(c.w-1), diff, gi)
		}
		vi := float32(v[i] * c.beta2)
		vi = float32(vi + float32(float32(c.c2*gi)*gi))
		denom := float32(float32(math.Sqrt(float64(vi)))/c.bc2sqrt) + c.eps
		p[i] = pv + float32(float32(c.negStep*mi)/denom)
		m[i], v[i] = mi, vi
	}
}
