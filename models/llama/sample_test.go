package llama

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

var negInf = float32(math.Inf(-1))

// refKept is the straightforward definition: HF's warpers with a full sort. Temperature
// divides in float32; top-k masks scores below the k-th largest with -Inf; top-p sorts
// all scores ascending (equal scores: higher id first, so the lower id ranks higher),
// takes the cumulative sum of the softmax weights (in the sampler's fixed point) and
// removes every token whose cumulative sum is <= (1-p)·total, except the last one.
func refKept(logits []float32, cfg SampleConfig) []bool {
	n := len(logits)
	x := make([]float32, n)
	for i, v := range logits {
		if cfg.Temperature != 1 {
			v /= cfg.Temperature
		}
		x[i] = v
	}
	removed := make([]bool, n)
	if k := cfg.TopK; k > 0 && k < n {
		s := slices.Clone(x)
		slices.Sort(s)
		kth := s[n-k]
		for i := range x {
			if x[i] < kth {
				removed[i] = true
				x[i] = negInf
			}
		}
	}
	if p := cfg.TopP; p > 0 && p < 1 {
		m := float64(slices.Max(x))
		scale := quantScale(n)
		q := make([]uint64, n)
		var total uint64
		for i, v := range x {
			q[i] = uint64(math.Exp(float64(v)-m) * scale)
			total += q[i]
		}
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool {
			xa, xb := x[idx[a]], x[idx[b]]
			return xa < xb || (xa == xb && idx[a] > idx[b])
		})
		t := topPThreshold(total, p)
		var cum uint64
		for j, i := range idx {
			cum += q[i]
			if cum <= t && j < n-1 {
				removed[i] = true
			}
		}
	}
	keep := make([]bool, n)
	for i := range keep {
		keep[i] = !removed[i]
	}
	return keep
}

func keptSet(s *Sampler, logits []float32) []bool {
	if _, ok := s.prepare(logits); !ok {
		panic("prepare failed")
	}
	k := make([]bool, len(logits))
	for i := range k {
		k[i] = s.kept(i)
		if s.w[i] != 0 && !k[i] {
			panic(fmt.Sprintf("token %d has weight %g but is not kept", i, s.w[i]))
		}
	}
	return k
}

func randomLogits(r *rand.Rand, n int) []float32 {
	l := make([]float32, n)
	scale := []float64{0.05, 1, 3, 10, 40}[r.IntN(5)]
	shape := r.IntN(5)
	for i := range l {
		v := r.NormFloat64() * scale
		switch shape {
		case 1: // many ties
			v = math.Round(v*2) / 2
		case 2: // a few -Inf (masked tokens), and a peaked head
			if r.IntN(4) == 0 {
				v = math.Inf(-1)
			}
			if i%97 == 3 {
				v += 15
			}
		case 3: // all equal
			v = 1.5
		}
		l[i] = float32(v)
	}
	if shape == 2 {
		l[r.IntN(n)] = 2 // at least one finite logit
	}
	return l
}

func TestSampleTopPMatchesFullSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 2, 3, 7, 50, 1000, 5000, 151936}
	cases := 0
	for round := range 400 {
		n := sizes[round%len(sizes)]
		if n > 5000 && round >= 48 { // the full-vocabulary reference sort is slow; six rounds of it suffice
			continue
		}
		logits := randomLogits(r, n)
		cfg := SampleConfig{
			Temperature: []float32{0.3, 0.7, 1, 1.6}[r.IntN(4)],
			TopP:        []float32{float32(r.Float64()), 0.9, 0.95, 1e-7, 0.999999, 0.5}[r.IntN(6)],
			TopK:        []int{0, 0, 1, 5, 40, n / 2, n + 3}[r.IntN(7)],
			Seed:        uint64(round),
		}
		s := NewSampler(cfg)
		got := keptSet(s, logits)
		want := refKept(logits, cfg)
		if !slices.Equal(got, want) {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("round %d n %d %+v: token %d (logit %g) kept %v, full sort says %v",
						round, n, cfg, i, logits[i], got[i], want[i])
				}
			}
		}
		nk := 0
		for _, k := range got {
			if k {
				nk++
			}
		}
		if nk == 0 {
			t.Fatalf("round %d: nothing kept", round)
		}
		if tok := s.Next(logits); !got[tok] {
			t.Fatalf("round %d: drew removed token %d", round, tok)
		}
		cases++
	}
	t.Logf("%d cases", cases)
}

