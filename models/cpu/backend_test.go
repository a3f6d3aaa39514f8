package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"seal/models/tensor"
)

// The op tests follow llm.c's test_gpt2.c: every backward is checked against a float64 reference, here by
// central finite differences of a float64 re-implementation of the op's forward (written from the
// PyTorch / transformers definition, independently of the backend's code), and every forward against
// the same reference.
//
// Gradient checks: the scalar loss is L = Σ_i R_i·y_i with R a fixed random tensor (so dL/dy = R is the
// dout fed to the backend's backward), the reference gradient of an input x is
// (L(x+h) − L(x−h)) / 2h per element with h = fdStep in float64, and the backend's float32 gradient
// (computed at the same inputs, which are float32 values) must satisfy, element by element,
//
//	|got − want| <= gradRTol·|want| + gradATol·max|want|
//
// float32 rounding in a backward is about 1e-6 of the gradient's scale and the float64 differences are
// good to about 1e-9 (truncation h² ≈ 1e-8 times a third derivative of order one, rounding 1e-16/h), so
// these tolerances leave a wide margin for the float32 side while still catching a gradient that is 1%
// wrong anywhere (TestGradCheckCatchesWrongGradients shows it).
const (
	fdStep   = 1e-4
	gradRTol = 1e-3
	gradATol = 1e-4
)

var be = New()

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5ea1)) }

// randF32 is n standard-normal float32 values times scale.
func randF32(r *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64() * scale)
	}
	return s
}

// roundBF16 rounds to nearest even bfloat16.
func roundBF16(v float32) uint16 {
	u := math.Float32bits(v)
	u += 0x7fff + (u>>16)&1
	return uint16(u >> 16)
}

func bf16Slice(s []float32) []uint16 {
	h := make([]uint16, len(s))
	for i, v := range s {
		h[i] = roundBF16(v)
	}
	return h
}

