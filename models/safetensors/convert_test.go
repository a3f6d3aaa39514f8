package safetensors

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBF16ToF32Known(t *testing.T) {
	cases := []struct {
		h    uint16
		want uint32
	}{
		{0x3f80, 0x3f800000}, // 1
		{0xc000, 0xc0000000}, // -2
		{0x0000, 0x00000000},
		{0x8000, 0x80000000}, // -0 keeps its sign
		{0x0001, 0x00010000}, // smallest subnormal, 2^-133
		{0x7f7f, 0x7f7f0000}, // largest finite
		{0x7f80, 0x7f800000}, // +Inf
		{0xff80, 0xff800000}, // -Inf
		{0x7fc1, 0x7fc10000}, // NaN payload kept
	}
	for _, c := range cases {
		if got := math.Float32bits(BF16ToF32(c.h)); got != c.want {
			t.Errorf("BF16ToF32(%#04x) = %#08x, want %#08x", c.h, got, c.want)
		}
	}
}

func TestF32ToBF16Known(t *testing.T) {
	cases := []struct {
		f    uint32
		want uint16
		why  string
	}{
		{0x3f800000, 0x3f80, "1 is exact"},
		{0x3f808000, 0x3f80, "tie rounds to even (down)"},
		{0x3f818000, 0x3f82, "tie rounds to even (up)"},
		{0x3f808001, 0x3f81, "just above a tie rounds up"},
		{0x3f807fff, 0x3f80, "just below a tie rounds down"},
		{0xbf808000, 0xbf80, "negative tie to even"},
		{0x00008000, 0x0000, "subnormal tie to even zero"},
		{0x00018000, 0x0002, "subnormal tie to even up"},
		{0x7f7f7fff, 0x7f7f, "largest finite below the midpoint"},
		{0x7f7f8000, 0x7f80, "midpoint above the largest finite overflows to Inf"},
		{0x7f7fffff, 0x7f80, "f32 max overflows to Inf"},
		{0x7f800000, 0x7f80, "+Inf"},
		{0xff800000, 0xff80, "-Inf"},
		{0x80000000, 0x8000, "-0"},
		{0x7f800001, 0x7fc0, "signalling NaN with low payload stays NaN"},
		{0x7fffffff, 0x7fc0, "NaN whose rounding would carry stays NaN"},
		{0xffc00000, 0xffc0, "negative NaN keeps its sign"},
	}
	for _, c := range cases {
		if got := F32ToBF16(math.Float32frombits(c.f)); got != c.want {
			t.Errorf("F32ToBF16(%#08x) = %#04x, want %#04x (%s)", c.f, got, c.want, c.why)
		}
	}
}

func TestF16ToF32Known(t *testing.T) {
	cases := []struct {
		h    uint16
		want float64
	}{
		{0x3c00, 1},
		{0xc000, -2},
		{0x0001, math.Ldexp(1, -24)},        // smallest subnormal
		{0x03ff, 1023 * math.Ldexp(1, -24)}, // largest subnormal
		{0x8001, -math.Ldexp(1, -24)},       // negative subnormal
		{0x0400, math.Ldexp(1, -14)},        // smallest normal
		{0x7bff, 65504},                     // largest finite
		{0x3555, 0.333251953125},            // 1/3 rounded
		{0x7c00, math.Inf(1)},               // +Inf
		{0xfc00, math.Inf(-1)},              // -Inf
	}
	for _, c := range cases {
		if got := F16ToF32(c.h); float64(got) != c.want {
			t.Errorf("F16ToF32(%#04x) = %v, want %v", c.h, got, c.want)
		}
	}
	if b := math.Float32bits(F16ToF32(0x8000)); b != 0x80000000 {
		t.Errorf("F16ToF32(-0) = %#08x", b)
	}
	for _, h := range []uint16{0x7e00, 0x7c01, 0xfe00, 0x7fff} {
		if v := F16ToF32(h); !math.IsNaN(float64(v)) {
			t.Errorf("F16ToF32(%#04x) = %v, want NaN", h, v)
		}
	}
}

