package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"seal/models/tensor"
)

// The op tests that every backend must pass (forward against float64 references, backward against
// finite differences, AdamW against torch) are the conformance suite in models/tensor/backendtest,
// run by TestConformance; the tests here are the CPU's own: its panics on misuse, its exp, its
// thread-count invariance and its benchmarks.

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
