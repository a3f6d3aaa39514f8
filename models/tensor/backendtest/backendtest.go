// Package backendtest is the conformance suite every tensor.Backend runs: each op's
// forward against a float64 reference written from the PyTorch / transformers
// definition (independently of any backend's code), on random shapes with odd sizes,
// and each backward against central finite differences of that reference, in the
// manner of llm.c's test_gpt2.c. A backend's own test calls Run:
//
//	func TestConformance(t *testing.T) { backendtest.Run(t, mybackend.New()) }
//
// The suite reaches tensor data only through the backend (Alloc, Upload, Download), so
// it runs unchanged on a device whose memory the host cannot read. Golden-fixture
// parity of whole models is in models/llama/golden_test.go, which takes its backend
// from the registry (llamatest.Backend, $SEAL_TEST_DEVICE).
//
// # Tolerances
//
// Forward checks are |got − want| <= rtol·|want| + atol·max|want|, with rtol and atol
// stated at each check from the float32 roundings the op makes (a few ulp: 1e-7 to
// 1e-5 relative). BF16 operands (frozen weights) are compared against a reference that
// takes the bf16-rounded values exactly, so they carry the same tolerances as F32: a
// backend must widen bf16 exactly, not compute in bf16. Ops specified to round as torch
// does (RoPE, RMSNorm, AdamW's lerp) are pinned bit for bit on hand-worked cases.
//
// Gradient checks: the loss is L = Σ R·y with R a fixed random tensor (so dL/dy = R is
// the dout fed to the backward), the reference gradient of an input is
// (L(x+h) − L(x−h)) / 2h per element with h = 1e-4 in float64, and the backend's
// float32 gradient must satisfy, element by element,
//
//	|got − want| <= 1e-3·|want| + 1e-4·max|want|
//
// float32 rounding in a backward is about 1e-6 of the gradient's scale and the float64
// differences are good to about 1e-9, so this leaves a wide margin for the float32 side
// while catching a gradient 1% wrong anywhere (TestGradCheckCatchesWrongGradients).
package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"seal/models/tensor"
)

const (
	fdStep   = 1e-4
	gradRTol = 1e-3
	gradATol = 1e-4
)

// checks are the suite's parts, one subtest each, named after the op they prove.
var checks = []struct {
	name string
	run  func(t *testing.T, be tensor.Backend)
}{
	{"Memory", testMemory},
	{"CopyRows", testCopyRows},
	{"UploadSharedZero", testUploadSharedZero},
	{"Views", testViews},
	{"MatMul", testMatMul},
	{"MatMulViews", testMatMulViews},
	{"MatMulBF16", testMatMulBF16},
	{"Embedding", testEmbedding},
	{"EmbeddingBackwardLarge", testEmbeddingBackwardLarge},
	{"RMSNorm", testRMSNormForward},
	{"RMSNormTorchRounding", testRMSNormTorchRounding},
	{"RMSNormGrad", testRMSNormGrad},
	{"RoPE", testRoPEForward},
	{"RoPEExactRounding", testRoPEExactRounding},
	{"RoPEGrad", testRoPEGrad},
	{"Attention", testAttentionForward},
	{"AttentionDecodeMatchesFull", testAttentionDecodeMatchesFull},
	{"AttentionGrad", testAttentionGrad},
	{"SwiGLU", testSwiGLU},
	{"SwiGLUExtremes", testSwiGLUExtremes},
	{"Bias", testBias},
	{"AddScaleSumSquares", testAddScaleSumSquares},
	{"Dropout", testDropout},
	{"CrossEntropy", testCrossEntropy},
	{"CrossEntropyExtremes", testCrossEntropyExtremes},
	{"AdamW", testAdamW},
	{"AdamWFirstStepSign", testAdamWFirstStepSign},
}

// Run checks every op of be, each as a subtest.
func Run(t *testing.T, be tensor.Backend) {
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.run(t, be) })
	}
}

// RunCheck runs the one check of the suite named name (as in Run's subtests), for a backend that
// runs it again under other settings (the CPU backend with its kernels forced); it fails t for an
// unknown name.
func RunCheck(t *testing.T, be tensor.Backend, name string) {
	for _, c := range checks {
		if c.name == name {
			c.run(t, be)
			return
		}
	}
	t.Fatalf("backendtest: no check named %q", name)
}

