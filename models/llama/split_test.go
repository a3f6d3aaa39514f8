package llama

import (
	"math"
	"math/rand/v2"
	"testing"

	"seal/models/cpu"
	"seal/models/lora"
	"seal/models/tensor"
	"seal/models/train"
)

// oneBatch is the CPU backend without tensor.BatchSplitter: a training step on it runs as one batch.
type oneBatch struct{ tensor.Backend }

func splitTestConfig() *Config {
	return &Config{Arch: ArchLlama, VocabSize: 97, HiddenSize: 32, IntermediateSize: 48, NumLayers: 2,
		NumHeads: 4, NumKVHeads: 2, HeadDim: 8, MaxPositions: 64, RMSNormEps: 1e-5, RopeTheta: 10000,
		RopeScaling: RopeScaling{Type: "default"}, TieWordEmbeddings: true}
}

// TestSplitStepMatchesOneBatch: a training step split in two halves (the CPU backend splits any
// batch of two or more sequences of a small model) gives the loss and the gradients of the same
// step run as one batch, up to float rounding (relative 1e-5 of each gradient's largest entry),
// for full-parameter and LoRA training, an odd batch (halves of 2 and 1 sequences), masked targets,
// and two steps of unlike gradient scales accumulating into the same gradients (the replica's are
// zeroed in between, and a replica sharing the model's gradients would count one step twice).
func TestSplitStepMatchesOneBatch(t *testing.T) {
	c := splitTestConfig()
	if !NewRandom(c, cpu.New(), false, 1).splits(2) {
		t.Fatal("the CPU backend does not split a small model's batch of 2")
	}
	const B, T = 3, 9
	rng := rand.New(rand.NewPCG(4, 4))
	ids, targets := make([]int32, B*T), make([]int32, B*T)
	for i := range ids {
		ids[i], targets[i] = int32(rng.IntN(c.VocabSize)), int32(rng.IntN(c.VocabSize))
		if i%7 == 3 {
			targets[i] = -100
		}
	}
	for _, mode := range []string{"full", "lora"} {
		t.Run(mode, func(t *testing.T) {
			run := func(be tensor.Backend) (losses []float64, grads [][]float32) {
				m := NewRandom(c, be, false, 1)
				var params []*train.Param
				var err error
				if mode == "full" {
					params, err = m.TrainFull()
				} else {
					a, aerr := lora.New(&lora.Config{Rank: 4, Alpha: 8, TargetModules: Projections}, c.NumLayers, Projections, c.ProjectionShape, rand.New(rand.NewPCG(1, 2)))
					if aerr != nil {
						t.Fatal(aerr)
					}
					r := rand.New(rand.NewPCG(7, 7)) // B starts at zero: give it values, so dA is not zero
					for _, mod := range a.Modules {
						for i := range mod.B {
							mod.B[i] = float32(r.NormFloat64() * 0.1)
						}
					}
					if err := m.SetAdapter(a); err != nil {
						t.Fatal(err)
					}
					params, err = m.TrainLoRA()
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, scale := range []float32{0.5, 1} { // unlike scales: a step that lost or doubled the other's gradient shows
					loss, _, err := m.Loss(ids, targets, B, T, true, scale)
					if err != nil {
						t.Fatal(err)
					}
					losses = append(losses, loss)
				}
				for _, p := range params {
					grads = append(grads, tensor.ToHost(p.Grad).F32)
				}
				return losses, grads
			}
			wantLoss, want := run(oneBatch{cpu.New()})
			gotLoss, got := run(cpu.New())
			for i := range wantLoss {
				if math.Abs(gotLoss[i]-wantLoss[i]) > 1e-5*math.Abs(wantLoss[i]) {
					t.Errorf("step %d: loss %v split, %v as one batch", i, gotLoss[i], wantLoss[i])
				}
			}
			for i := range want {
				var top float64
				for _, v := range want[i] {
					top = max(top, math.Abs(float64(v)))
				}
				if top == 0 {
					t.Fatalf("gradient %d is zero: the test would not see a wrong split", i)
				}
				for j := range want[i] {
					if d := math.Abs(float64(got[i][j] - want[i][j])); d > 1e-5*top {
						t.Fatalf("gradient %d[%d]: %v split, %v as one batch", i, j, got[i][j], want[i][j])
					}
				}
			}
		})
	}
}

// TestSplitDropoutHalvesDrawTheirOwnMasks: with LoRA dropout on, the replica running the second
// half salts its masks, so the two halves of a step do not share one mask (two identical
// sequences, one per half, get different losses), and a step is still deterministic.
func TestSplitDropoutHalvesDrawTheirOwnMasks(t *testing.T) {
	c := splitTestConfig()
	const T = 8
	ids := make([]int32, 2*T)
	for i := range ids {
		ids[i] = int32(i % T * 5)
	}
	targets := append(ids[1:T:T], -100)
	targets = append(targets, targets...)
	perSequence := func() [2]float64 {
		m := NewRandom(c, cpu.New(), false, 1)
		a, err := lora.New(&lora.Config{Rank: 4, Alpha: 8, Dropout: 0.5, TargetModules: Projections}, c.NumLayers, Projections, c.ProjectionShape, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(7, 7))
		for _, mod := range a.Modules {
			for i := range mod.B {
				mod.B[i] = float32(r.NormFloat64())
			}
		}
		if err := m.SetAdapter(a); err != nil {
			t.Fatal(err)
		}
		if _, err := m.TrainLoRA(); err != nil {
			t.Fatal(err)
		}
		m.dropoutCalls++
		s := m.splitFor()
		s.r.dropoutCalls = m.dropoutCalls
		return [2]float64{m.lossStep(ids[:T], targets[:T], 1, T, 0), s.r.lossStep(ids[T:], targets[T:], 1, T, 0)}
	}
	got := perSequence()
	if got[0] == got[1] {
		t.Errorf("both halves' losses are %v: their dropout masks are the same", got[0])
	}
	if again := perSequence(); again != got {
		t.Errorf("a split step with dropout is not deterministic: %v then %v", got, again)
	}
}
