package cpu

import (
	"fmt"

	"seal/models/tensor"
)

// RoPE rotates x [rows, heads·hd] in place with Hugging Face's rotate_half layout (GPT-NeoX style): in
// each head the pairs are (x[i], x[i+hd/2]) for i < hd/2, and row r is at position pos[r]:
//
//	x1' = x1·cos − x2·sin
//	x2' = x2·cos + x1·sin        cos, sin = tables [maxPos, hd/2] (F32) at row pos[r], column i
//
// which is q·cos + rotate_half(q)·sin with transformers' duplicated [cos, cos] tables. Each product is
// rounded to float32 before the sum, as torch's separate multiply and add kernels do (no fused
// multiply-add). A position outside the tables panics.
func (*Backend) RoPE(x *tensor.Tensor, heads int, pos []int32, cos, sin *tensor.Tensor) {
	rope("RoPE", x, heads, pos, cos, sin, false)
}

// RoPEBackward applies the inverse (transposed) rotation to dx in place: the gradient of the rotation
// above, dx1 = d1·cos + d2·sin, dx2 = d2·cos − d1·sin.
func (*Backend) RoPEBackward(dx *tensor.Tensor, heads int, pos []int32, cos, sin *tensor.Tensor) {
	rope("RoPEBackward", dx, heads, pos, cos, sin, true)
}

func rope(op string, x *tensor.Tensor, heads int, pos []int32, cos, sin *tensor.Tensor, inverse bool) {
	xs := f32(op, "x", x)
	cs := f32(op, "cos", cos)
	sn := f32(op, "sin", sin)
	rows, cols := x.Rows(), x.Cols()
	half := cos.Cols()
	maxPos := cos.Rows()
	if heads <= 0 || cols != heads*2*half {
		panic(fmt.Sprintf("cpu: %s: x %v is not %d heads of 2×%d (cos %v)", op, x.Shape, heads, half, cos.Shape))
	}
	sameLen(op, "cos", "sin", cos, sin)
	if len(pos) != rows {
		panic(fmt.Sprintf("cpu: %s: %d positions for %d rows", op, len(pos), rows))
	}
	for r, p := range pos {
		if p < 0 || int(p) >= maxPos {
			panic(fmt.Sprintf("cpu: %s: pos[%d] = %d is outside the tables' %d positions", op, r, p, maxPos))
		}
	}
	if runsInline(rows, rows*cols) {
		ropeRows(xs, cs, sn, pos, cols, half, heads, inverse, 0, rows)
		return
	}
	args := ropeArgs{xs: xs, cs: cs, sn: sn, pos: pos, cols: cols, half: half, heads: heads, inverse: inverse}
	parallelRange(&ropeOps, rows, rows*cols, args, func(a *ropeArgs, r0, r1 int) {
		ropeRows(a.xs, a.cs, a.sn, a.pos, a.cols, a.half, a.heads, a.inverse, r0, r1)
	})
}

type ropeArgs struct {
	xs, cs, sn        []float32
	pos               []int32
	cols, half, heads int
	inverse           bool
}

var ropeOps opPool[ropeArgs]

func ropeRows(xs, cs, sn []float32, pos []int32, cols, half, heads int, inverse bool, r0, r1 int) {
	hd := 2 * half
	for r := r0; r < r1; r++ {
		p := int(pos[r])
		c := cs[p*half : (p+1)*half]
		s := sn[p*half : (p+1)*half]
		for h := 0; h < heads; h++ {
			x1 := xs[r*cols+h*hd : r*cols+h*hd+half]
			x2 := xs[r*cols+h*hd+half : r*cols+(h+1)*hd]
			x2 = x2[:len(x1)]
			c, s := c[:len(x1)], s[:len(x1)]
			if inverse {
				for i, a := range x1 {
					b := x2[i]
					x1[i] = float32(a*c[i]) + float32(b*s[i])
					x2[i] = float32(b*c[i]) - float32(a*s[i])
				}
				continue
			}
			for i, a := range x1 {
				b := x2[i]
				x1[i] = float32(a*c[i]) - float32(b*s[i])
				x2[i] = float32(b*c[i]) + float32(a*s[i])
			}
		}
	}
}