func TestSampleTopPExactBoundaries(t *testing.T) {
	// Equal logits make the cumulative sums hit 1-p exactly: with n a multiple of 8 and
	// p = j/8, exactly p·n tokens stay, the lowest ids (they rank higher among ties).
	for _, n := range []int{16, 24, 64, 200, 1000, 4096} {
		logits := make([]float32, n)
		for i := range logits {
			logits[i] = -0.25
		}
		for j := 1; j < 8; j++ {
			cfg := SampleConfig{Temperature: 0.9, TopP: float32(j) / 8}
			got := keptSet(NewSampler(cfg), logits)
			want := refKept(logits, cfg)
			for i := range want {
				if want[i] != (i < n*j/8) {
					t.Fatalf("test setup: n %d p %g", n, cfg.TopP)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("n %d p %g: kept set differs from the full sort", n, cfg.TopP)
			}
		}
	}
}

func TestSampleGreedy(t *testing.T) {
	s := NewSampler(SampleConfig{TopP: 0.5, TopK: 3})
	for _, c := range []struct {
		logits []float32
		want   int
	}{
		{[]float32{1, 3, 3, 2}, 1},
		{[]float32{-1, -1}, 0},
		{[]float32{negInf, negInf, negInf}, 0},
		{[]float32{0, float32(math.NaN()), 5, float32(math.NaN())}, 1}, // torch: NaN is the max
		{[]float32{7}, 0},
	} {
		if got := s.Next(c.logits); got != c.want {
			t.Errorf("greedy %v: %d, want %d", c.logits, got, c.want)
		}
	}
	if NewSampler(SampleConfig{Temperature: -1}).Next([]float32{0, 2, 2}) != 1 {
		t.Error("negative temperature should be greedy")
	}
	// A sampler falls back to argmax when the largest logit is not finite.
	hot := NewSampler(SampleConfig{Temperature: 1})
	if hot.Next([]float32{negInf, negInf}) != 0 || hot.Next([]float32{1, float32(math.Inf(1)), 2}) != 1 {
		t.Error("non-finite fallback")
	}
}

func TestSampleTopK(t *testing.T) {
	logits := []float32{5, 4, 4, 1, 0, 4.5}
	for _, c := range []struct {
		k    int
		want []bool
	}{
		{1, []bool{true, false, false, false, false, false}},
		{2, []bool{true, false, false, false, false, true}},
		{3, []bool{true, true, true, false, false, true}}, // ties with the 3rd largest stay (HF: scores < kth are removed)
		{6, []bool{true, true, true, true, true, true}},
		{100, []bool{true, true, true, true, true, true}},
	} {
		s := NewSampler(SampleConfig{Temperature: 1, TopK: c.k, Seed: 3})
		if got := keptSet(s, logits); !slices.Equal(got, c.want) {
			t.Errorf("k %d: kept %v, want %v", c.k, got, c.want)
		}
		for range 2000 {
			if tok := s.Next(logits); !c.want[tok] {
				t.Fatalf("k %d: drew %d", c.k, tok)
			}
		}
	}
}

func TestSampleTopP(t *testing.T) {
	// probabilities 0.5, 0.3, 0.2: ascending cumulative sums 0.2, 0.5, 1.0
	logits := []float32{float32(math.Log(0.3)), float32(math.Log(0.5)), float32(math.Log(0.2))}
	for _, c := range []struct {
		p    float32
		want []bool
	}{
		{0.6, []bool{true, true, false}},   // remove cum <= 0.4: only the 0.2
		{0.45, []bool{false, true, false}}, // remove cum <= 0.55: keep the 0.5
		{0.9, []bool{true, true, true}},    // remove cum <= 0.1: nothing
		{1e-7, []bool{false, true, false}}, // at least one token is always kept
	} {
		s := NewSampler(SampleConfig{Temperature: 1, TopP: c.p, Seed: 5})
		if got := keptSet(s, logits); !slices.Equal(got, c.want) {
			t.Errorf("p %g: kept %v, want %v", c.p, got, c.want)
		}
	}
	// Tiny p with a tie at the top keeps exactly one token, the lower id.
	s := NewSampler(SampleConfig{Temperature: 0.5, TopP: 1e-9, Seed: 1})
	tied := []float32{0, 3, 1, 3, 3}
	for range 1000 {
		if tok := s.Next(tied); tok != 1 {
			t.Fatalf("tiny top-p drew %d", tok)
		}
	}
	// p 0 and 1 are off.
	for _, p := range []float32{0, 1} {
		s := NewSampler(SampleConfig{Temperature: 1, TopP: p})
		if got := keptSet(s, logits); !slices.Equal(got, []bool{true, true, true}) {
			t.Errorf("p %g should be off: %v", p, got)
		}
	}
}

// chiSquare draws n tokens and compares the counts with probs; it fails when a token
// with probability 0 is drawn.
func chiSquare(t *testing.T, s *Sampler, logits []float32, probs []float64, n int) (chi2 float64, df int) {
	t.Helper()
	counts := make([]int, len(logits))
	for range n {
		counts[s.Next(logits)]++
	}
	for i, p := range probs {
		if p == 0 {
			if counts[i] != 0 {
				t.Fatalf("token %d has probability 0 but was drawn %d times", i, counts[i])
			}
			continue
		}
		e := p * float64(n)
		chi2 += (float64(counts[i]) - e) * (float64(counts[i]) - e) / e
		df++
	}
	return chi2, df - 1
}

func softmaxKept(logits []float32, temp float32, keep []bool) []float64 {
	p := make([]float64, len(logits))
	m := math.Inf(-1)
	for i, v := range logits {
		if keep[i] {
			m = max(m, float64(v/temp))
		}
	}
	var z float64
	for i, v := range logits {
		if keep[i] {
			p[i] = math.Exp(float64(v/temp) - m)
			z += p[i]
		}
	}
	for i := range p {
		p[i] /= z
	}
	return p
}

func TestSampleDistribution(t *testing.T) {
	// The seeds are fixed, so these draws are the same on every run: the bounds (far in
	// the chi-square tail, p < 1e-4 for these degrees of freedom) cannot flake; they
	// only catch a wrong distribution.
	r := rand.New(rand.NewPCG(7, 7))
	logits := make([]float32, 12)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 1.5)
	}
	all := make([]bool, len(logits))
	for i := range all {
		all[i] = true
	}
	const draws = 200000
	for _, cfg := range []SampleConfig{
		{Temperature: 1, Seed: 11},
		{Temperature: 0.6, Seed: 12},
		{Temperature: 2.5, Seed: 13},
		{Temperature: 1.3, TopK: 8, TopP: 0.9, Seed: 14},
		{Temperature: 0.8, TopP: 0.7, Seed: 15},
	} {
		probs := softmaxKept(logits, cfg.Temperature, refKept(logits, cfg))
		chi2, df := chiSquare(t, NewSampler(cfg), logits, probs, draws)
		if bound := float64(df) + 6*math.Sqrt(2*float64(df)) + 10; chi2 > bound {
			t.Errorf("%+v: chi-square %.1f with %d degrees of freedom (bound %.1f)", cfg, chi2, df, bound)
		}
		t.Logf("%+v: chi-square %.1f, df %d", cfg, chi2, df)
	}
	// Lower temperature sharpens: the argmax is drawn more often.
	top := Argmax(logits)
	freq := func(temp float32) int {
		s := NewSampler(SampleConfig{Temperature: temp, Seed: 99})
		c := 0
		for range 20000 {
			if s.Next(logits) == top {
				c++
			}
		}
		return c
	}
	if a, b, c := freq(0.3), freq(1), freq(3); !(a > b && b > c) {
		t.Errorf("argmax frequency at temperatures 0.3, 1, 3: %d %d %d", a, b, c)
	}
}

