package llama

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"strings"
)

// SampleConfig chooses how the next token is drawn from the logits.
type SampleConfig struct {
	Temperature float32 // 0 (or below) = greedy decoding
	TopP        float32 // nucleus mass; 0 or 1 (or outside (0,1)) = off
	TopK        int     // keep the k highest logits (and their ties); 0 = off
	Seed        uint64
}

// Sampler picks next tokens exactly as Hugging Face generate does: greedy is argmax; a
// sample applies TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper in that
// order, then draws from the softmax of what is left. It owns its random stream, so
// samplers with seeds Seed+i are independent and each is reproducible. Its scratch
// buffers are kept between calls, so Next allocates nothing once it has seen the
// vocabulary size; a Sampler belongs to one goroutine.
//
// Two details are pinned where torch leaves them open. Ties in the top-p sort are
// ordered by token id: of two equal logits the lower id ranks higher (survives longer),
// as in argmax. And the top-p cumulative sums are exact: each softmax weight is rounded
// once to a 62-bit fixed-point integer and summed in integers, so the kept set does not
// depend on the summation order. That lets the sampler find the nucleus by partial
// selection (expected linear time, no sort of the vocabulary) and still get exactly the
// set that the full ascending sort and cumulative sum of TopPLogitsWarper gives with
// those weights. Against torch's float32 softmax and cumsum it can differ only where a
// cumulative probability lies within about 1e-7 of 1-top_p.
type Sampler struct {
	cfg SampleConfig
	rng *rand.Rand

	x    []float32   // logits after temperature
	sel  []float32   // top-k selection scratch
	w    []float64   // exp(x - max) for kept tokens, 0 for removed ones
	cand []candidate // top-p candidates
	hist [histBuckets]uint64

	// The filters of the last call, as thresholds: token i is kept iff x[i] >= lo and,
	// when cut, it ranks at or above the boundary token (cutX, cutI).
	lo   float32
	cut  bool
	cutX float32
	cutI int
}