// f64s widens float32 values.
func f64s(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

// weightTensor makes an F32 or BF16 tensor from values and returns it with the float64 values it
// holds exactly (bf16-rounded when bf16).
func weightTensor(vals []float32, bf16 bool, shape ...int) (*tensor.Tensor, []float64) {
	if !bf16 {
		return tensor.FromF32(vals, shape...), f64s(vals)
	}
	h := bf16Slice(vals)
	w := make([]float64, len(h))
	for i, v := range h {
		w[i] = float64(math.Float32frombits(uint32(v) << 16))
	}
	return tensor.FromBF16(h, shape...), w
}

// dot64 is Σ a·b.
func dot64(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// fdGrad returns the central-difference gradient of loss with respect to x (x is perturbed in place
// and restored).
func fdGrad(x []float64, loss func() float64) []float64 {
	g := make([]float64, len(x))
	for i := range x {
		old := x[i]
		x[i] = old + fdStep
		lp := loss()
		x[i] = old - fdStep
		lm := loss()
		x[i] = old
		g[i] = (lp - lm) / (2 * fdStep)
	}
	return g
}

// gradError checks got against want with the tolerances above; it returns nil or an error naming the
// worst element.
func gradError(got []float32, want []float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	var scale float64
	for _, w := range want {
		scale = max(scale, math.Abs(w))
	}
	worst, at := 0.0, -1
	for i, w := range want {
		g := float64(got[i])
		tol := gradRTol*math.Abs(w) + gradATol*scale
		e := math.Abs(g - w)
		if !(e <= tol) { // NaN fails too
			if r := e / tol; at < 0 || r > worst || math.IsNaN(r) {
				worst, at = r, i
			}
		}
	}
	if at >= 0 {
		return fmt.Errorf("element %d: got %.9g, finite differences %.9g (error %.3g× the tolerance; gradient scale %.3g)",
			at, got[at], want[at], worst, scale)
	}
	return nil
}

// checkGrad reports a gradient mismatch as a test failure.
func checkGrad(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if err := gradError(got, want); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

// closeTo checks a forward result: |got − want| <= rtol·|want| + atol·max|want|.
func closeTo(t *testing.T, what string, got []float32, want []float64, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var scale float64
	for _, w := range want {
		scale = max(scale, math.Abs(w))
	}
	for i, w := range want {
		if e := math.Abs(float64(got[i]) - w); !(e <= rtol*math.Abs(w)+atol*scale) {
			t.Errorf("%s: element %d of %d: got %.9g, want %.9g (error %.3g, scale %.3g)", what, i, len(want), got[i], w, e, scale)
			return
		}
	}
}

// TestGradCheckCatchesWrongGradients shows the checker can fail: a correct gradient passes, and the
// same gradient 1% too large, with one element off by 1% of the scale, with one sign flipped, or
// with gorgonia's InverseSqrt factor of 3 (see docs/architecture.md) does not.
func TestGradCheckCatchesWrongGradients(t *testing.T) {
	r := newRNG(1)
	// A real op: RMSNorm, d(Σ R·out)/dx.
	const rows, D = 3, 7
	xs := randF32(r, rows*D, 1)
	ws := randF32(r, D, 1)
	R := randF32(r, rows*D, 1)
	x64, w64, R64 := f64s(xs), f64s(ws), f64s(R)
	want := fdGrad(x64, func() float64 { return dot64(R64, refRMSNorm(x64, w64, rows, D, 1e-5)) })
	out, rstd := tensor.New(rows, D), tensor.New(rows)
	be.RMSNorm(out, rstd, tensor.FromF32(xs, rows, D), tensor.FromF32(ws, D), 1e-5)
	dx := tensor.New(rows, D)
	be.RMSNormBackward(dx, nil, tensor.FromF32(R, rows, D), tensor.FromF32(xs, rows, D), tensor.FromF32(ws, D), rstd)
	if err := gradError(dx.F32, want); err != nil {
		t.Fatalf("the correct gradient fails the check: %v", err)
	}
	var scale float64
	big := 0
	for i, w := range want {
		if math.Abs(w) > scale {
			scale, big = math.Abs(w), i
		}
	}
	wrong := map[string]func(g []float32){
		"scaled by 1.01":              func(g []float32) { scaleF32(g, 1.01) },
		"one element off by 1%":       func(g []float32) { g[len(g)/2] += float32(0.01 * scale) },
		"largest element sign":        func(g []float32) { g[big] = -g[big] },
		"gorgonia InverseSqrt factor": func(g []float32) { scaleF32(g, 3) },
		"one element NaN":             func(g []float32) { g[0] = float32(math.NaN()) },
	}
	for name, spoil := range wrong {
		g := append([]float32(nil), dx.F32...)
		spoil(g)
		if err := gradError(g, want); err == nil {
			t.Errorf("%s: a wrong gradient passed the check", name)
		} else if !strings.Contains(err.Error(), "finite differences") {
			t.Errorf("%s: unexpected error text %q", name, err)
		}
	}
}

func TestExpf(t *testing.T) {
	// Every 211th float32 in [-104, 89], plus the edges: within 0.51 ulp of the exact e^x.
	worst := 0.0
	check := func(x float32) {
		got := expf(x)
		want := math.Exp(float64(x))
		w32 := float32(want)
		if math.IsInf(float64(w32), 1) {
			if !math.IsInf(float64(got), 1) && got != math.MaxFloat32 {
				t.Fatalf("expf(%g) = %g, want +Inf", x, got)
			}
			return
		}
		ulp := float64(math.Nextafter32(w32, float32(math.Inf(1))) - w32)
		if w32 == 0 {
			ulp = math.SmallestNonzeroFloat32
		}
		e := math.Abs(float64(got)-want) / ulp
		worst = max(worst, e)
		if e > 0.51 {
			t.Fatalf("expf(%g) = %g, want %g (%.2f ulp)", x, got, want, e)
		}
	}
	for _, lim := range []float32{-104, 89} {
		for u := uint32(0); ; u += 211 {
			x := math.Float32frombits(u)
			if lim < 0 {
				x = -x
			}
			if (lim < 0 && x < lim) || (lim > 0 && x > lim) {
				break
			}
			check(x)
		}
	}
	for _, x := range []float32{0, -0, 1, -1, 88.72283, 88.72284, -87.33655, -103.9, -104, -200, 100, math.MaxFloat32, -math.MaxFloat32} {
		check(x)
	}
	if expf(float32(math.Inf(1))) != float32(math.Inf(1)) || expf(float32(math.Inf(-1))) != 0 {
		t.Error("expf(±Inf)")
	}
	if x := expf(float32(math.NaN())); x == x {
		t.Error("expf(NaN) is not NaN")
	}
	t.Logf("worst error %.3f ulp", worst)
}

// TestExpShiftSum: the written-out copy of expf in expShiftSum gives expf's values bit for bit, odd
// lengths, extremes and NaN included, and their float64 sum.
func TestExpShiftSum(t *testing.T) {
	r := newRNG(11)
	for _, n := range []int{1, 2, 3, 17, 1000} {
		row := randF32(r, n, 40)
		row[0] = -1e30
		if n > 2 {
			row[1], row[2] = 1e30, 120
		}
		if n > 3 {
			row[3] = float32(math.NaN())
		}
		got := append([]float32(nil), row...)
		sum := expShiftSum(got, 20)
		var want float64
		for i, x := range row {
			e := expf(x - 20)
			want += float64(e)
			if math.Float32bits(got[i]) != math.Float32bits(e) && !(e != e && got[i] != got[i]) {
				t.Fatalf("n=%d element %d (x=%g): %g, expf gives %g", n, i, x-20, got[i], e)
			}
		}
		if n <= 3 && sum != want {
			t.Errorf("n=%d: sum %v, want %v", n, sum, want)
		}
	}
}

func TestBackendName(t *testing.T) {
	var b tensor.Backend = New()
	if b.Name() != "cpu" {
		t.Fatal(b.Name())
	}
}

// mustPanic runs f and fails unless it panics with a message containing want.
func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("no panic, want one mentioning %q", want)
			return
		}
		if msg := fmt.Sprint(r); !strings.Contains(msg, want) {
			t.Errorf("panic %q, want one mentioning %q", msg, want)
		}
	}()
	f()
}

