package backendtest

import (
	"fmt"
	"math"
	"testing"

	"seal/models/tensor"
)

// refCrossEntropy is Σ over rows with label >= 0 of logsumexp(x_i) − x_i,label, in float64.
func refCrossEntropy(x []float64, V int, labels []int32) (sum float64, count int) {
	for i, l := range labels {
		if l < 0 {
			continue
		}
		row := x[i*V : (i+1)*V]
		m := math.Inf(-1)
		for _, v := range row {
			m = max(m, v)
		}
		var z float64
		for _, v := range row {
			z += math.Exp(v - m)
		}
		sum += m + math.Log(z) - row[l]
		count++
	}
	return sum, count
}

func ceLabels(seed uint64, N, V int) []int32 {
	r := newRNG(seed)
	labels := make([]int32, N)
	for i := range labels {
		labels[i] = int32(r.IntN(V))
		if r.IntN(4) == 0 {
			labels[i] = -100 // ignore_index as transformers writes it
		}
	}
	if N > 1 {
		labels[0], labels[N-1] = -1, int32(V-1)
	}
	return labels
}

func testCrossEntropy(t *testing.T, be tensor.Backend) {
	for i, sh := range []struct{ N, V int }{{1, 1}, {1, 3}, {3, 5}, {7, 17}, {5, 64}, {33, 1000}, {200, 3001}} {
		name := fmt.Sprintf("N%d V%d", sh.N, sh.V)
		r := newRNG(uint64(50 + i))
		xs := randF32(r, sh.N*sh.V, 3)
		labels := ceLabels(uint64(70+i), sh.N, sh.V)
		if sh.N == 1 {
			labels[0] = int32(sh.V - 1)
		}
		const gradScale = 0.37
		x64 := f64s(xs)
		wantSum, wantCount := refCrossEntropy(x64, sh.V, labels)
		dt := filled(be, float32(math.NaN()), sh.N, sh.V) // written, ignored rows included
		sum, count := be.CrossEntropy(dt, up(be, xs, sh.N, sh.V), labels, gradScale)
		if count != wantCount || math.Abs(sum-wantSum) > 1e-6*math.Abs(wantSum)+1e-6*float64(count) {
			t.Errorf("%s: sum %v count %d, want %v %d", name, sum, count, wantSum, wantCount)
		}
		d := down(be, dt)
		// The loss without dlogits is the same.
		if s2, c2 := be.CrossEntropy(nil, up(be, xs, sh.N, sh.V), labels, gradScale); s2 != sum || c2 != count {
			t.Errorf("%s: without dlogits: %v %d, with: %v %d", name, s2, c2, sum, count)
		}
		// dlogits written over the logits: the same values.
		xt := up(be, xs, sh.N, sh.V)
		if s3, _ := be.CrossEntropy(xt, xt, labels, gradScale); s3 != sum {
			t.Errorf("%s: in place: sum %v, want %v", name, s3, sum)
		}
		if !equalBits(down(be, xt), d) {
			t.Fatalf("%s: in-place dlogits differ", name)
		}
		for row, l := range labels {
			if l >= 0 {
				continue
			}
			for _, v := range d[row*sh.V : (row+1)*sh.V] {
				if v != 0 {
					t.Fatalf("%s: ignored row %d has dlogits %v", name, row, v)
				}
			}
		}
		if sh.N*sh.V > 5000 {
			continue
		}
		want := fdGrad(x64, func() float64 {
			s, _ := refCrossEntropy(x64, sh.V, labels)
			return gradScale * s
		})
		checkGrad(t, name+" dlogits", d, want)
	}
}

// testCrossEntropyExtremes: huge and equal logits give finite losses (max subtraction),
// all-ignored labels give 0, 0.
func testCrossEntropyExtremes(t *testing.T, be tensor.Backend) {
	x := up(be, []float32{1e30, -1e30, 0, 88, 89, 200, 5, 5, 5}, 3, 3)
	sum, n := be.CrossEntropy(nil, x, []int32{1, 0, 2}, 1)
	// row 0: loss of −1e30 against 1e30 is 2e30; row 1: 200 − 88 + log(1 + e^-111 + e^-112) ≈ 112;
	// row 2: log 3.
	want := 2e30 + 112 + math.Log(3)
	if n != 3 || math.IsNaN(sum) || math.Abs(sum-want) > 1e-6*want {
		t.Errorf("got %v %d, want %v 3", sum, n, want)
	}
	if s, c := be.CrossEntropy(nil, x, []int32{-1, -1, -100}, 1); s != 0 || c != 0 {
		t.Errorf("all ignored: %v %d", s, c)
	}
}