func TestSampleReproducible(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	logits := make([]float32, 1000)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 2)
	}
	run := func(seed uint64) []int {
		s := NewSampler(SampleConfig{Temperature: 0.9, TopP: 0.95, TopK: 200, Seed: seed})
		out := make([]int, 200)
		for i := range out {
			out[i] = s.Next(logits)
		}
		return out
	}
	a, b := run(42), run(42)
	if !slices.Equal(a, b) {
		t.Fatal("equal seeds gave different samples")
	}
	for i := uint64(1); i <= 3; i++ {
		if slices.Equal(a, run(42+i)) {
			t.Fatalf("seeds 42 and %d gave the same samples", 42+i)
		}
	}
}

func TestSampleNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	logits := make([]float32, 151936)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 3)
	}
	for _, cfg := range []SampleConfig{
		{Temperature: 0.7, TopP: 0.9, TopK: 50},
		{Temperature: 1, TopP: 0.95},
		{Temperature: 0.8},
		{},
	} {
		s := NewSampler(cfg)
		s.Next(logits)
		if a := testing.AllocsPerRun(5, func() { s.Next(logits) }); a != 0 {
			t.Errorf("%+v: %v allocations per Next", cfg, a)
		}
	}
}

func TestNucleusBoundary(t *testing.T) {
	// Small integer weights make running sums hit need exactly, at pivots too.
	r := rand.New(rand.NewPCG(10, 11))
	for range 3000 {
		n := 1 + r.IntN(150)
		c := make([]candidate, n)
		var sum uint64
		for i := range c {
			c[i] = candidate{x: float32(r.IntN(6)), i: int32(r.IntN(1000)*n + i), q: uint64(r.IntN(4))}
			sum += c[i].q
		}
		if sum == 0 {
			continue
		}
		need := 1 + uint64(r.IntN(int(sum)))
		sorted := slices.Clone(c)
		slices.SortFunc(sorted, func(a, b candidate) int {
			if a.above(b) {
				return -1
			}
			return 1
		})
		var want candidate
		var acc uint64
		for _, e := range sorted {
			acc += e.q
			if acc >= need {
				want = e
				break
			}
		}
		if got := nucleusBoundary(slices.Clone(c), need); got != want {
			t.Fatalf("n %d need %d: boundary %+v, want %+v", n, need, got, want)
		}
	}
}

