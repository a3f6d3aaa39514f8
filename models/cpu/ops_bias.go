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
	parallelRange(&biasOps, rows, rows*cols, biasArgs{x: xs, b: bv}, func(a *biasArgs, r0, r1 int) {
		cols := len(a.b)
		for r := r0; r < r1; r++ {
			row := a.x[r*cols : (r+1)*cols]
			for j, b := range a.b {
				row[j] += b
			}
		}
	})
	putF32(bb)
}

type biasArgs struct{ x, b []float32 }

var biasOps opPool[biasArgs]

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
	args := biasBackwardArgs{db: dbs, dy: dys, acc: acc, rows: rows}
	parallelRange(&biasBackwardOps, (cols+cw-1)/cw, rows*cols, args, func(b *biasBackwardArgs, c0, c1 int) {
		cols := len(b.db)
		j0, j1 := c0*cw, min(c1*cw, cols)
		a := b.acc[j0:j1]
		for r := 0; r < b.rows; r++ {
			for j, v := range b.dy[r*cols+j0 : r*cols+j1] {
				a[j] += float64(v)
			}
		}
		for j, v := range a {
			b.db[j0+j] += float32(v)
		}
	})
	putF64(accb)
}

type biasBackwardArgs struct {
	db, dy []float32
	acc    []float64
	rows   int
}

var biasBackwardOps opPool[biasBackwardArgs]