func TestF32ToF16Known(t *testing.T) {
	ulp1 := math.Ldexp(1, -10) // spacing of halves in [1,2)
	cases := []struct {
		f    float64
		want uint16
		why  string
	}{
		{1, 0x3c00, "exact"},
		{1 + ulp1/2, 0x3c00, "tie to even (down)"},
		{1 + 3*ulp1/2, 0x3c02, "tie to even (up)"},
		{1 + ulp1/2 + 1e-7, 0x3c01, "just above a tie"},
		{-(1 + ulp1/2), 0xbc00, "negative tie"},
		{65504, 0x7bff, "largest finite"},
		{65519, 0x7bff, "below the overflow midpoint"},
		{65520, 0x7c00, "overflow midpoint goes to Inf"},
		{1e10, 0x7c00, "overflow"},
		{-1e10, 0xfc00, "negative overflow"},
		{math.Ldexp(1, -24), 0x0001, "smallest subnormal"},
		{math.Ldexp(1, -25), 0x0000, "half the smallest subnormal ties to zero"},
		{math.Ldexp(1.0000001, -25), 0x0001, "just above that rounds up"},
		{math.Ldexp(3, -25), 0x0002, "subnormal tie to even (up)"},
		{math.Ldexp(5, -25), 0x0002, "subnormal tie to even (down)"},
		{math.Ldexp(1, -14) - math.Ldexp(1, -25), 0x0400, "largest subnormal tie carries into the smallest normal"},
		{1e-30, 0x0000, "underflow"},
		{-1e-30, 0x8000, "negative underflow keeps sign"},
		{math.Inf(1), 0x7c00, "+Inf"},
		{math.Inf(-1), 0xfc00, "-Inf"},
	}
	for _, c := range cases {
		if got := F32ToF16(float32(c.f)); got != c.want {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x (%s)", c.f, got, c.want, c.why)
		}
	}
	for _, b := range []uint32{0x7fc00000, 0x7f800001, 0xffffffff} {
		h := F32ToF16(math.Float32frombits(b))
		if !math.IsNaN(float64(F16ToF32(h))) {
			t.Errorf("F32ToF16(NaN %#08x) = %#04x, not NaN", b, h)
		}
	}
}

// TestHalfRoundTripExhaustive widens every 16-bit pattern and narrows it
// back: finite values and infinities must return unchanged, NaNs as NaN.
func TestHalfRoundTripExhaustive(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		if f := F16ToF32(h); math.IsNaN(float64(f)) {
			if !math.IsNaN(float64(F16ToF32(F32ToF16(f)))) {
				t.Fatalf("f16 NaN %#04x lost", h)
			}
		} else if back := F32ToF16(f); back != h {
			t.Fatalf("f16 %#04x -> %v -> %#04x", h, f, back)
		}
		if f := BF16ToF32(h); math.IsNaN(float64(f)) {
			if !math.IsNaN(float64(BF16ToF32(F32ToBF16(f)))) {
				t.Fatalf("bf16 NaN %#04x lost", h)
			}
		} else if back := F32ToBF16(f); back != h {
			t.Fatalf("bf16 %#04x -> %v -> %#04x", h, f, back)
		}
	}
}

// nearest is a slow, obviously-correct reference: it picks the closest
// value in a sorted table of non-negative codes, ties to the even code.
// The table ends with the "value" just past the largest finite number,
// coded as Inf, which is how IEEE rounding decides overflow.
type nearestTable struct {
	vals  []float64
	codes []uint16
}

func newTable(decode func(uint16) float32, maxFinite, inf uint16) nearestTable {
	var t nearestTable
	for c := uint16(0); c <= maxFinite; c++ {
		t.vals = append(t.vals, float64(decode(c)))
		t.codes = append(t.codes, c)
	}
	n := len(t.vals)
	t.vals = append(t.vals, 2*t.vals[n-1]-t.vals[n-2])
	t.codes = append(t.codes, inf)
	return t
}

