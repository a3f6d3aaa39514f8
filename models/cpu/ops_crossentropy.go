package cpu

import (
	"fmt"
	"math"

	"seal/models/tensor"
)

// CrossEntropy is torch.nn.functional.cross_entropy(logits, labels, ignore_index=<any negative>,
// reduction='sum') over logits [N, V] (F32): for each row with labels[i] >= 0,
//
//	m       = max_j x_ij                                  (float32)
//	Z       = Σ_j exp(x_ij − m)                            (expf, summed in float64)
//	loss_i  = (m − x_i,label) + log Z                      (float64)
//
// It returns sum = Σ loss_i (float64, rows in order, so the result does not depend on the number of
// threads) and count, the number of scored rows. A label >= V panics. When dlogits [N, V] is not nil
// it is written with (softmax − onehot)·gradScale on scored rows, softmax_j = exp(x_ij − m)/Z, and zeros
// on ignored rows; dlogits may be logits itself. For torch's reduction='mean', pass gradScale =
// 1/count and divide sum by count.
func (*Backend) CrossEntropy(dlogits, logits *tensor.Tensor, labels []int32, gradScale float32) (sum float64, count int) {
	const op = "CrossEntropy"
	x := f32(op, "logits", logits)
	N, V := logits.Rows(), logits.Cols()
	if len(labels) != N {
		panic(fmt.Sprintf("cpu: CrossEntropy: %d labels for logits %v", len(labels), logits.Shape))
	}
	var d []float32
	if dlogits != nil {
		d = f32(op, "dlogits", dlogits)
		sameLen(op, "dlogits", "logits", dlogits, logits)
	}
	for i, l := range labels {
		if int(l) >= V {
			panic(fmt.Sprintf("cpu: CrossEntropy: labels[%d] = %d is outside the vocabulary of %d", i, l, V))
		}
		if l >= 0 {
			count++
		}
	}
	lb := getF64(N)
	losses := *lb
	args := crossEntropyArgs{x: x, d: d, losses: losses, labels: labels, V: V, gradScale: gradScale}
	parallelRange(&crossEntropyOps, N, 2*N*V, args, func(a *crossEntropyArgs, r0, r1 int) {
		x, d, losses, labels, V, gradScale := a.x, a.d, a.losses, a.labels, a.V, a.gradScale
		var scratch *[]float32
		for r := r0; r < r1; r++ {
			xr := x[r*V : (r+1)*V]
			l := labels[r]
			if l < 0 {
				losses[r] = 0
				if d != nil {
					clear(d[r*V : (r+1)*V])
				}
				continue
			}
			xl := xr[l]
			m := maxF32(xr)
			var e []float32 // where the exponentials go: dlogits' row, or scratch
			if d != nil {
				e = d[r*V : (r+1)*V]
			} else {
				if scratch == nil {
					scratch = getF32(V)
				}
				e = (*scratch)[:V]
			}
			z := expShiftSumTo(e, xr, m)
			losses[r] = (float64(m) - float64(xl)) + math.Log(z)
			if d != nil {
				pl := float64(e[l]) / z
				scaleF32(e, float32(float64(gradScale)/z))
				e[l] = float32((pl - 1) * float64(gradScale))
			}
		}
		if scratch != nil {
			putF32(scratch)
		}
	})
	for _, v := range losses {
		sum += v
	}
	putF64(lb)
	return sum, count
}

type crossEntropyArgs struct {
	x, d      []float32
	losses    []float64
	labels    []int32
	V         int
	gradScale float32
}

var crossEntropyOps opPool[crossEntropyArgs]
