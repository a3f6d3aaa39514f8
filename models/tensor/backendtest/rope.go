package backendtest

import (
	"fmt"
	"math"
	"testing"

	"seal/models/tensor"
)

// ropeTables builds cos and sin [maxPos, half] as transformers does (float32 inverse
// frequencies and angles, then cos and sin of the float32 angle), on the host.
func ropeTables(maxPos, half int, theta float64) (cos, sin []float32) {
	cos, sin = make([]float32, maxPos*half), make([]float32, maxPos*half)
	for i := 0; i < half; i++ {
		inv := float32(1 / math.Pow(theta, float64(2*i)/float64(2*half)))
		for p := 0; p < maxPos; p++ {
			a := float32(p) * inv
			cos[p*half+i] = float32(math.Cos(float64(a)))
			sin[p*half+i] = float32(math.Sin(float64(a)))
		}
	}
	return cos, sin
}

// refRoPE is q·cos + rotate_half(q)·sin with the duplicated tables [cos, cos], [sin, sin], in float64.
func refRoPE(x []float64, rows, heads, half int, pos []int32, cos, sin []float64) []float64 {
	out := make([]float64, len(x))
	hd := 2 * half
	for r := 0; r < rows; r++ {
		p := int(pos[r])
		for h := 0; h < heads; h++ {
			o := r*heads*hd + h*hd
			for i := 0; i < hd; i++ {
				c, s := cos[p*half+i%half], sin[p*half+i%half]
				var rot float64 // rotate_half(x) = cat(−x2, x1)
				if i < half {
					rot = -x[o+i+half]
				} else {
					rot = x[o+i-half]
				}
				out[o+i] = x[o+i]*c + rot*s
			}
		}
	}
	return out
}

var ropeShapes = []struct{ rows, heads, half int }{{1, 1, 1}, {3, 1, 2}, {5, 3, 4}, {7, 4, 3}, {17, 2, 8}, {64, 9, 32}, {256, 8, 32}}

func testRoPEForward(t *testing.T, be tensor.Backend) {
	r := newRNG(7)
	for _, sh := range ropeShapes {
		theta := 500000.0
		if sh.half == 32 {
			theta = 10000
		}
		c, s := ropeTables(300, sh.half, theta)
		ct, st := up(be, c, 300, sh.half), up(be, s, 300, sh.half)
		pos := make([]int32, sh.rows)
		for i := range pos {
			pos[i] = int32(r.IntN(300))
		}
		xs := randF32(r, sh.rows*sh.heads*2*sh.half, 1)
		want := refRoPE(f64s(xs), sh.rows, sh.heads, sh.half, pos, f64s(c), f64s(s))
		x := up(be, xs, sh.rows, sh.heads*2*sh.half)
		be.RoPE(x, sh.heads, pos, ct, st)
		// two products and a sum, each rounded: a few ulp of the terms (|x|·1)
		closeTo(t, fmt.Sprint(sh), down(be, x), want, 1e-6, 2e-7)
		// The backward undoes the forward (the rotation is orthogonal): up to rounding.
		be.RoPEBackward(x, sh.heads, pos, ct, st)
		closeTo(t, fmt.Sprint(sh)+" inverse", down(be, x), f64s(xs), 1e-6, 2e-7)
	}
}

// testRoPEExactRounding pins torch's rounding: float32(x1·c) − float32(x2·s), no fused
// multiply-add.
func testRoPEExactRounding(t *testing.T, be tensor.Backend) {
	r := newRNG(8)
	c, s := ropeTables(16, 4, 10000)
	xs := randF32(r, 8, 1)
	x := up(be, xs, 1, 8)
	be.RoPE(x, 1, []int32{11}, up(be, c, 16, 4), up(be, s, 16, 4))
	got := down(be, x)
	for i := 0; i < 4; i++ {
		cc, ss := c[11*4+i], s[11*4+i]
		w1 := float32(xs[i]*cc) - float32(xs[i+4]*ss)
		w2 := float32(xs[i+4]*cc) + float32(xs[i]*ss)
		if got[i] != w1 || got[i+4] != w2 {
			t.Fatalf("pair %d: got %v %v, want %v %v", i, got[i], got[i+4], w1, w2)
		}
	}
}

func testRoPEGrad(t *testing.T, be tensor.Backend) {
	r := newRNG(9)
	for _, sh := range ropeShapes[:5] {
		c, s := ropeTables(40, sh.half, 10000)
		pos := make([]int32, sh.rows)
		for i := range pos {
			pos[i] = int32(r.IntN(40))
		}
		n := sh.rows * sh.heads * 2 * sh.half
		xs := randF32(r, n, 1)
		R := randF32(r, n, 1)
		x64, R64, c64, s64 := f64s(xs), f64s(R), f64s(c), f64s(s)
		want := fdGrad(x64, func() float64 { return dot64(R64, refRoPE(x64, sh.rows, sh.heads, sh.half, pos, c64, s64)) })
		dx := up(be, R, sh.rows, sh.heads*2*sh.half)
		be.RoPEBackward(dx, sh.heads, pos, up(be, c, 40, sh.half), up(be, s, 40, sh.half))
		checkGrad(t, fmt.Sprint(sh), down(be, dx), want)
	}
}
