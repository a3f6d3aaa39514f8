package cpu

import (
	"fmt"
	"math"
	"testing"

	"seal/models/tensor"
)

// ropeTables builds cos and sin [maxPos, half] as transformers does (float32 inverse frequencies and
// angles, then cos and sin of the float32 angle).
func ropeTables(maxPos, half int, theta float64) (cos, sin *tensor.Tensor) {
	cos, sin = tensor.New(maxPos, half), tensor.New(maxPos, half)
	for i := 0; i < half; i++ {
		inv := float32(1 / math.Pow(theta, float64(2*i)/float64(2*half)))
		for p := 0; p < maxPos; p++ {
			a := float32(p) * inv
			cos.F32[p*half+i] = float32(math.Cos(float64(a)))
			sin.F32[p*half+i] = float32(math.Sin(float64(a)))
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

func TestRoPEForward(t *testing.T) {
	r := newRNG(7)
	cos, sin := ropeTables(300, 32, 10000)
	for _, sh := range ropeShapes {
		c, s := ropeTables(300, sh.half, 500000)
		if sh.half == 32 {
			c, s = cos, sin
		}
		pos := make([]int32, sh.rows)
		for i := range pos {
			pos[i] = int32(r.IntN(300))
		}
		xs := randF32(r, sh.rows*sh.heads*2*sh.half, 1)
		want := refRoPE(f64s(xs), sh.rows, sh.heads, sh.half, pos, f64s(c.F32), f64s(s.F32))
		x := tensor.FromF32(append([]float32(nil), xs...), sh.rows, sh.heads*2*sh.half)
		be.RoPE(x, sh.heads, pos, c, s)
		// two products and a sum, each rounded: a few ulp of the terms (|x|·1)
		closeTo(t, fmt.Sprint(sh), x.F32, want, 1e-6, 2e-7)
		// The backward undoes the forward (the rotation is orthogonal): up to rounding.
		be.RoPEBackward(x, sh.heads, pos, c, s)
		closeTo(t, fmt.Sprint(sh)+" inverse", x.F32, f64s(xs), 1e-6, 2e-7)
	}
}

// TestRoPEExactRounding pins torch's rounding: float32(x1·c) − float32(x2·s), no fused multiply-add.
func TestRoPEExactRounding(t *testing.T) {
	r := newRNG(8)
	c, s := ropeTables(16, 4, 10000)
	xs := randF32(r, 8, 1)
	x := tensor.FromF32(append([]float32(nil), xs...), 1, 8)
	be.RoPE(x, 1, []int32{11}, c, s)
	for i := 0; i < 4; i++ {
		cc, ss := c.F32[11*4+i], s.F32[11*4+i]
		w1 := float32(xs[i]*cc) - float32(xs[i+4]*ss)
		w2 := float32(xs[i+4]*cc) + float32(xs[i]*ss)
		if x.F32[i] != w1 || x.F32[i+4] != w2 {
			t.Fatalf("pair %d: got %v %v, want %v %v", i, x.F32[i], x.F32[i+4], w1, w2)
		}
	}
}

func TestRoPEGrad(t *testing.T) {
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
		x64, R64, c64, s64 := f64s(xs), f64s(R), f64s(c.F32), f64s(s.F32)
		want := fdGrad(x64, func() float64 { return dot64(R64, refRoPE(x64, sh.rows, sh.heads, sh.half, pos, c64, s64)) })
		dx := tensor.FromF32(append([]float32(nil), R...), sh.rows, sh.heads*2*sh.half)
		be.RoPEBackward(dx, sh.heads, pos, c, s)
		checkGrad(t, fmt.Sprint(sh), dx.F32, want)
	}
}

func TestRoPEPanics(t *testing.T) {
	c, s := ropeTables(4, 2, 10000)
	mustPanic(t, "outside the tables", func() { be.RoPE(tensor.New(1, 4), 1, []int32{4}, c, s) })
	mustPanic(t, "heads", func() { be.RoPE(tensor.New(1, 6), 1, []int32{0}, c, s) })
	mustPanic(t, "positions", func() { be.RoPE(tensor.New(2, 4), 1, []int32{0}, c, s) })
}
