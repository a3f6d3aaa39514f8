package llama

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"seal/models/lora"
	"seal/models/train"
)

// FitConfig is one LoRA fine-tune as the HF Trainer runs it for SEAL's inner loops:
// AdamW (β 0.9/0.999, ε 1e-8, weight decay 0, clipping at 1.0), a reshuffle every
// epoch, the loss averaged over the unmasked targets of each batch.
type FitConfig struct {
	LR     float64
	Epochs int
	Batch  int
	Seed   uint64 // drives the per-epoch shuffle
	Pad    int32  // right-padding token; padding never counts in the loss
	// Schedule builds the lr schedule from the total number of steps; nil is linear
	// decay with no warmup (the Trainer's default).
	Schedule func(totalSteps int) train.Schedule
	// OnStep, when set, sees every optimizer step as it finishes (1-based).
	OnStep func(p FitStep)
}

// FitStep is one point of a training curve.
type FitStep struct {
	Step, Steps int
	Loss, LR    float64
}

// DivergedError is a fit stopped at its first non-finite loss: the weights after it
// are garbage, so nothing trained may be scored or kept.
type DivergedError struct {
	Step int
	Loss float64
	LR   float64 // the configured peak learning rate
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("training diverged: loss %v at step %d (lr %g)", e.Loss, e.Step, e.LR)
}

// FitSteps is how many optimizer steps Fit takes for n examples.
func FitSteps(n, batch, epochs int) int { return (n + max(batch, 1) - 1) / max(batch, 1) * epochs }

// FitLoRA trains the attached adapter in place on examples and returns the curve. It
// stops between steps when ctx is cancelled (returning ctx.Err() and the curve so
// far) and always drops the gradient buffers; the adapter stays attached. A NaN or
// infinite loss stops it with a *DivergedError before that step's update.
func (m *Model) FitLoRA(ctx context.Context, examples []train.Example, cfg FitConfig) ([]FitStep, error) {
	if cfg.Batch < 1 || cfg.Epochs < 0 {
		return nil, fmt.Errorf("llama: fit needs batch ≥ 1 and epochs ≥ 0 (got %d, %d)", cfg.Batch, cfg.Epochs)
	}
	params, err := m.TrainLoRA()
	if err != nil {
		return nil, err
	}
	defer m.StopTraining()
	batches := (len(examples) + cfg.Batch - 1) / cfg.Batch
	total := batches * cfg.Epochs
	sched := train.Linear(0, total)
	if cfg.Schedule != nil {
		sched = cfg.Schedule(total)
	}
	opt := train.NewAdamW(m.Backend, params, train.AdamWConfig{LR: float32(cfg.LR), Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, MaxGradNorm: 1}, sched)
	var curve []FitStep
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		order := train.Shuffle(len(examples), cfg.Seed, epoch)
		for b := 0; b < batches; b++ {
			if err := ctx.Err(); err != nil {
				return curve, err
			}
			var group []train.Example
			for _, i := range order[b*cfg.Batch : min((b+1)*cfg.Batch, len(order))] {
				group = append(group, examples[i])
			}
			ids, labels := train.Pack(group, cfg.Pad)
			T := len(ids[0])
			flatIDs, flatTargets := make([]int32, 0, len(ids)*T), make([]int32, 0, len(ids)*T)
			for j := range ids {
				flatIDs = append(flatIDs, ids[j]...)
				flatTargets = append(flatTargets, train.ShiftedTargets(ids[j], labels[j])...)
			}
			opt.ZeroGrad()
			loss, _, err := m.Loss(flatIDs, flatTargets, len(ids), T, true, 1)
			if err != nil {
				return curve, err
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return curve, &DivergedError{Step: len(curve) + 1, Loss: loss, LR: cfg.LR}
			}
			lr, _ := opt.Step()
			p := FitStep{Step: len(curve) + 1, Steps: total, Loss: loss, LR: float64(lr)}
			curve = append(curve, p)
			if cfg.OnStep != nil {
				cfg.OnStep(p)
			}
		}
	}
	return curve, nil
}

// FreshLoRA is one inner loop's training: a new adapter of shape Config, initialised
// from the random stream (Seed, Stream), trained on Examples with Fit.
type FreshLoRA struct {
	Config       *lora.Config
	Seed, Stream uint64 // the adapter's initialisation; Fit.Seed drives the shuffle
	Examples     []train.Example
	Fit          FitConfig
}

// TrainFreshLoRA is the one inner loop every SEAL domain trains through: it makes a
// fresh adapter, attaches it and fits it (FitLoRA). The adapter stays attached, also
// when fitting fails (the caller detaches it); the curve so far comes back with an error.
func (m *Model) TrainFreshLoRA(ctx context.Context, f FreshLoRA) (*lora.Adapter, []FitStep, error) {
	c := m.Config
	a, err := lora.New(f.Config, c.NumLayers, Projections, c.ProjectionShape, rand.New(rand.NewPCG(f.Seed, f.Stream)))
	if err != nil {
		return nil, nil, err
	}
	if err := m.SetAdapter(a); err != nil {
		return nil, nil, err
	}
	curve, err := m.FitLoRA(ctx, f.Examples, f.Fit)
	return a, curve, err
}
