package cpu

import (
	"fmt"

	"seal/models/tensor"
)

// AddBias adds bias [cols] (F32, or BF16 as checkpoints store Qwen2's attention biases) to every row of
// x (F32, cols = x.Cols()).
func (*Backend) AddBias(x, bias *tensor.Tensor) {
	const op = "AddBias"
	xs := f32(op, "x", x)
	host(op, "bias", bias)
	rows, cols := x.Rows(), x.Cols()
	if bias.Len() != cols {
		panic(fmt.Sprintf("cpu: AddBias: bias %v for rows of %d (x %v)", bias.Shape, cols, x.Shape))
	}
	bb := getF32(cols)
	bv := widenInto(*bb, bias, cols)
	parallelRange(rows, rows*cols, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			row := xs[r*cols : (r+1)*cols]
			for j, b := range bv {
				row[j] += b
			}
		}
	})
	putF32(bb)
}

// BiasBackward adds the column sums of dy [rows, cols] into db [cols] (F32): db[j] += Σ_r dy[r, j].
// Each column is summed over the rows in order in float64 and added once, so the result does not
// depend on the number of threads.
func (*Backend) BiasBackward(db, dy *tensor.Tensor) {
	const op = "BiasBackward"
	dbs := f32(op, "db", db)
	dys := f32(op, "dy", dy)
	rows, cols := dy.Rows(), dy.Cols()
	if len(dbs) != cols {
		panic(fmt.Sprintf("cpu: BiasBackward: db %v for rows of %d (dy %v)", db.Shape, cols, dy.Shape))
	}
	accb := getF64(cols)
	acc := *accb
	clear(acc)
	const cw = 64 // column chunks of whole cache lines
	parallelRange((cols+cw-1)/cw, rows*cols, func(c0, c1 int) {
		j0, j1 := c0*cw, min(c1*cw, cols)
		a := acc[j0:j1]
		for r := 0; r < rows; r++ {
			for j, v := range dys[r*cols+j0 : r*cols+j1] {
				a[j] += float64(v)
			}
		}
		for j, v := range a {
			dbs[j0+j] += float32(v)
		}
	})
	putF64(accb)
}
