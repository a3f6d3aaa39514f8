package cpu

import (
	"fmt"

	"seal/models/tensor"
)

// Embedding gathers rows of table [V, D] (F32, or BF16 widened exactly: a bf16 is the top half of a
// float32) for ids into out [len(ids), D], as torch.nn.Embedding. An id outside [0, V) panics.
func (*Backend) Embedding(out, table *tensor.Tensor, ids []int32) {
	const op = "Embedding"
	o := f32(op, "out", out)
	host(op, "table", table)
	V, D := table.Rows(), table.Cols()
	if out.Cols() != D || out.Rows() != len(ids) {
		panic(fmt.Sprintf("cpu: Embedding: out %v for %d ids of a table %v", out.Shape, len(ids), table.Shape))
	}
	checkIDs(op, ids, V)
	if runsInline(len(ids), len(ids)*D) {
		embedRows(o, table, ids, D, 0, len(ids))
		return
	}
	parallelRange(&embeddingOps, len(ids), len(ids)*D, embeddingArgs{o, table, ids}, func(a *embeddingArgs, i0, i1 int) {
		embedRows(a.o, a.table, a.ids, a.table.Cols(), i0, i1)
	})
}

type embeddingArgs struct {
	o     []float32
	table *tensor.Tensor
	ids   []int32
}

var embeddingOps opPool[embeddingArgs]

func embedRows(o []float32, table *tensor.Tensor, ids []int32, D, i0, i1 int) {
	for i := i0; i < i1; i++ {
		dst := o[i*D : (i+1)*D]
		id := int(ids[i])
		if table.DType == tensor.F32 {
			copy(dst, table.F32[id*D:(id+1)*D])
			continue
		}
		for j, h := range table.BF16[id*D : (id+1)*D] {
			dst[j] = widenBF16(h)
		}
	}
}

// EmbeddingBackward adds dout's rows into the rows of dtable [V, D] (F32) at ids: dtable[ids[i]] +=
// dout[i], in the order of i, so a repeated id sums its rows in a fixed order. Large calls split the
// columns across threads (never the ids, which may repeat).
func (*Backend) EmbeddingBackward(dtable, dout *tensor.Tensor, ids []int32) {
	const op = "EmbeddingBackward"
	dt := f32(op, "dtable", dtable)
	d := f32(op, "dout", dout)
	V, D := dtable.Rows(), dtable.Cols()
	if dout.Cols() != D || dout.Rows() != len(ids) {
		panic(fmt.Sprintf("cpu: EmbeddingBackward: dout %v for %d ids of a table %v", dout.Shape, len(ids), dtable.Shape))
	}
	checkIDs(op, ids, V)
	// Columns in chunks of 64 (whole cache lines), so threads never write the same line.
	const cw = 64
	args := embeddingBackwardArgs{dt: dt, d: d, ids: ids, D: D}
	parallelRange(&embeddingBackwardOps, (D+cw-1)/cw, len(ids)*D, args, func(a *embeddingBackwardArgs, c0, c1 int) {
		D := a.D
		j0, j1 := c0*cw, min(c1*cw, D)
		for i, id := range a.ids {
			dst := a.dt[int(id)*D+j0 : int(id)*D+j1]
			src := a.d[i*D+j0 : i*D+j1]
			for j, v := range src {
				dst[j] += v
			}
		}
	})
}

type embeddingBackwardArgs struct {
	dt, d []float32
	ids   []int32
	D     int
}

var embeddingBackwardOps opPool[embeddingBackwardArgs]

func checkIDs(op string, ids []int32, V int) {
	for i, id := range ids {
		if id < 0 || int(id) >= V {
			panic(fmt.Sprintf("cpu: %s: ids[%d] = %d is outside the table's %d rows", op, i, id, V))
		}
	}
}