func (t nearestTable) round(f float32) uint16 {
	x := float64(f)
	sign := uint16(0)
	if math.Signbit(x) {
		sign, x = 0x8000, -x
	}
	if x >= t.vals[len(t.vals)-1] {
		return sign | t.codes[len(t.codes)-1]
	}
	i, _ := slices.BinarySearch(t.vals, x) // vals[i-1] < x <= vals[i]
	if t.vals[i] == x {
		return sign | t.codes[i]
	}
	lo, hi := t.vals[i-1], t.vals[i]
	switch {
	case x-lo < hi-x:
		return sign | t.codes[i-1]
	case x-lo > hi-x:
		return sign | t.codes[i]
	case t.codes[i-1]&1 == 0:
		return sign | t.codes[i-1]
	}
	return sign | t.codes[i]
}

// TestNarrowingMatchesReference compares both narrowing conversions with
// the reference on random bit patterns and on every exact tie.
func TestNarrowingMatchesReference(t *testing.T) {
	f16 := newTable(F16ToF32, 0x7bff, 0x7c00)
	bf16 := newTable(BF16ToF32, 0x7f7f, 0x7f80)
	check := func(f float32) {
		if math.IsNaN(float64(f)) {
			return
		}
		if got, want := F32ToF16(f), f16.round(f); got != want {
			t.Fatalf("F32ToF16(%#08x) = %#04x, reference %#04x", math.Float32bits(f), got, want)
		}
		if got, want := F32ToBF16(f), bf16.round(f); got != want {
			t.Fatalf("F32ToBF16(%#08x) = %#04x, reference %#04x", math.Float32bits(f), got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 300_000 {
		check(math.Float32frombits(r.Uint32()))
	}
	// Values near 1 and in the half subnormal range, where ties are dense.
	for range 100_000 {
		check(float32(r.Float64() * 4))
		check(float32(r.Float64() * 1e-4))
	}
	// Exact midpoints between neighbouring codes, and one ulp either side.
	for c := range 0x7bff {
		mid := float32((float64(F16ToF32(uint16(c))) + float64(F16ToF32(uint16(c+1)))) / 2)
		for _, d := range []int32{-1, 0, 1} {
			check(math.Float32frombits(uint32(int32(math.Float32bits(mid)) + d)))
		}
	}
	for c := range 0x7f7f {
		mid := math.Float32bits(BF16ToF32(uint16(c))) | 0x8000
		for _, d := range []int32{-1, 0, 1} {
			check(math.Float32frombits(uint32(int32(mid) + d)))
		}
	}
}

func TestDTypeSizes(t *testing.T) {
	want := map[DType]int{F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
		U16: 2, U32: 4, U64: 8, C64: 8, F8E4M3: 1, F8E5M2: 1, F8E8M0: 1, F4: 0, F6E2M3: 0, "Q4_K": 0, "": 0}
	for d, n := range want {
		if d.Size() != n {
			t.Errorf("%q.Size() = %d, want %d", d, d.Size(), n)
		}
	}
	if F4.Bits() != 4 || F6E3M2.Bits() != 6 || !F4.Known() || DType("X").Known() {
		t.Error("sub-byte dtypes")
	}
}

// TestDecodeLengths covers the 4-element blocks and the tail of every
// decoder against the scalar conversions.
func TestDecodeLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := range 19 {
		src := make([]byte, 8*n)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		dst := make([]float32, n)
		for _, dt := range []DType{BF16, F16, F32, F64} {
			if err := decodeFloat32(dt, src[:n*dt.Size()], dst); err != nil {
				t.Fatal(err)
			}
			for i, got := range dst {
				var want float32
				switch dt {
				case BF16:
					want = BF16ToF32(uint16(src[2*i]) | uint16(src[2*i+1])<<8)
				case F16:
					want = F16ToF32(uint16(src[2*i]) | uint16(src[2*i+1])<<8)
				case F32:
					want = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
				case F64:
					want = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
				}
				if math.Float32bits(got) != math.Float32bits(want) {
					t.Fatalf("%s n=%d [%d]: %#08x want %#08x", dt, n, i, math.Float32bits(got), math.Float32bits(want))
				}
			}
		}
	}
}
