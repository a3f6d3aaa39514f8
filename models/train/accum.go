package train

// Accumulator counts micro-batches for gradient accumulation: gradients of Every
// micro-batches are summed, then the optimizer steps once. Each micro-batch's loss
// gradient is scaled by LossScale (1/Every), as the HF Trainer divides the loss by
// gradient_accumulation_steps, so the step sees the mean over the micro-batches.
type Accumulator struct {
	Every int // micro-batches per optimizer step; 0 or 1 steps after every micro-batch
	n     int
}

func (a *Accumulator) every() int { return max(1, a.Every) }

// Micro records one finished micro-batch (its gradient already added) and says whether
// the optimizer should step now.
func (a *Accumulator) Micro() (stepNow bool) {
	a.n++
	if a.n >= a.every() {
		a.n = 0
		return true
	}
	return false
}

// LossScale is the factor each micro-batch's loss gradient gets: 1/Every.
func (a *Accumulator) LossScale() float32 { return 1 / float32(a.every()) }

// Pending is the number of micro-batches added since the last step.
func (a *Accumulator) Pending() int { return a.n }

// Flush is for the end of the data: it says whether micro-batches are pending (then the
// caller steps on the partial sum, as the HF Trainer does at an epoch's end) and resets.
func (a *Accumulator) Flush() (stepNow bool) {
	stepNow = a.n > 0
	a.n = 0
	return stepNow
}
