package llama_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"seal/models/llama"
	"seal/models/lora"
	"seal/models/tensor"
	"seal/models/train"
)

func TestMergeAndUnmergeAdapter(t *testing.T) {
	for _, f := range fixtures(t) {
		for _, file := range []string{"model.safetensors", "model.bf16.safetensors"} {
			t.Run(f.name()+"/"+file, func(t *testing.T) {
				ids, shape := f.ints(t, "input_ids")
				m := f.load(t, file)
				base, _ := m.Forward(ids, shape[0], shape[1], nil, nil)
				a, err := lora.Load(filepath.Join(f.dir, "adapter"))
				if err != nil {
					t.Fatal(err)
				}
				m.SetAdapter(a)
				adapted, _ := m.Forward(ids, shape[0], shape[1], nil, nil)
				if err := m.MergeAdapter(); err != nil {
					t.Fatal(err)
				}
				if m.Adapter() != nil {
					t.Fatal("merge must detach the adapter")
				}
				merged, _ := m.Forward(ids, shape[0], shape[1], nil, nil)
				// Merging reorders float32 sums: (x·W) + s·(x·Aᵀ)·Bᵀ vs x·(W + s·B·A).
				if d, at := maxAbsDiff(merged.F32, adapted.F32); d > 2e-5 {
					t.Fatalf("merged logits differ from adapter logits by %.3g at %d", d, at)
				}
				m.SetAdapter(a)
				if err := m.UnmergeAdapter(); err != nil {
					t.Fatal(err)
				}
				back, _ := m.Forward(ids, shape[0], shape[1], nil, nil)
				if d, at := maxAbsDiff(back.F32, base.F32); d > 2e-5 {
					t.Fatalf("unmerged logits differ from base by %.3g at %d", d, at)
				}
				// The checkpoint itself is untouched: a fresh load gives the base logits exactly.
				fresh, _ := f.load(t, file).Forward(ids, shape[0], shape[1], nil, nil)
				if d, _ := maxAbsDiff(fresh.F32, base.F32); d != 0 {
					t.Fatalf("merging changed the checkpoint: fresh load differs by %g", d)
				}
			})
		}
	}
}

// TestFullTrainingGradientsByFiniteDifferences checks the full-parameter backward pass
// (embeddings, norms, biases, every projection, tied and untied heads) against central
// differences of the loss, independently of the LoRA goldens. The network runs in
// float32, so the step is large (h = 1e-2 relative to the weight scale) and the test
// compares the largest-gradient entries of each tensor at 3% relative error.
func TestFullTrainingGradientsByFiniteDifferences(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name(), func(t *testing.T) {
			ids, shape := f.ints(t, "input_ids")
			labels, _ := f.ints(t, "labels")
			targets := shiftLabels(labels, shape[0], shape[1])
			ck, err := llama.OpenCheckpoint(f.dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ck.Close()
			m, err := llama.Load(ck, f.be, llama.LoadOptions{Trainable: true})
			if err != nil {
				t.Fatal(err)
			}
			params, err := m.TrainFull()
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := m.Loss(ids, targets, shape[0], shape[1], true, 1); err != nil {
				t.Fatal(err)
			}
			loss := func() float64 {
				l, _, _ := m.Loss(ids, targets, shape[0], shape[1], false, 1)
				return l
			}
			rng := rand.New(rand.NewPCG(7, 7))
			checked := 0
			for _, p := range params {
				// The entry with the largest gradient, plus one random entry.
				grad, value := hostValues(p.Grad), hostValues(p.Value)
				best := 0
				for i, g := range grad {
					if math.Abs(float64(g)) > math.Abs(float64(grad[best])) {
						best = i
					}
				}
				for _, i := range []int{best, rng.IntN(len(value))} {
					g := float64(grad[i])
					orig := value[i]
					h := float32(1e-2)
					setValue(p.Value, value, i, orig+h)
					up := loss()
					setValue(p.Value, value, i, orig-h)
					down := loss()
					setValue(p.Value, value, i, orig)
					fd := (up - down) / float64(2*h)
					if i == best && math.Abs(fd-g) > 0.03*math.Abs(g)+2e-5 {
						t.Errorf("%s[%d]: backward %.6g, finite difference %.6g", p.Name, i, g, fd)
					}
					if i != best && math.Abs(fd-g) > 0.03*math.Abs(float64(grad[best]))+2e-5 {
						t.Errorf("%s[%d] (random entry): backward %.6g, finite difference %.6g", p.Name, i, g, fd)
					}
					checked++
				}
			}
			t.Logf("%s: %d entries of %d parameter tensors agree with finite differences", f.name(), checked, len(params))

			// A few full-parameter AdamW steps lower the loss on this batch.
			before := loss()
			opt := train.NewAdamW(m.Backend, params, train.DefaultAdamW(), nil)
			for i := 0; i < 5; i++ {
				opt.ZeroGrad()
				m.Loss(ids, targets, shape[0], shape[1], true, 1)
				opt.Step()
			}
			if after := loss(); !(after < before-0.1) {
				t.Errorf("5 AdamW steps moved the loss from %.4f to %.4f", before, after)
			}
		})
	}
}

// hostValues downloads a backend tensor's numbers into a fresh host slice: tests reach
// the model's tensors through the backend, as the model does.
func hostValues(t *tensor.Tensor) []float32 {
	h := tensor.New(t.Shape...)
	t.Backend().Download(h, t)
	return h.F32
}

// setValue sets element i of t (whose host copy is vals) to v and uploads it.
func setValue(t *tensor.Tensor, vals []float32, i int, v float32) {
	vals[i] = v
	t.Backend().Upload(t, tensor.FromF32(vals, t.Shape...))
}

// TestTrainFullRefusesMappedWeights: without LoadOptions.Trainable an f32 checkpoint's
// matrices are the file's read-only mapping, so full training must be refused with an
// error (an AdamW step writing there would crash the process), on every backend.
func TestTrainFullRefusesMappedWeights(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name(), func(t *testing.T) {
			m := f.load(t, "model.safetensors")
			if _, err := m.TrainFull(); err == nil || !strings.Contains(err.Error(), "Trainable") {
				t.Fatalf("TrainFull on mapped weights: %v, want an error naming Trainable", err)
			}
		})
	}
}
