package train

import (
	"math"
	"testing"

	"seal/models/tensor"
)

// hostBackend implements only what the optimizer uses, with plain loops, so these tests
// do not depend on any real backend. Its AdamWStep is torch.optim.AdamW's single-tensor
// path in float32.
type hostBackend struct{ tensor.Backend }

func (hostBackend) Name() string { return "test-host" }

func (hostBackend) Alloc(dt tensor.DType, shape ...int) *tensor.Tensor { return tensor.New(shape...) }

func (hostBackend) Scale(a *tensor.Tensor, s float32) {
	for i := range a.F32 {
		a.F32[i] *= s
	}
}

func (hostBackend) Zero(a *tensor.Tensor) { clear(a.F32) }

func (hostBackend) SumSquares(a *tensor.Tensor) float64 {
	var s float64
	for _, x := range a.F32 {
		s += float64(x) * float64(x)
	}
	return s
}

func (hostBackend) AdamWStep(p, g, m, v *tensor.Tensor, h tensor.AdamW) {
	bc1 := 1 - float32(math.Pow(float64(h.Beta1), float64(h.Step)))
	bc2 := 1 - float32(math.Pow(float64(h.Beta2), float64(h.Step)))
	stepSize := h.LR / bc1
	bc2Sqrt := float32(math.Sqrt(float64(bc2)))
	for i := range p.F32 {
		gi := g.F32[i]
		p.F32[i] *= 1 - h.LR*h.WeightDecay
		m.F32[i] += (gi - m.F32[i]) * (1 - h.Beta1)
		v.F32[i] = v.F32[i]*h.Beta2 + (1-h.Beta2)*gi*gi
		denom := float32(math.Sqrt(float64(v.F32[i])))/bc2Sqrt + h.Eps
		p.F32[i] -= stepSize * m.F32[i] / denom
	}
}

// refParam is the float64 mirror of a Param.
type refParam struct {
	p, g, m, v []float64
	noDecay    bool
}

// refStep is torch AdamW (decoupled decay, bias-corrected) after clip_grad_norm_, in float64.
func refStep(ps []*refParam, cfg AdamWConfig, lr float64, step int) (norm float64) {
	for _, r := range ps {
		for _, x := range r.g {
			norm += x * x
		}
	}
	norm = math.Sqrt(norm)
	if coef := float64(cfg.MaxGradNorm) / (norm + 1e-6); cfg.MaxGradNorm > 0 && coef < 1 {
		for _, r := range ps {
			for i := range r.g {
				r.g[i] *= coef
			}
		}
	}
	b1, b2 := float64(cfg.Beta1), float64(cfg.Beta2)
	bc1 := 1 - math.Pow(b1, float64(step))
	bc2 := 1 - math.Pow(b2, float64(step))
	for _, r := range ps {
		wd := float64(cfg.WeightDecay)
		if r.noDecay {
			wd = 0
		}
		for i := range r.p {
			r.p[i] *= 1 - lr*wd
			r.m[i] = b1*r.m[i] + (1-b1)*r.g[i]
			r.v[i] = b2*r.v[i] + (1-b2)*r.g[i]*r.g[i]
			r.p[i] -= lr / bc1 * r.m[i] / (math.Sqrt(r.v[i])/math.Sqrt(bc2) + float64(cfg.Eps))
		}
	}
	return norm
}

func closeTo(got, want, rel, abs float64) bool {
	return math.Abs(got-want) <= abs+rel*math.Abs(want)
}

func TestAdamWMatchesTorchReference(t *testing.T) { checkAdamWReference(t, hostBackend{}) }

