// Package train is the optimizer plumbing of finetuning: AdamW over a tensor.Backend,
// gradient-norm clipping, learning-rate schedules, gradient accumulation, and the label
// masking and batching of causal-LM examples. Each piece follows PyTorch and Hugging Face
// transformers exactly, so a run here and the same run there agree step by step.
package train

import (
	"fmt"
	"math"

	"seal/models/tensor"
)

// Param is one trainable tensor with its gradient and AdamW moments, all F32 and of one
// shape. NewAdamW allocates M and V (zeroed, by the backend) when they are nil; a caller that
// resumes, or keeps tensors on a device, sets them itself.
type Param struct {
	Name              string
	Value, Grad, M, V *tensor.Tensor
	NoDecay           bool // no weight decay (HF Trainer exempts biases and norm weights)
}

// AdamWConfig holds the hyperparameters of torch.optim.AdamW plus gradient clipping.
type AdamWConfig struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
	MaxGradNorm                        float32 // clip the total gradient 2-norm to this; 0 = no clipping
}

// DefaultAdamW is torch.optim.AdamW's defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8,
// weight_decay 0.01) with gradient clipping at 1.0, which is what the HF Trainer applies
// by default (TrainingArguments.max_grad_norm = 1.0); torch itself does not clip.
func DefaultAdamW() AdamWConfig {
	return AdamWConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01, MaxGradNorm: 1}
}

// Optimizer is AdamW with a learning-rate schedule, stepping as the HF Trainer does:
// clip the gradients, update every parameter with the lr the schedule gives the current
// step (LambdaLR: step k, counted from 0, uses LR·Factor(k)), then count the step.
type Optimizer struct {
	b      tensor.Backend
	params []*Param
	cfg    AdamWConfig
	sched  Schedule
	step   int
}

// NewAdamW binds params to backend b. sched nil means a constant lr. It panics on a
// parameter without Value or Grad, or whose tensors are not F32 of one size: those are
// programming errors.
func NewAdamW(b tensor.Backend, params []*Param, cfg AdamWConfig, sched Schedule) *Optimizer {
	if sched == nil {
		sched = Constant(0)
	}
	for _, p := range params {
		if p.Value == nil || p.Grad == nil {
			panic(fmt.Sprintf("train: parameter %q needs Value and Grad", p.Name))
		}
		n := p.Value.Len()
		if p.M == nil {
			p.M = b.Alloc(tensor.F32, p.Value.Shape...)
		}
		if p.V == nil {
			p.V = b.Alloc(tensor.F32, p.Value.Shape...)
		}
		for _, t := range []*tensor.Tensor{p.Value, p.Grad, p.M, p.V} {
			if t.DType != tensor.F32 || t.Len() != n {
				panic(fmt.Sprintf("train: parameter %q: tensors must be F32 of %d elements", p.Name, n))
			}
		}
	}
	return &Optimizer{b: b, params: params, cfg: cfg, sched: sched}
}

// Params is the parameter list the optimizer updates.
func (o *Optimizer) Params() []*Param { return o.params }

// StepCount is the number of optimizer steps taken so far.
func (o *Optimizer) StepCount() int { return o.step }

// SetStepCount restores the step counter when resuming (it drives the schedule and the
// bias correction); the moments must be restored with it.
func (o *Optimizer) SetStepCount(n int) { o.step = n }

// LR is the learning rate the next Step will use.
func (o *Optimizer) LR() float32 {
	return float32(float64(o.cfg.LR) * o.sched.Factor(o.step))
}

// Step clips the gradients when MaxGradNorm > 0, applies one AdamW update to every
// parameter, and counts the step. It returns the lr used and the total gradient 2-norm
// before clipping (computed even when clipping is off, for logging).
func (o *Optimizer) Step() (lr float32, gradNorm float64) {
	lr = o.LR()
	if o.cfg.MaxGradNorm > 0 {
		gradNorm = ClipGradNorm(o.b, o.params, o.cfg.MaxGradNorm)
	} else {
		gradNorm = GradNorm(o.b, o.params)
	}
	h := tensor.AdamW{LR: lr, Beta1: o.cfg.Beta1, Beta2: o.cfg.Beta2, Eps: o.cfg.Eps, Step: o.step + 1}
	for _, p := range o.params {
		h.WeightDecay = o.cfg.WeightDecay
		if p.NoDecay {
			h.WeightDecay = 0
		}
		o.b.AdamWStep(p.Value, p.Grad, p.M, p.V, h)
	}
	o.step++
	return lr, gradNorm
}

// ZeroGrad sets every gradient to zero through the backend (Zero, not Scale by 0, so a
// NaN from a bad step cannot survive).
func (o *Optimizer) ZeroGrad() {
	for _, p := range o.params {
		o.b.Zero(p.Grad)
	}
}

// GradNorm is the total 2-norm over all parameters' gradients (nil gradients skipped).
func GradNorm(b tensor.Backend, params []*Param) float64 {
	var ss float64
	for _, p := range params {
		if p.Grad != nil {
			ss += b.SumSquares(p.Grad)
		}
	}
	return math.Sqrt(ss)
}

// ClipGradNorm is torch.nn.utils.clip_grad_norm_ with norm_type 2: the total norm is the
// 2-norm over all gradients together; clip_coef = maxNorm/(total+1e-6), clamped to 1; the
// gradients are scaled in place by it only when it is below 1 (scaling by 1 changes
// nothing). A non-finite total scales by NaN, as torch does without error_if_nonfinite.
// It returns the norm before clipping.
func ClipGradNorm(b tensor.Backend, params []*Param, maxNorm float32) float64 {
	total := GradNorm(b, params)
	coef := float64(maxNorm) / (total + 1e-6)
	if coef < 1 || math.IsNaN(coef) {
		c := float32(coef)
		for _, p := range params {
			if p.Grad != nil {
				b.Scale(p.Grad, c)
			}
		}
	}
	return total
}