// testMemory: what is uploaded comes back, in both dtypes, and Alloc gives zeros.
func testMemory(t *testing.T, be tensor.Backend) {
	r := newRNG(1)
	for _, n := range []int{1, 7, 1001} {
		xs := randF32(r, n, 1)
		if got := down(be, up(be, xs, n)); !equalBits(got, xs) {
			t.Errorf("F32 n=%d: upload then download changed the values", n)
		}
		h := bf16Slice(xs)
		b := be.Alloc(tensor.BF16, n)
		be.Upload(b, tensor.FromBF16(h, n))
		back := tensor.FromBF16(make([]uint16, n), n)
		be.Download(back, b)
		for i := range h {
			if back.BF16[i] != h[i] {
				t.Fatalf("BF16 n=%d: element %d came back %#x, went up %#x", n, i, back.BF16[i], h[i])
			}
		}
		for i, v := range down(be, be.Alloc(tensor.F32, 3, n)) {
			if v != 0 {
				t.Fatalf("Alloc n=%d: element %d is %v, not zero", n, i, v)
			}
		}
		be.Free(b)
	}
}

// testCopyRows: rows land where asked, in both dtypes, and nothing else moves.
func testCopyRows(t *testing.T, be tensor.Backend) {
	r := newRNG(2)
	const rows, cols = 9, 5
	src, dst0 := randF32(r, rows*cols, 1), randF32(r, rows*cols, 1)
	for _, c := range []struct{ dstRow, srcRow, n int }{{0, 0, rows}, {3, 1, 4}, {8, 0, 1}, {2, 7, 2}, {4, 4, 0}} {
		dst := up(be, dst0, rows, cols)
		be.CopyRows(dst, c.dstRow, up(be, src, rows, cols), c.srcRow, c.n)
		want := append([]float32(nil), dst0...)
		copy(want[c.dstRow*cols:(c.dstRow+c.n)*cols], src[c.srcRow*cols:(c.srcRow+c.n)*cols])
		if got := down(be, dst); !equalBits(got, want) {
			t.Errorf("%+v: got %v, want %v", c, got, want)
		}
		// bf16, into a tensor of another row count
		h := bf16Slice(src)
		db := be.Alloc(tensor.BF16, 2*rows, cols)
		be.CopyRows(db, rows+c.dstRow, upBF16(be, h, rows, cols), c.srcRow, c.n)
		back := tensor.FromBF16(make([]uint16, 2*rows*cols), 2*rows, cols)
		be.Download(back, db)
		for i, v := range back.BF16 {
			w := uint16(0)
			if row := i / cols; row >= rows+c.dstRow && row < rows+c.dstRow+c.n {
				w = h[(row-rows-c.dstRow+c.srcRow)*cols+i%cols]
			}
			if v != w {
				t.Fatalf("%+v bf16: element %d is %#x, want %#x", c, i, v, w)
			}
		}
	}
}

// testUploadSharedZero: UploadShared holds the host tensor's numbers, in both dtypes; the
// result belongs to the backend; Zero clears a tensor, NaN included, and nothing else.
func testUploadSharedZero(t *testing.T, be tensor.Backend) {
	r := newRNG(3)
	xs := randF32(r, 13, 1)
	f := be.UploadShared(tensor.FromF32(append([]float32(nil), xs...), 13))
	if f.Backend() == nil || f.Backend().Name() != be.Name() {
		t.Fatalf("UploadShared's tensor lives on %v, not on %s", f.Backend(), be.Name())
	}
	if got := down(be, f); !equalBits(got, xs) {
		t.Fatalf("UploadShared F32: got %v, want %v", got, xs)
	}
	h := bf16Slice(xs)
	b := be.UploadShared(tensor.FromBF16(append([]uint16(nil), h...), 13))
	back := tensor.FromBF16(make([]uint16, 13), 13)
	be.Download(back, b)
	for i := range h {
		if back.BF16[i] != h[i] {
			t.Fatalf("UploadShared BF16: element %d came back %#x, went up %#x", i, back.BF16[i], h[i])
		}
	}
	nan := append([]float32(nil), xs...)
	nan[4] = float32(math.NaN())
	z, keep := up(be, nan, 13), up(be, xs, 13)
	be.Zero(z)
	for i, v := range down(be, z) {
		if math.Float32bits(v) != 0 {
			t.Fatalf("Zero: element %d is %v", i, v)
		}
	}
	if !equalBits(down(be, keep), xs) {
		t.Fatal("Zero changed another tensor")
	}
}

