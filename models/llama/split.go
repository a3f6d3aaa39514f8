package llama

import (
	"slices"

	"seal/models/tensor"
)

// A training step on a small model splits its batch in two halves that run side by side, when the
// backend asks for it (tensor.BatchSplitter: the CPU). A small model's ops are too short to keep
// every core busy when each op is shared out and its threads meet at its end (the 4-layer d-256
// model at 4×128 tokens kept about 1.6 of 2 cores busy); two halves, each a whole forward and
// backward on its own goroutine, meet once. Measured on the 2-core EPYC, loss and backward of the
// small model (vocabulary 4096) at 4×128: 93 ms as one batch, 60 ms as two halves; seal bench's
// small-model LoRA training 6,050 -> 9,230 tokens/s and full-parameter 4,790 -> 6,770 (alternating
// runs of the two builds).
//
// The split depends on the batch and the model only, never on the machine: a batch of two or more
// sequences is always cut in the same two halves (on one core they run one after the other), so a
// result does not change with the number of cores. The second half runs on a replica of the model
// (the same weights, its own activations and gradients), whose gradients are then added into the
// model's: the sum is the one-batch gradient up to float rounding. Models from splitMaxHidden up
// keep one batch: their ops are large enough to share out, and a second set of activations and
// lm_head scratch would raise the peak memory of a 1B-shaped step.
const splitMaxHidden = 1024

// splits reports whether a training Loss of B sequences runs as two halves.
func (m *Model) splits(B int) bool {
	s, ok := m.Backend.(tensor.BatchSplitter)
	return ok && s.SplitsBatches() && B >= 2 && m.Config.HiddenSize < splitMaxHidden
}

// splitState is a model's split step: the replica and, in one fixed order, the gradients of
// both (the replica's are added into the model's after each step), and the job that hands the
// second half to a worker goroutine. Made on first use, so a step allocates nothing.
type splitState struct {
	r            *Model
	mine, theirs []*tensor.Tensor
	job          halfJob
}

// halfJob is the second half of one split step, for a worker goroutine.
type halfJob struct {
	r           *Model
	ids, target []int32
	B, T        int
	scale       float32
	loss        float64
	done        chan struct{}
}

// halfJobs hands second halves to idle workers. Workers never exit (as the CPU backend's pool
// helpers): one is started when a half finds none idle, so there are as many as split steps
// have ever run at once, and a steady state of steps starts none.
var halfJobs = make(chan *halfJob)

func runHalf(j *halfJob) {
	select {
	case halfJobs <- j:
	default:
		go halfWorker(j)
	}
}

func halfWorker(j *halfJob) {
	for {
		j.loss = j.r.halfStep(j.ids, j.target, j.B, j.T, j.scale)
		j.done <- struct{}{}
		j = <-halfJobs
	}
}

// splitFor returns the model's split state with the replica's gradients zeroed: the replica is
// m's weights and adapter weights with its own passes and gradients, made on first use and
// dropped whenever what is trained changes (TrainLoRA, TrainFull, StopTraining, SetAdapter).
func (m *Model) splitFor() *splitState {
	if s := m.split; s != nil {
		for _, g := range s.theirs {
			s.r.Backend.Zero(g)
		}
		return s
	}
	r := &Model{Config: m.Config, Backend: m.Backend, Embed: m.Embed, Layers: m.Layers, Norm: m.Norm, LMHead: m.LMHead,
		LossChunk: m.LossChunk, KeepMLP: m.KeepMLP, BF16Products: m.BF16Products, rope: m.rope, adapter: m.adapter,
		owned: m.owned, dropoutSalt: 1}
	be := m.Backend
	like := func(t *tensor.Tensor) *tensor.Tensor {
		if t == nil {
			return nil
		}
		return be.Alloc(tensor.F32, t.Shape...)
	}
	if g := m.full; g != nil {
		rg := *g
		rg.layers = slices.Clone(g.layers)
		rg.each(func(t **tensor.Tensor) { *t = like(*t) })
		r.full = &rg
	}
	if m.lora != nil {
		r.lora = make([][numProj]*loraModule, len(m.lora))
		for i, l := range m.lora {
			for j, lm := range l {
				if lm != nil {
					c := *lm
					c.dA, c.dB = like(lm.dA), like(lm.dB)
					r.lora[i][j] = &c
				}
			}
		}
	}
	m.split = &splitState{r: r, mine: m.grads(), theirs: r.grads(), job: halfJob{r: r, done: make(chan struct{}, 1)}}
	return m.split
}

// halfStep is lossStep for one half, counted by the backend while it runs.
func (m *Model) halfStep(ids, targets []int32, B, T int, scale float32) float64 {
	s := m.Backend.(tensor.BatchSplitter)
	s.Splitting(1)
	defer s.Splitting(-1)
	return m.lossStep(ids, targets, B, T, scale)
}

// grads lists the gradients being trained, in one fixed order.
func (m *Model) grads() []*tensor.Tensor {
	var gs []*tensor.Tensor
	add := func(ts ...*tensor.Tensor) {
		for _, t := range ts {
			if t != nil {
				gs = append(gs, t)
			}
		}
	}
	if g := m.full; g != nil {
		g.each(func(t **tensor.Tensor) { add(*t) })
	}
	for _, l := range m.lora {
		for _, lm := range l {
			if lm != nil {
				add(lm.dA, lm.dB)
			}
		}
	}
	return gs
}

// each calls f with a pointer to every gradient slot of g, in one fixed order (nil slots too:
// weights the architecture lacks).
func (g *fullGrads) each(f func(t **tensor.Tensor)) {
	f(&g.embed)
	f(&g.lmHead)
	f(&g.norm)
	for i := range g.layers {
		l := &g.layers[i]
		f(&l.AttnNorm)
		f(&l.MLPNorm)
		f(&l.QNorm)
		f(&l.KNorm)
		for j := range l.W {
			f(&l.W[j])
			f(&l.Bias[j])
		}
	}
}

// dropReplica frees the replica's gradients and forgets it.
func (m *Model) dropReplica() {
	if m.split == nil {
		return
	}
	for _, g := range m.split.theirs {
		m.Backend.Free(g)
	}
	m.split = nil
}

// splitLoss is Loss's training step as two halves: the first B/2 sequences (rounded up) on m,
// the rest on the replica at the same time, then the replica's gradients added into m's. It
// returns the summed loss; scale is gradScale over the whole batch's count.
func (m *Model) splitLoss(ids, targets []int32, B, T int, scale float32) float64 {
	s := m.splitFor()
	s.r.dropoutCalls = m.dropoutCalls // the same call: each half salts its own dropout masks
	B0 := (B + 1) / 2
	cut := B0 * T
	j := &s.job
	j.ids, j.target, j.B, j.T, j.scale = ids[cut:], targets[cut:], B-B0, T, scale
	runHalf(j)
	first := m.halfStep(ids[:cut], targets[:cut], B0, T, scale)
	<-j.done
	j.ids, j.target = nil, nil
	for i, g := range s.mine {
		m.Backend.Add(g, s.theirs[i], 1)
	}
	return first + j.loss
}