// TestThreadCountInvariance: every op gives the same bits on one thread as on the pool (the reductions
// run in a fixed order), so a seeded run is reproducible on any machine.
func TestThreadCountInvariance(t *testing.T) {
	run := func() [][]float32 {
		r := newRNG(12)
		var res [][]float32
		// RMSNorm forward and backward (dw's column sums)
		const rows, D = 300, 200
		x, w := tensor.FromF32(randF32(r, rows*D, 1), rows, D), tensor.FromF32(randF32(r, D, 1), D)
		out, rstd, dx, dw := tensor.New(rows, D), tensor.New(rows), tensor.New(rows, D), tensor.New(D)
		be.RMSNorm(out, rstd, x, w, 1e-5)
		be.RMSNormBackward(dx, dw, tensor.FromF32(randF32(r, rows*D, 1), rows, D), x, w, rstd)
		db := tensor.New(D)
		be.BiasBackward(db, dx)
		res = append(res, out.F32, dx.F32, dw.F32, db.F32)
		// Attention forward and backward
		s := attnShape(2, 100, 100, 4, 2, 16)
		q, k, v := attnInputs(13, s)
		ao, lse := runAttention(s, q, k, v)
		dq, dk, dv := tensor.New(200, 64), tensor.New(200, 32), tensor.New(200, 32)
		be.AttentionBackward(dq, dk, dv, tensor.FromF32(randF32(r, 200*64, 1), 200, 64), ao, lse,
			tensor.FromF32(q, 200, 64), tensor.FromF32(k, 200, 32), tensor.FromF32(v, 200, 32), s)
		res = append(res, ao.F32, lse.F32, dq.F32, dk.F32, dv.F32)
		// CrossEntropy
		logits := tensor.FromF32(randF32(r, 64*1000, 2), 64, 1000)
		d := tensor.New(64, 1000)
		sum, _ := be.CrossEntropy(d, logits, ceLabels(14, 64, 1000), 0.1)
		res = append(res, d.F32, []float32{float32(sum), float32(sum - float64(float32(sum)))})
		return res
	}
	pool := run()
	prev := Threads()
	SetThreads(1)
	defer SetThreads(prev)
	one := run()
	for i := range pool {
		for j := range pool[i] {
			if math.Float32bits(pool[i][j]) != math.Float32bits(one[i][j]) {
				t.Fatalf("result %d element %d: %v with %d threads, %v with 1", i, j, pool[i][j], prev, one[i][j])
			}
		}
	}
}
