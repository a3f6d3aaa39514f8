package llama_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seal/internal/shareddata"
	"seal/models/llama"
	"seal/models/llama/llamatest"
	"seal/models/lora"
	"seal/models/safetensors"
	"seal/models/tensor"
	"seal/models/tensor/stricttest"
	"seal/models/train"
)

// Tolerances against transformers + peft (float32 on the reference side):
//   - f32 weights: logits within 2e-4 absolute; loss within 1e-5 relative; LoRA gradients
//     within 1e-4 of the largest gradient magnitude of the tensor, elementwise; LoRA weights
//     after one AdamW step within 1e-6 absolute (steps are about lr = 1e-3).
//   - bf16 weights against the same f32 reference: the rounding of every weight to bf16
//     moves the logits; measured 5.0e-3 at most on both fixtures, tolerance 1e-2.
const (
	logitTolF32  = 2e-4
	logitTolBF16 = 1e-2
	lossRelTol   = 1e-5
	gradRelTol   = 1e-4
	adamTol      = 1e-6
)

type fixture struct {
	dir      string
	expected *safetensors.File
	be       tensor.Backend // what the model computes on
}

// fixtures finds every golden model folder (a config.json beside an expected.safetensors),
// so a folder dropped in later is checked with no code change. Each folder comes twice:
// on the test backend (llamatest.Backend, $SEAL_TEST_DEVICE) and on the strict backend,
// whose memory the host cannot read, named "<folder>@strict": parity there proves that
// no model code reaches tensor data around the backend.
func fixtures(t *testing.T) []fixture {
	t.Helper()
	root, err := shareddata.Golden()
	if err != nil {
		t.Fatal(err)
	}
	cfgs, _ := filepath.Glob(filepath.Join(root, "*", "config.json"))
	var out []fixture
	for _, c := range cfgs {
		dir := filepath.Dir(c)
		exp, err := safetensors.Open(filepath.Join(dir, "expected.safetensors"))
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		t.Cleanup(func() { exp.Close() })
		out = append(out, fixture{dir: dir, expected: exp, be: llamatest.Backend()})
	}
	if llamatest.Backend().Name() != "strict" {
		for _, f := range out[:len(out):len(out)] {
			f.be = stricttest.New()
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no golden model folders under %s", root)
	}
	return out
}

func (f fixture) name() string {
	if f.be.Name() == "strict" && llamatest.Backend().Name() != "strict" {
		return filepath.Base(f.dir) + "@strict"
	}
	return filepath.Base(f.dir)
}

func (f fixture) ints(t *testing.T, name string) ([]int32, []int) {
	t.Helper()
	v, err := f.expected.Int64(name)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := f.expected.Info(name)
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out, info.Shape
}

func (f fixture) floats(t *testing.T, name string) []float32 {
	t.Helper()
	v, err := f.expected.Float32(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (f fixture) load(t *testing.T, weights string) *llama.Model {
	t.Helper()
	ck, err := llama.OpenCheckpoint(f.dir, weights)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ck.Close() })
	m, err := llama.Load(ck, f.be, llama.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func maxAbsDiff(a, b []float32) (float64, int) {
	worst, at := 0.0, -1
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	return worst, at
}

func TestGoldenLogits(t *testing.T) {
	for _, f := range fixtures(t) {
		ids, shape := f.ints(t, "input_ids")
		want := f.floats(t, "logits")
		for _, w := range []struct {
			file string
			tol  float64
		}{{"model.safetensors", logitTolF32}, {"model.bf16.safetensors", logitTolBF16}} {
			if _, err := os.Stat(filepath.Join(f.dir, w.file)); err != nil {
				continue
			}
			t.Run(f.name()+"/"+w.file, func(t *testing.T) {
				m := f.load(t, w.file)
				got, err := m.Forward(ids, shape[0], shape[1], nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				d, at := maxAbsDiff(got.F32, want)
				if d > w.tol {
					t.Fatalf("logits differ by %.3g at %d (tolerance %g)", d, at, w.tol)
				}
				t.Logf("%s %s: %d logits, max |diff| %.2g", f.name(), w.file, len(want), d)
			})
		}
	}
}

func TestGoldenGreedyGeneration(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name(), func(t *testing.T) {
			prompt, _ := f.ints(t, "gen_prompt")
			want, _ := f.ints(t, "gen_greedy")
			m := f.load(t, "model.safetensors")
			cache := m.NewCache(1, len(want))
			got := append([]int32(nil), prompt...)
			logits, err := m.Forward(prompt, 1, len(prompt), cache, []int{len(prompt) - 1})
			if err != nil {
				t.Fatal(err)
			}
			for len(got) < len(want) {
				next := argmax(logits.F32)
				got = append(got, next)
				if len(got) == len(want) {
					break
				}
				if logits, err = m.Forward([]int32{next}, 1, 1, cache, nil); err != nil {
					t.Fatal(err)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("greedy tokens\n got %v\nwant %v", got, want)
			}
			t.Logf("%s: %d greedy tokens match token for token", f.name(), len(want)-len(prompt))
		})
	}
}

func argmax(v []float32) int32 {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return int32(best)
}

func TestGoldenLoRALogitsLossAndGradients(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name(), func(t *testing.T) {
			ids, shape := f.ints(t, "input_ids")
			labels, _ := f.ints(t, "labels")
			m := f.load(t, "model.safetensors")
			a, err := lora.Load(filepath.Join(f.dir, "adapter"))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.SetAdapter(a); err != nil {
				t.Fatal(err)
			}
			got, err := m.Forward(ids, shape[0], shape[1], nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d, at := maxAbsDiff(got.F32, f.floats(t, "lora_logits")); d > logitTolF32 {
				t.Fatalf("LoRA logits differ by %.3g at %d", d, at)
			}

			params, err := m.TrainLoRA()
			if err != nil {
				t.Fatal(err)
			}
			loss, n, err := m.Loss(ids, shiftLabels(labels, shape[0], shape[1]), shape[0], shape[1], true, 1)
			if err != nil {
				t.Fatal(err)
			}
			wantLoss := float64(f.floats(t, "loss")[0])
			if math.Abs(loss-wantLoss) > lossRelTol*math.Abs(wantLoss) {
				t.Fatalf("loss %.7f, want %.7f (%d scored tokens)", loss, wantLoss, n)
			}

			grads, err := safetensors.Open(filepath.Join(f.dir, "lora_grads.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer grads.Close()
			if len(grads.Names()) != len(params) {
				t.Fatalf("%d gradients in the fixture, %d trainable tensors", len(grads.Names()), len(params))
			}
			checkLoRAGrads(t, grads, params, gradRelTol)
			t.Logf("%s: LoRA logits, loss %.6f and %d gradient tensors match", f.name(), loss, len(params))

			// One AdamW step with torch's defaults (lr 1e-3, betas 0.9/0.999, eps 1e-8,
			// weight decay 0.01; no clipping), as the fixture was made. It steps on the
			// reference gradients: where |g| is near eps the step lr·g/(|g|+eps) amplifies
			// the 1e-4 gradient tolerance above, and this checks the optimizer alone.
			for _, p := range params {
				ref, _ := grads.Float32(strings.TrimPrefix(p.Name, "base_model.model."))
				p.Grad.Backend().Upload(p.Grad, tensor.FromF32(ref, p.Grad.Shape...))
			}
			cfg := train.DefaultAdamW()
			cfg.MaxGradNorm = 0
			train.NewAdamW(m.Backend, params, cfg, nil).Step()
			after, err := safetensors.Open(filepath.Join(f.dir, "lora_after_adamw_step.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer after.Close()
			for _, p := range params {
				name := strings.TrimPrefix(p.Name, "base_model.model.")
				want, err := after.Float32(name)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				// The first AdamW step moves each weight by about lr·sign(g); float32
				// rounding of p − lr·… gives differences of a few ulp of p.
				if d, at := maxAbsDiff(hostValues(p.Value), want); d > adamTol {
					t.Errorf("%s after one AdamW step differs by %.3g at %d", name, d, at)
				}
			}
			t.Logf("%s: LoRA weights after one AdamW step match", f.name())
		})
	}
}

// shiftLabels turns HF labels (aligned with inputs) into per-position targets.
func shiftLabels(labels []int32, B, T int) []int32 {
	out := make([]int32, len(labels))
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			out[b*T+t] = -100
			if t+1 < T {
				out[b*T+t] = labels[b*T+t+1]
			}
		}
	}
	return out
}

// checkLoRAGrads holds each trained tensor's gradient to the fixture's (lora_grads.safetensors), within
// relTol of that tensor's largest reference gradient, and returns the worst difference in those units.
func checkLoRAGrads(t *testing.T, grads *safetensors.File, params []*train.Param, relTol float64) (worst float64) {
	t.Helper()
	for _, p := range params {
		name := strings.TrimPrefix(p.Name, "base_model.model.")
		want, err := grads.Float32(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		scale := 0.0
		for _, v := range want {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		d, at := maxAbsDiff(hostValues(p.Grad), want)
		if d > relTol*scale || scale == 0 {
			t.Errorf("%s: gradient differs by %.3g at %d (largest |g| %.3g)", name, d, at, scale)
		}
		worst = math.Max(worst, d/scale)
	}
	return worst
}
