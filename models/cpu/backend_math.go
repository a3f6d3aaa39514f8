package cpu

import "math"

// expf is e^x for float32, within 0.51 ulp of the exact value (so nearly always the correctly rounded
// float32; tested against math.Exp over the whole float32 range): the softmaxes of attention and
// cross-entropy and the sigmoid of SwiGLU call it hundreds of millions of times per training step,
// where math.Exp (float64, with its special-case branches) costs about twice as much.
//
// Method (Tang's table method): x = (64·m + j)·ln2/64 + r with n = 64·m + j = round(x·64/ln2),
// 0 <= j < 64 and |r| <= ln2/128; e^x = 2^m · 2^(j/64) · e^r with 2^(j/64) from a table and e^r by its
// cubic Taylor polynomial (truncation error < 4e-11 relative), all in float64, and one rounding to
// float32 at the end. Overflow gives +Inf, underflow 0 (through the float32 subnormals), NaN stays NaN.
// expShiftSum holds a written-out copy for the hot loops, and exp_amd64.s the AVX-512 forms the
// softmaxes and SwiGLU run eight at a time where the CPU has them (the same float64 steps, the table
// read by a gather); the tests hold them all to the same bits (TestExpShiftSum, TestVectorExpMatchesGo).
// `go test ./models/cpu -run '^$' -bench VectorExp` (loaded machine, one run): SwiGLU on 512×688
// 1.31 -> 0.30 ms, its backward 1.89 -> 0.61 ms, a 2048-logit row 5.5 -> 2.0 µs; a small-model LoRA
// step (4×128) 5,209 / 4,538 / 4,285 -> 5,868 / 5,944 / 4,486 tokens/s in three alternating pairs.
func expf(x float32) float32 {
	// Clamping is enough for the edges: e^-104 is below half the smallest float32 subnormal, so it
	// rounds to 0, and e^89 is above the largest float32, so it rounds to +Inf; a NaN passes through.
	if x < -104 {
		x = -104
	}
	if x > 89 {
		x = 89
	}
	t := float64(x)
	f := t*expInvStep + expMagic
	n := math.Float64bits(f) // low bits: 2^51 + round(x·64/ln2), with |round(...)| < 2^14
	r := t - (f-expMagic)*expStep
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6)))
	// 2^(j/64) · 2^m: add m to the table entry's exponent. (n>>6)<<52 is (2^45 + m)<<52 = m<<52 modulo
	// 2^64 (2^51 is a multiple of 64, so the shift floors m as it should for negative n).
	return float32(p * math.Float64frombits(math.Float64bits(exp2Table[n&63])+(n>>6)<<52))
}

const (
	expInvStep = 64 * 1.44269504088896340735992468100189214 // 64/ln2
	expStep    = 0.693147180559945309417232121458176568 / 64
	expMagic   = 0x1.8p52 // adding it rounds a double in ±2^51 to an integer, kept in the low mantissa bits
)

// exp2Table[j] = 2^(j/64).
var exp2Table = func() (t [64]float64) {
	for j := range t {
		t[j] = math.Exp2(float64(j) / 64)
	}
	return t
}()

// expConstants is what the vector forms of expf (exp_amd64.s) read: the table, then 64/ln2, the
// rounding magic, ln2/64 and the polynomial's 1, 1/2 and 1/6, in that order (the assembly reads c at
// offset 512).
type expConstants struct {
	table [64]float64
	c     [6]float64
}

var expK = expConstants{table: exp2Table, c: [6]float64{expInvStep, expMagic, expStep, 1, 1.0 / 2, 1.0 / 6}}

// expShiftSum overwrites row[j] with e^(row[j]-shift) and returns the sum of the new values, accumulated
// in float64 in two partial sums. expShiftSumTo writes the values to dst instead. expf is written out here two elements at a time (it is too big for
// the inliner), which saves the call and lets the two chains overlap: about 20% faster.
func expShiftSum(row []float32, shift float32) float64 { return expShiftSumTo(row, row, shift) }