// NewSampler makes a sampler. Its PCG is seeded from Seed through splitmix64, so seeds
// that differ by one give unrelated streams.
func NewSampler(cfg SampleConfig) *Sampler {
	return &Sampler{cfg: cfg, rng: rand.New(rand.NewPCG(splitmix64(cfg.Seed), splitmix64(cfg.Seed^0x6a09e667f3bcc909)))}
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// Config is the sampler's configuration.
func (s *Sampler) Config() SampleConfig { return s.cfg }

// Greedy reports whether Next is an argmax.
func (s *Sampler) Greedy() bool { return !(s.cfg.Temperature > 0) }

// Next chooses the next token from one row of logits. With a non-finite largest logit
// (all -Inf, or +Inf or NaN present) it falls back to argmax.
func (s *Sampler) Next(logits []float32) int {
	if s.Greedy() {
		return Argmax(logits)
	}
	total, ok := s.prepare(logits)
	if !ok {
		return Argmax(logits)
	}
	u := s.rng.Float64() * total
	var acc float64
	last := 0
	for i, wi := range s.w[:len(logits)] {
		if wi == 0 {
			continue
		}
		acc += wi
		if u < acc {
			return i
		}
		last = i
	}
	return last // u rounded up to total
}

// Argmax is torch.argmax on one row: the lowest index of the largest value (a NaN counts
// as the largest, as in torch). It returns 0 for an empty row.
func Argmax(logits []float32) int {
	if len(logits) == 0 {
		return 0
	}
	best, bv := 0, logits[0]
	if bv != bv {
		return 0
	}
	for i, v := range logits {
		if v > bv {
			best, bv = i, v
		} else if v != v {
			return i
		}
	}
	return best
}

// prepare applies temperature, top-k and top-p to logits and leaves in s.w the
// unnormalised probabilities exp(x - max) of the kept tokens (0 elsewhere); total is
// their sum. ok is false when the largest scaled logit is not finite.
func (s *Sampler) prepare(logits []float32) (total float64, ok bool) {
	n := len(logits)
	if n == 0 {
		return 0, false
	}
	if cap(s.x) < n {
		s.x = make([]float32, n)
		s.w = make([]float64, n)
	}
	x, w := s.x[:n], s.w[:n]

	// TemperatureLogitsWarper: scores / temperature, in float32.
	t := s.cfg.Temperature
	m := float32(math.Inf(-1))
	if t == 1 {
		copy(x, logits)
	} else {
		for i, v := range logits {
			x[i] = v / t
		}
	}
	for _, v := range x {
		if v > m || v != v {
			m = v
		}
	}
	if math.IsInf(float64(m), 0) || m != m {
		return 0, false
	}
	mf := float64(m)

	// TopKLogitsWarper: remove scores < the k-th largest score (ties with it stay).
	s.lo = float32(math.Inf(-1))
	s.cut = false
	if k := s.cfg.TopK; k > 0 && k < n {
		s.lo = s.kthLargest(x, k)
	}
	lo := s.lo

	p := s.cfg.TopP
	if !(p > 0 && p < 1) {
		for i, v := range x {
			if v >= lo {
				e := math.Exp(float64(v) - mf)
				w[i] = e
				total += e
			} else {
				w[i] = 0
			}
		}
		return total, true
	}

	// TopPLogitsWarper. Weights in fixed point: q = ⌊w·scale⌋ ≤ scale, and n·scale ≤ 2^62,
	// so every sum fits in a uint64 exactly.
	scale := quantScale(n)
	clear(s.hist[:])
	var sumQ uint64
	for i, v := range x {
		if v >= lo {
			e := math.Exp(float64(v) - mf)
			w[i] = e
			q := fixed(e, scale)
			sumQ += q
			s.hist[bucketOf(mf, v)] += q
		} else {
			w[i] = 0
		}
	}
	// In ascending order a token is removed when its inclusive cumulative sum is
	// <= (1-p)·W, i.e. when the sum of the tokens ranked above it is >= need = W - T.
	// Kept tokens are thus a prefix of the descending order; the top one always stays.
	need := sumQ - topPThreshold(sumQ, p)
	var b candidate
	if need == 0 {
		b = candidate{x: m, i: int32(firstIndexOf(x, m))}
	} else {
		// Only tokens in the highest buckets whose mass reaches need can be kept: any
		// token below them has at least that mass ranked above it.
		var acc uint64
		last := 0
		for last = range s.hist {
			acc += s.hist[last]
			if acc >= need {
				break
			}
		}
		if cap(s.cand) < n {
			s.cand = make([]candidate, 0, n)
		}
		c := s.cand[:0]
		for i, v := range x {
			if v >= lo && bucketOf(mf, v) <= last {
				c = append(c, candidate{x: v, i: int32(i), q: fixed(w[i], scale)})
			}
		}
		b = nucleusBoundary(c, need)
	}
	s.cut, s.cutX, s.cutI = true, b.x, int(b.i)
	for i, v := range x {
		if w[i] != 0 && !ranksAtOrAbove(v, i, b.x, int(b.i)) {
			w[i] = 0
		}
		total += w[i]
	}
	return total, true
}

// kept reports whether token i survived the filters of the last prepare.
func (s *Sampler) kept(i int) bool {
	v := s.x[i]
	return v >= s.lo && (!s.cut || ranksAtOrAbove(v, i, s.cutX, s.cutI))
}

// ranksAtOrAbove orders tokens by logit, descending, and equal logits by id, ascending.
func ranksAtOrAbove(x float32, i int, bx float32, bi int) bool {
	return x > bx || (x == bx && i <= bi)
}

func firstIndexOf(x []float32, v float32) int {
	for i, xi := range x {
		if xi == v {
			return i
		}
	}
	return 0
}

// quantScale is 2^(62 - bitlen(n)): n weights of at most 1 then sum to at most 2^62.
func quantScale(n int) float64 { return math.Ldexp(1, 62-bits.Len(uint(n))) }

// fixed is ⌊w·scale⌋ for 0 <= w <= 1; w·scale <= 2^62, so the int64 conversion (one
// instruction, unlike the one to uint64) is exact.
func fixed(w, scale float64) uint64 { return uint64(int64(w * scale)) }

// topPThreshold is T = ⌊(1-p)·W⌋, at most W.
func topPThreshold(sumQ uint64, p float32) uint64 {
	t := math.Floor((1 - float64(p)) * float64(sumQ))
	if !(t > 0) {
		return 0
	}
	if t >= float64(sumQ) {
		return sumQ
	}
	return min(uint64(t), sumQ)
}

// histBuckets slices the 32 nats below the largest logit into eighths of a nat;
// anything lower shares the last bucket.
const histBuckets = 256

// bucketOf is monotone: a larger logit never has a larger bucket.
func bucketOf(m float64, v float32) int {
	d := (m - float64(v)) * 8
	if !(d < histBuckets-1) {
		return histBuckets - 1
	}
	return int(d)
}

type candidate struct {
	x float32
	i int32
	q uint64
}

// above is the descending rank order: larger logit first, then lower id.
func (a candidate) above(b candidate) bool {
	return a.x > b.x || (a.x == b.x && a.i < b.i)
}

// nucleusBoundary returns the last kept candidate: walking c in descending rank order,
// the first whose inclusive running sum of q reaches need. It is a weighted
// quickselect (expected linear time); c's order is destroyed. Σq over c must be >= need > 0.
func nucleusBoundary(c []candidate, need uint64) candidate {
	lo, hi := 0, len(c)
	var acc uint64 // Σq of c[:lo], all of which rank above c[lo:hi] and are kept; acc < need
	for hi-lo > 12 {
		// Median-of-three pivot moved to c[hi-1], then a Lomuto partition: c[lo:p] rank
		// above the pivot, c[p+1:hi] below it.
		mid := lo + (hi-lo)/2
		if c[mid].above(c[lo]) {
			c[mid], c[lo] = c[lo], c[mid]
		}
		if c[hi-1].above(c[lo]) {
			c[hi-1], c[lo] = c[lo], c[hi-1]
		}
		if c[hi-1].above(c[mid]) {
			c[hi-1], c[mid] = c[mid], c[hi-1]
		}
		c[mid], c[hi-1] = c[hi-1], c[mid]
		pv := c[hi-1]
		p := lo
		var s uint64
		for j := lo; j < hi-1; j++ {
			if c[j].above(pv) {
				s += c[j].q
				c[j], c[p] = c[p], c[j]
				p++
			}
		}
		c[p], c[hi-1] = c[hi-1], c[p]
		if acc+s >= need {
			hi = p // the boundary is above the pivot (p > lo, since acc < need)
			continue
		}
		acc += s + pv.q
		if acc >= need {
			return pv
		}
		lo = p + 1
	}
	for j := lo + 1; j < hi; j++ { // insertion sort of the rest, descending
		for k := j; k > lo && c[k].above(c[k-1]); k-- {
			c[k], c[k-1] = c[k-1], c[k]
		}
	}
	for j := lo; j < hi; j++ {
		acc += c[j].q
		if acc >= need {
			return c[j]
		}
	}
	return c[max(hi-1, 0)] // unreachable while Σq >= need
}

// heapMaxK is the largest k for which top-k keeps a min-heap of the k largest values.
const heapMaxK = 4096

// kthLargest is the k-th largest value of x (1 <= k < len(x)), as torch.topk(x, k)[0][-1].
// For small k a min-heap of the k largest values seen (one comparison for most
// elements), else a quickselect on a copy.
func (s *Sampler) kthLargest(x []float32, k int) float32 {
	if k > heapMaxK {
		if cap(s.sel) < len(x) {
			s.sel = make([]float32, len(x))
		}
		sel := s.sel[:len(x)]
		copy(sel, x)
		return kthLargest(sel, k)
	}
	if cap(s.sel) < k {
		s.sel = make([]float32, k)
	}
	h := s.sel[:k]
	copy(h, x[:k])
	for i := k/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
	for _, v := range x[k:] {
		if v > h[0] {
			h[0] = v
			siftDown(h, 0)
		}
	}
	return h[0]
}

// siftDown restores the min-heap property below i.
func siftDown(h []float32, i int) {
	n := len(h)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && h[c+1] < h[c] {
			c++
		}
		if !(h[c] < h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// kthLargest returns the k-th largest value of a (1 <= k <= len(a)), reordering a: a
// quickselect with a three-way partition, so runs of equal values (e.g. -Inf) stay linear.
func kthLargest(a []float32, k int) float32 {
	lo, hi := 0, len(a)
	k-- // index in descending order
	for {
		if hi-lo <= 1 {
			return a[lo]
		}
		// median of three as pivot
		x, y, z := a[lo], a[lo+(hi-lo)/2], a[hi-1]
		if x < y {
			x, y = y, x
		}
		if y < z {
			y = z
			if x < y {
				y = x
			}
		}
		pv := y
		// [lo, gt): > pv; [gt, i): == pv; [lt, hi): < pv
		gt, i, lt := lo, lo, hi
		for i < lt {
			switch v := a[i]; {
			case v > pv:
				a[i], a[gt] = a[gt], a[i]
				gt++
				i++
			case v < pv:
				lt--
				a[i], a[lt] = a[lt], a[i]
			default:
				i++
			}
		}
		switch {
		case k < gt:
			hi = gt
		case k < lt:
			return pv
		default:
			lo = lt
		}
	}
}

// StopMatcher finds stop strings in generated text.
type StopMatcher struct {
	stops  []string
	maxLen int
}

// NewStopMatcher matches any of stops; empty strings are ignored.
func NewStopMatcher(stops []string) *StopMatcher {
	m := &StopMatcher{}
	for _, s := range stops {
		if s != "" {
			m.stops = append(m.stops, s)
			m.maxLen = max(m.maxLen, len(s))
		}
	}
	return m
}

// Check looks at all the text generated so far (so a stop string split across tokens is
// found once its last piece arrives). When some stop string occurs it returns the byte
// index where the earliest occurrence starts: the text to keep is text[:cut].
func (m *StopMatcher) Check(text string) (cut int, stopped bool) {
	cut = len(text)
	for _, s := range m.stops {
		if i := strings.Index(text[:min(len(text), cut+len(s)-1)], s); i >= 0 && i < cut {
			cut, stopped = i, true
		}
	}
	if !stopped {
		return len(text), false
	}
	return cut, true
}

// Holdback is how many bytes at the end of text could still become the start of a stop
// string: a streaming caller shows text[:len(text)-Holdback(text)] and waits for more
// before showing the rest. It is 0 when no stop string is pending.
func (m *StopMatcher) Holdback(text string) int {
	for n := min(len(text), m.maxLen-1); n > 0; n-- {
		tail := text[len(text)-n:]
		for _, s := range m.stops {
			if len(s) > n && strings.HasPrefix(s, tail) {
				return n
			}
		}
	}
	return 0
}