func TestKthLargest(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	sp := NewSampler(SampleConfig{Temperature: 1})
	for range 500 {
		n := 1 + r.IntN(300)
		a := make([]float32, n)
		for i := range a {
			a[i] = float32(r.IntN(20)) // many duplicates
			if r.IntN(10) == 0 {
				a[i] = negInf
			}
		}
		s := slices.Clone(a)
		slices.Sort(s)
		k := 1 + r.IntN(n)
		if got := kthLargest(slices.Clone(a), k); got != s[n-k] {
			t.Fatalf("quickselect: k %d of %v: %g, want %g", k, a, got, s[n-k])
		}
		if k < n {
			if got := sp.kthLargest(a, k); got != s[n-k] {
				t.Fatalf("heap: k %d of %v: %g, want %g", k, a, got, s[n-k])
			}
		}
	}
}

func TestStopMatcher(t *testing.T) {
	m := NewStopMatcher([]string{"\nQ:", "</s>", "", "END"})
	// Text arrives token by token; the stop string "\nQ:" is split across three tokens.
	pieces := []string{"The answer", " is 4.", "\n", "Q", ": next"}
	text := ""
	for i, p := range pieces {
		text += p
		cut, stopped := m.Check(text)
		if stopped != (i >= 4) {
			t.Fatalf("after %q: stopped %v", text, stopped)
		}
		if stopped && text[:cut] != "The answer is 4." {
			t.Fatalf("kept %q", text[:cut])
		}
		if !stopped && cut != len(text) {
			t.Fatalf("no stop but cut %d", cut)
		}
	}
	// The earliest occurrence wins, whatever the order of the stop list.
	for _, c := range []struct {
		stops []string
		text  string
		cut   int
		ok    bool
	}{
		{[]string{"END", "</s>"}, "a</s>bEND", 1, true},
		{[]string{"</s>", "END"}, "aENDb</s>", 1, true},
		{[]string{"ab", "b"}, "xab", 1, true},
		{[]string{"b", "ab"}, "xab", 1, true},
		{[]string{"\n\n", "\n"}, "x\n\ny", 1, true},
		{[]string{"stop"}, "sto", 3, false},
		{[]string{"stop"}, "stop", 0, true},
		{nil, "anything", 8, false},
		{[]string{""}, "anything", 8, false},
		{[]string{"é"}, "caféé", 3, true},
	} {
		cut, ok := NewStopMatcher(c.stops).Check(c.text)
		if cut != c.cut || ok != c.ok {
			t.Errorf("%q in %q: (%d, %v), want (%d, %v)", c.stops, c.text, cut, ok, c.cut, c.ok)
		}
	}
}

func TestStopMatcherHoldback(t *testing.T) {
	m := NewStopMatcher([]string{"\nQ:", "</s>"})
	for _, c := range []struct {
		text string
		want int
	}{
		{"hello", 0},
		{"hello\n", 1},
		{"hello\nQ", 2},
		{"hello</", 2},
		{"hello</s", 3},
		{"hello<", 1},
		{"", 0},
		{"a\nb", 0},
	} {
		if got := m.Holdback(c.text); got != c.want {
			t.Errorf("Holdback(%q) = %d, want %d", c.text, got, c.want)
		}
	}
}

func BenchmarkSampleNext(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	logits := make([]float32, 151936)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 3)
	}
	for _, cfg := range []SampleConfig{
		{},
		{Temperature: 0.8},
		{Temperature: 0.7, TopK: 50},
		{Temperature: 1, TopP: 0.95},
		{Temperature: 0.7, TopP: 0.9, TopK: 50},
	} {
		b.Run(fmt.Sprintf("T%g_p%g_k%d", cfg.Temperature, cfg.TopP, cfg.TopK), func(b *testing.B) {
			s := NewSampler(cfg)
			for b.Loop() {
				s.Next(logits)
			}
		})
	}
}