// checkAdamWReference runs three optimizer steps on backend b (clipping on two of them, a
// warmup step with lr 0, a NoDecay parameter) against the float64 torch reference.
func checkAdamWReference(t *testing.T, b tensor.Backend) {
	cfg := AdamWConfig{LR: 0.05, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1, MaxGradNorm: 1}
	sched := Linear(1, 4) // factors 0, 1, 2/3: the first step moves nothing but the moments
	shapes := [][]int{{3, 4}, {4}}
	var params []*Param
	var refs []*refParam
	for k, sh := range shapes {
		n := tensor.Numel(sh)
		p := &Param{Name: "p", Value: tensor.New(sh...), Grad: tensor.New(sh...), NoDecay: k == 1}
		r := &refParam{p: make([]float64, n), g: make([]float64, n), m: make([]float64, n), v: make([]float64, n), noDecay: k == 1}
		for i := range n {
			x := float32(math.Sin(float64(7*i+k+1))) * 0.5
			p.Value.F32[i] = x
			r.p[i] = float64(x)
		}
		params = append(params, p)
		refs = append(refs, r)
	}
	opt := NewAdamW(b, params, cfg, sched)
	if params[0].M == nil || params[1].V == nil || params[0].M.Len() != 12 {
		t.Fatal("NewAdamW did not allocate the moments")
	}
	// Gradient sizes per step: clipped, not clipped, clipped.
	gscale := []float32{3, 0.05, 10}
	wantFactor := []float64{0, 1, 2.0 / 3}
	for step := range 3 {
		for k, p := range params {
			for i := range p.Grad.F32 {
				g := gscale[step] * float32(math.Cos(float64(3*i+5*k+11*step)))
				p.Grad.F32[i] = g
				refs[k].g[i] = float64(g)
			}
		}
		wantLR := float64(cfg.LR) * wantFactor[step]
		wantNorm := refStep(refs, cfg, wantLR, step+1)
		lr, norm := opt.Step()
		if !closeTo(float64(lr), wantLR, 1e-7, 0) {
			t.Errorf("step %d: lr %g, want %g", step, lr, wantLR)
		}
		if !closeTo(norm, wantNorm, 1e-9, 0) {
			t.Errorf("step %d: grad norm %g, want %g", step, norm, wantNorm)
		}
		if (wantNorm > 1) != (step != 1) {
			t.Fatalf("test setup: step %d norm %g", step, wantNorm)
		}
		if opt.StepCount() != step+1 {
			t.Errorf("StepCount %d after %d steps", opt.StepCount(), step+1)
		}
	}
	for k, p := range params {
		r := refs[k]
		for i := range r.p {
			if !closeTo(float64(p.Value.F32[i]), r.p[i], 1e-5, 1e-6) ||
				!closeTo(float64(p.M.F32[i]), r.m[i], 1e-5, 1e-7) ||
				!closeTo(float64(p.V.F32[i]), r.v[i], 1e-5, 1e-9) {
				t.Fatalf("param %d[%d]: p %g m %g v %g, want %g %g %g", k, i,
					p.Value.F32[i], p.M.F32[i], p.V.F32[i], r.p[i], r.m[i], r.v[i])
			}
		}
	}
	opt.ZeroGrad()
	params[0].Grad.F32[0] = float32(math.NaN())
	opt.ZeroGrad()
	for _, p := range params {
		for _, g := range p.Grad.F32 {
			if g != 0 {
				t.Fatalf("ZeroGrad left %g", g)
			}
		}
	}
}

func TestAdamWNoDecayAndNoClip(t *testing.T) {
	// With zero gradients and no clipping, only decoupled weight decay moves a parameter:
	// p ← p·(1 − lr·wd); a NoDecay parameter stays put.
	cfg := AdamWConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.5}
	a := &Param{Value: tensor.FromF32([]float32{2, -4}, 2), Grad: tensor.New(2)}
	b := &Param{Value: tensor.FromF32([]float32{2, -4}, 2), Grad: tensor.New(2), NoDecay: true}
	opt := NewAdamW(hostBackend{}, []*Param{a, b}, cfg, nil)
	lr, norm := opt.Step()
	if lr != 0.1 || norm != 0 {
		t.Fatalf("lr %g norm %g", lr, norm)
	}
	if a.Value.F32[0] != 2*(1-float32(0.1)*0.5) || b.Value.F32[0] != 2 || b.Value.F32[1] != -4 {
		t.Fatalf("after step: %v %v", a.Value.F32, b.Value.F32)
	}
}

func TestNewAdamWRejectsBadParams(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a parameter without a gradient")
		}
	}()
	NewAdamW(hostBackend{}, []*Param{{Name: "x", Value: tensor.New(2)}}, DefaultAdamW(), nil)
}

func TestDefaultAdamW(t *testing.T) {
	c := DefaultAdamW()
	if c.LR != 1e-3 || c.Beta1 != 0.9 || c.Beta2 != 0.999 || c.Eps != 1e-8 || c.WeightDecay != 0.01 || c.MaxGradNorm != 1 {
		t.Fatalf("%+v", c)
	}
}

func TestClipGradNorm(t *testing.T) {
	mk := func(s float32) []*Param {
		g1 := []float32{3 * s, -4 * s, 1 * s}
		g2 := []float32{0.5 * s, 2 * s}
		return []*Param{{Grad: tensor.FromF32(g1, 3)}, {Grad: tensor.FromF32(g2, 2)}}
	}
	norm64 := func(ps []*Param) float64 {
		var s float64
		for _, p := range ps {
			for _, x := range p.Grad.F32 {
				s += float64(x) * float64(x)
			}
		}
		return math.Sqrt(s)
	}
	for _, tc := range []struct {
		scale, max float32
		clip       bool
	}{{1, 1, true}, {1, 2.5, true}, {0.01, 1, false}, {1, 100, false}} {
		ps := mk(tc.scale)
		before := make([][]float32, len(ps))
		for i, p := range ps {
			before[i] = append([]float32(nil), p.Grad.F32...)
		}
		want := norm64(ps)
		got := ClipGradNorm(hostBackend{}, ps, tc.max)
		if !closeTo(got, want, 1e-12, 0) {
			t.Errorf("%+v: norm %g, want %g", tc, got, want)
		}
		coef := float64(tc.max) / (want + 1e-6)
		for i, p := range ps {
			for j, x := range p.Grad.F32 {
				w := float64(before[i][j])
				if tc.clip {
					w *= coef
				}
				if tc.clip && !closeTo(float64(x), w, 1e-6, 0) || !tc.clip && x != before[i][j] {
					t.Errorf("%+v: grad[%d][%d] %g, want %g", tc, i, j, x, w)
				}
			}
		}
		if tc.clip {
			if after := norm64(ps); !closeTo(after, float64(tc.max), 1e-5, 0) {
				t.Errorf("%+v: norm after clipping %g", tc, after)
			}
		}
	}
}
