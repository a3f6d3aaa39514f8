package arc

import (
	"math/rand/v2"
	"sort"
)

// Identity is the inverse name of a prediction made on an untransformed prompt.
const Identity = "identity"

// Prediction is one parsed answer, already mapped back through the inverse of the
// transform its prompt was made with (Inverse names that inverse; Identity for none).
type Prediction struct {
	Grid    Grid
	Inverse string
}

// voteBuckets are the buckets whose top candidates are pooled, in the reference's order.
var voteBuckets = []string{"all", Identity, "Transpose()", "Flip(0)", "Flip(1)", "Rotate(180)", "Rotate(270)"}

// Vote picks up to two attempts from the predictions as the reference does (§2.6):
// bucket them by inverse transform plus an "all" bucket; take each bucket's three most
// frequent grids (gaps filled with its row-wise, then column-wise majority grid); pool
// those and rank by frequency in the pool. Attempt 1 is the most frequent; attempt 2
// the second, except that when the second and third tie the one seen more often in the
// identity bucket wins. Ties otherwise keep first-seen order.
func Vote(preds []Prediction) []Grid {
	if len(preds) == 0 {
		return nil
	}
	buckets := map[string][]Grid{}
	for _, p := range preds {
		name := p.Inverse
		if name == "" {
			name = Identity
		}
		buckets[name] = append(buckets[name], p.Grid)
		buckets["all"] = append(buckets["all"], p.Grid)
	}
	var pool []Grid
	for _, b := range voteBuckets {
		gs := buckets[b]
		if len(gs) == 0 {
			continue
		}
		top := mostFrequent(gs, 3)
		for _, fill := range []Grid{majority(gs, false), majority(gs, true)} {
			if len(top) < 3 && fill != nil && !containsGrid(top, fill) {
				top = append(top, fill)
			}
		}
		pool = append(pool, top...)
	}
	ranked := rank(pool)
	if len(ranked) > 3 {
		ranked = ranked[:3]
	}
	if len(ranked) == 3 && ranked[1].n == ranked[2].n {
		id := counts(buckets[Identity])
		if id[ranked[2].g.key()] > id[ranked[1].g.key()] {
			ranked[1], ranked[2] = ranked[2], ranked[1]
		}
	}
	out := []Grid{ranked[0].g}
	if len(ranked) > 1 {
		out = append(out, ranked[1].g)
	}
	return out
}

type counted struct {
	g     Grid
	n     int
	first int
}

// rank counts distinct grids and orders them by count, then first appearance.
func rank(gs []Grid) []counted {
	idx := map[string]int{}
	var cs []counted
	for i, g := range gs {
		k := g.key()
		if j, ok := idx[k]; ok {
			cs[j].n++
			continue
		}
		idx[k] = len(cs)
		cs = append(cs, counted{g: g, n: 1, first: i})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].n > cs[j].n })
	return cs
}

func mostFrequent(gs []Grid, k int) []Grid {
	var out []Grid
	for i, c := range rank(gs) {
		if i == k {
			break
		}
		out = append(out, c.g)
	}
	return out
}

func counts(gs []Grid) map[string]int {
	m := map[string]int{}
	for _, g := range gs {
		m[g.key()]++
	}
	return m
}

func containsGrid(gs []Grid, g Grid) bool {
	for _, h := range gs {
		if h.Equal(g) {
			return true
		}
	}
	return false
}

// majority builds a grid of the most common shape whose every row (or, with byCols,
// every column) is the most common one among the grids of that shape.
func majority(gs []Grid, byCols bool) Grid {
	shapes := map[[2]int]int{}
	best, bestN := [2]int{}, 0
	for _, g := range gs {
		s := [2]int{g.Rows(), g.Cols()}
		shapes[s]++
		if shapes[s] > bestN {
			best, bestN = s, shapes[s]
		}
	}
	var same []Grid
	for _, g := range gs {
		if g.Rows() == best[0] && g.Cols() == best[1] {
			if byCols {
				g = Transpose{}.Apply(g)
			}
			same = append(same, g)
		}
	}
	out := make(Grid, len(same[0]))
	for r := range out {
		rows := make([]Grid, len(same))
		for i, g := range same {
			rows[i] = Grid{g[r]}
		}
		out[r] = append([]int(nil), rank(rows)[0].g[0]...)
	}
	if byCols {
		out = Transpose{}.Apply(out)
	}
	return out
}

// Query is one inference prompt's task: demonstrations and the test input, with every
// grid put through Transform (nil for none).
type Query struct {
	Demos     []Pair
	Input     Grid
	Transform Transform
}

// Undo maps an answer back through the inverse of the query's transform.
func (q Query) Undo(g Grid) (Grid, error) {
	if q.Transform == nil {
		return g, nil
	}
	return q.Transform.Invert(g)
}

// InverseName is the voting bucket of the query's answers: the name of the inverse
// transform (Rotate(90)'s is Rotate(270); flips and the transpose are their own).
func (q Query) InverseName() string {
	switch t := q.Transform.(type) {
	case nil:
		return Identity
	case Rotate:
		return Rotate{K: 4 - mod4(t.K)}.Name()
	default:
		return t.Name()
	}
}

// votingTransforms are the geometric augmenters of the inference set, in order (§2.6).
var votingTransforms = []Transform{Transpose{}, Flip{0}, Flip{1}, Rotate{1}, Rotate{2}}

// VotingQueries builds the reference's inference set for one test input (§2.6):
// leave-one-out demonstration sets, each with two demo-shuffled copies, de-duplicated
// (at most 3N); then for each of Transpose, Flip(0), Flip(1), Rotate(90), Rotate(180)
// one randomly picked query with every grid transformed, kept unless it duplicates
// one already there. A task with one demonstration keeps it in every query.
func VotingQueries(t Task, test int, seed uint64) []Query {
	rng := rand.New(rand.NewPCG(seed, 0x70))
	var qs []Query
	seen := map[string]bool{}
	add := func(q Query) bool {
		k := Task{Train: q.Demos, Test: []Pair{{Input: q.Input}}}.key()
		if seen[k] {
			return false
		}
		seen[k] = true
		qs = append(qs, q)
		return true
	}
	input := t.Test[test].Input
	for i := range t.Train {
		demos := clonePairs(t.Train)
		if len(demos) > 1 {
			demos = append(demos[:i], demos[i+1:]...)
		}
		add(Query{Demos: demos, Input: input})
		for range 2 {
			p := PermuteExamples(Task{Train: demos}, rng)
			add(Query{Demos: p.Train, Input: input})
		}
	}
	base := len(qs)
	for _, tr := range votingTransforms {
		q := qs[rng.IntN(base)]
		x := Task{Train: q.Demos, Test: []Pair{{Input: q.Input}}}.mapGrids(nilSafe(tr.Apply))
		add(Query{Demos: x.Train, Input: x.Test[0].Input, Transform: tr})
	}
	return qs
}