// testViews: views (Sub, View, RowRange) are the backend's memory at an offset: ops read
// and write through them, and a view's write shows in the tensor it views.
func testViews(t *testing.T, be tensor.Backend) {
	r := newRNG(4)
	const rows, cols = 7, 3
	xs := randF32(r, rows*cols, 1)
	x := up(be, xs, rows, cols)
	if got := down(be, x.RowRange(2, 5)); !equalBits(got, xs[2*cols:5*cols]) {
		t.Fatalf("RowRange(2, 5): got %v, want %v", got, xs[2*cols:5*cols])
	}
	v := x.RowRange(1, 4).View(cols, 3)
	be.Scale(v, 2)
	want := append([]float32(nil), xs...)
	for i := cols; i < 4*cols; i++ {
		want[i] *= 2
	}
	if got := down(be, x); !equalBits(got, want) {
		t.Fatalf("Scale through a view: got %v, want %v", got, want)
	}
	sub := x.Sub(5*cols, []int{2 * cols})
	be.Zero(&sub)
	for i := 5 * cols; i < rows*cols; i++ {
		want[i] = 0
	}
	if got := down(be, x); !equalBits(got, want) {
		t.Fatalf("Zero through Sub: got %v, want %v", got, want)
	}
	be.CopyRows(x.RowRange(3, 7), 0, x, 0, 1) // row 0 into row 3
	copy(want[3*cols:4*cols], want[:cols])
	if got := down(be, x); !equalBits(got, want) {
		t.Fatalf("CopyRows into a view: got %v, want %v", got, want)
	}
}

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5ea1)) }

// randF32 is n standard-normal float32 values times scale.
func randF32(r *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64() * scale)
	}
	return s
}

// up puts host values on the backend as an F32 tensor of the given shape.
func up(be tensor.Backend, vals []float32, shape ...int) *tensor.Tensor {
	t := be.Alloc(tensor.F32, shape...)
	be.Upload(t, tensor.FromF32(vals, shape...))
	return t
}

// upBF16 puts bf16 values on the backend.
func upBF16(be tensor.Backend, vals []uint16, shape ...int) *tensor.Tensor {
	t := be.Alloc(tensor.BF16, shape...)
	be.Upload(t, tensor.FromBF16(vals, shape...))
	return t
}

// zeros is a zeroed F32 tensor on the backend.
func zeros(be tensor.Backend, shape ...int) *tensor.Tensor { return be.Alloc(tensor.F32, shape...) }

// filled is an F32 tensor on the backend with every element v (NaN marks "must be written").
func filled(be tensor.Backend, v float32, shape ...int) *tensor.Tensor {
	s := make([]float32, tensor.Numel(shape))
	for i := range s {
		s[i] = v
	}
	return up(be, s, shape...)
}

// down copies an F32 tensor's values to the host.
func down(be tensor.Backend, t *tensor.Tensor) []float32 {
	h := tensor.New(t.Shape...)
	be.Download(h, t)
	return h.F32
}

func equalBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
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

// weightTensor puts values on the backend as an F32 or BF16 tensor and returns it with
// the float64 values it holds exactly (bf16-rounded when bf16).
func weightTensor(be tensor.Backend, vals []float32, bf16 bool, shape ...int) (*tensor.Tensor, []float64) {
	if !bf16 {
		return up(be, vals, shape...), f64s(vals)
	}
	h := bf16Slice(vals)
	w := make([]float64, len(h))
	for i, v := range h {
		w[i] = float64(math.Float32frombits(uint32(v) << 16))
	}
	return upBF16(be, h, shape...), w
}

// dot64 is Σ a·b.
func dot64(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// fdGrad returns the central-difference gradient of loss with respect to x (x is
// perturbed in place and restored).
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

// gradError checks got against want with the tolerances above; it returns nil or an
// error naming the worst element.
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

// sub32 returns a − b elementwise as float32 (a gradient added to a known start).
func sub32(a, b []float32) []float32 {
	d := make([]float32, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return d
}
