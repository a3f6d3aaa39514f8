package llama

import (
	"math"
	"math/rand/v2"
	"testing"

	"seal/models/cpu"
	"seal/models/lora"
)

// TestLoRADropoutGradients checks the LoRA gradients with dropout on against central
// differences of the loss under the same dropout masks (the masks depend only on the
// call counter, which the test winds back before each evaluation).
func TestLoRADropoutGradients(t *testing.T) {
	c := &Config{Arch: ArchLlama, VocabSize: 50, HiddenSize: 16, IntermediateSize: 24, NumLayers: 2, NumHeads: 4, NumKVHeads: 2,
		HeadDim: 4, MaxPositions: 64, RMSNormEps: 1e-5, RopeTheta: 10000, RopeScaling: RopeScaling{Type: "default"}}
	m := NewRandom(c, cpu.New(), false, 3)
	cfg := &lora.Config{Rank: 4, Alpha: 8, Dropout: 0.3, TargetModules: Projections}
	a, err := lora.New(cfg, c.NumLayers, Projections, c.ProjectionShape, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	for _, mod := range a.Modules { // B = 0 at init would hide the A gradients
		for i := range mod.B {
			mod.B[i] = float32(math.Sin(float64(i))) * 0.3
		}
	}
	m.SetAdapter(a)
	params, _ := m.TrainLoRA()
	ids := []int32{1, 5, 9, 2, 33, 7, 4, 4, 12, 40}
	targets := []int32{5, 9, 2, 33, 7, 4, -100, 12, 40, 3}
	lossAt := func(call uint64) float64 {
		m.dropoutCalls = call - 1
		l, _, _ := m.Loss(ids, targets, 2, 5, true, 1)
		return l
	}
	lossAt(10)
	grads := make([][]float32, len(params))
	for i, p := range params {
		grads[i] = append([]float32(nil), p.Grad.F32...)
	}
	noDrop, _, _ := m.Loss(ids, targets, 2, 5, false, 1)
	if withDrop := lossAt(10); withDrop == noDrop {
		t.Fatal("dropout changed nothing")
	}
	checked := 0
	for i, p := range params {
		for _, j := range []int{0, len(p.Value.F32) / 2, len(p.Value.F32) - 1} {
			orig := p.Value.F32[j]
			h := float32(2e-3) // larger steps see the curvature (measured: 1e-2 gave 8% errors)
			p.Value.F32[j] = orig + h
			up := lossAt(10)
			p.Value.F32[j] = orig - h
			down := lossAt(10)
			p.Value.F32[j] = orig
			fd := (up - down) / float64(2*h)
			if g := float64(grads[i][j]); math.Abs(fd-g) > 0.02*math.Abs(g)+2e-4 {
				t.Errorf("%s[%d]: backward %.6g, finite difference %.6g", p.Name, j, g, fd)
			}
			checked++
		}
	}
	t.Logf("%d LoRA entries with dropout 0.3 agree with finite differences", checked)
}