// expShiftSumTo: dst[j] = e^(src[j]-shift), returning Σ dst[j]; dst may be src.
func expShiftSumTo(dst, src []float32, shift float32) float64 {
	dst = dst[:len(src)]
	j, s0 := expShiftSumFast(dst, src, shift)
	var s1 float64
	for ; j+2 <= len(src); j += 2 {
		r := src[j : j+2 : j+2]
		x0, x1 := r[0]-shift, r[1]-shift
		if x0 < -104 {
			x0 = -104
		}
		if x0 > 89 {
			x0 = 89
		}
		if x1 < -104 {
			x1 = -104
		}
		if x1 > 89 {
			x1 = 89
		}
		t0, t1 := float64(x0), float64(x1)
		f0, f1 := t0*expInvStep+expMagic, t1*expInvStep+expMagic
		n0, n1 := math.Float64bits(f0), math.Float64bits(f1)
		q0, q1 := t0-(f0-expMagic)*expStep, t1-(f1-expMagic)*expStep
		p0 := 1 + q0*(1+q0*(1.0/2+q0*(1.0/6)))
		p1 := 1 + q1*(1+q1*(1.0/2+q1*(1.0/6)))
		e0 := float32(p0 * math.Float64frombits(math.Float64bits(exp2Table[n0&63])+(n0>>6)<<52))
		e1 := float32(p1 * math.Float64frombits(math.Float64bits(exp2Table[n1&63])+(n1>>6)<<52))
		d := dst[j : j+2 : j+2]
		d[0], d[1] = e0, e1
		s0 += float64(e0)
		s1 += float64(e1)
	}
	if j < len(src) {
		e := expf(src[j] - shift)
		dst[j] = e
		s0 += float64(e)
	}
	return s0 + s1
}

// maxF32 is the largest element of a non-empty row (NaNs after the first element are skipped; a NaN
// row still ends in a NaN loss or softmax through the exponentials). Plain comparisons: Go's max
// builtin handles NaN and signed zeros with branches that cost twice as much here.
func maxF32(row []float32) float32 {
	j, m0 := maxF32Fast(row) // the AVX-512 form (exp_amd64.s) over whole groups of 16, where there is one
	m1, m2, m3 := m0, m0, m0
	for ; j+4 <= len(row); j += 4 {
		r := row[j : j+4 : j+4]
		if r[0] > m0 {
			m0 = r[0]
		}
		if r[1] > m1 {
			m1 = r[1]
		}
		if r[2] > m2 {
			m2 = r[2]
		}
		if r[3] > m3 {
			m3 = r[3]
		}
	}
	for ; j < len(row); j++ {
		if row[j] > m0 {
			m0 = row[j]
		}
	}
	if m1 > m0 {
		m0 = m1
	}
	if m3 > m2 {
		m2 = m3
	}
	if m2 > m0 {
		m0 = m2
	}
	return m0
}

// scaleF32 multiplies row by s in place.
func scaleF32(row []float32, s float32) {
	j := scaleF32Fast(row, s)
	for ; j+4 <= len(row); j += 4 {
		r := row[j : j+4 : j+4]
		r[0] *= s
		r[1] *= s
		r[2] *= s
		r[3] *= s
	}
	for ; j < len(row); j++ {
		row[j] *= s
	}
}

// dotF32 is Σ a[j]·b[j] over len(a) in float32 with eight partial sums (b at least as long as a).
func dotF32(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	j := 0
	for ; j+8 <= len(a); j += 8 {
		x := a[j : j+8 : j+8]
		y := b[j : j+8 : j+8]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		s4 += x[4] * y[4]
		s5 += x[5] * y[5]
		s6 += x[6] * y[6]
		s7 += x[7] * y[7]
	}
	for ; j < len(a); j++ {
		s0 += a[j] * b[j]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}
