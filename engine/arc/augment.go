package arc

import (
	"math/rand/v2"
	"slices"
)

// Augmenter makes a new task from a task by transforming every grid: demonstration
// inputs and outputs and the tests' (docs/seal-method.md §2.4).
type Augmenter interface {
	Name() string
	Augment(t Task, rng *rand.PCG) Task
}

// Geometric applies one fixed transform to every grid.
type Geometric struct{ T Transform }

func (a Geometric) Name() string                     { return a.T.Name() }
func (a Geometric) Augment(t Task, _ *rand.PCG) Task { return t.mapGrids(nilSafe(a.T.Apply)) }

func nilSafe(f func(Grid) Grid) func(Grid) Grid {
	return func(g Grid) Grid {
		if g == nil {
			return nil
		}
		return f(g)
	}
}

// RandomTranslateXY rolls every grid cyclically by (dx, dy), dx uniform in
// [0, min(4, rows)) and dy in [0, min(4, cols)). As in the reference, every pair draws
// from its own copy of the same RNG state (so all pairs get the same draws), input then
// output, and the caller's RNG is not advanced.
type RandomTranslateXY struct{}

func (RandomTranslateXY) Name() string { return "RandomTranslateXY()" }
func (RandomTranslateXY) Augment(t Task, rng *rand.PCG) Task {
	roll := func(p Pair) Pair {
		state := *rng
		r := rand.New(&state)
		shift := func(g Grid) Grid {
			if g == nil {
				return nil
			}
			dx := r.IntN(min(4, g.Rows()))
			dy := r.IntN(min(4, g.Cols()))
			return Roll{dx, dy}.Apply(g)
		}
		in := shift(p.Input)
		return Pair{Input: in, Output: shift(p.Output)}
	}
	out := Task{ID: t.ID}
	for _, p := range t.Train {
		out.Train = append(out.Train, roll(p))
	}
	for _, p := range t.Test {
		out.Test = append(out.Test, roll(p))
	}
	return out
}

// The four self-edit groups, in the reference's order (which fixes RNG consumption).
func basicAugmenters() []Augmenter {
	return []Augmenter{Geometric{Rotate{1}}, Geometric{Rotate{3}}, Geometric{Rotate{2}},
		Geometric{Flip{0}}, Geometric{Flip{1}},
		Geometric{Reflect{0, true}}, Geometric{Reflect{1, true}}, Geometric{Reflect{0, false}}, Geometric{Reflect{1, false}},
		RandomTranslateXY{}, Geometric{Transpose{}}}
}

func sizeAugmenters() []Augmenter {
	return []Augmenter{Geometric{Scale{2, 2}}, Geometric{Scale{2, 1}}, Geometric{Scale{1, 2}}}
}

func chainAugmenters() []Augmenter {
	var out []Augmenter
	for _, t := range []Transform{Rotate{1}, Rotate{3}, Rotate{2}, Flip{0}, Flip{1}, Transpose{}} {
		out = append(out, Geometric{Chain{t, Scale{2, 2}}})
	}
	return out
}

func repeatAugmenters() []Augmenter {
	return []Augmenter{Geometric{Repeat{0, 2}}, Geometric{Repeat{1, 2}}, Geometric{Repeat{2, 2}}}
}

// Augmenters returns the augmenters an edit's data-generation flags select, group by
// group in the reference's order.
func (e EditConfig) Augmenters() []Augmenter {
	var out []Augmenter
	if e.Basic {
		out = append(out, basicAugmenters()...)
	}
	if e.Size {
		out = append(out, sizeAugmenters()...)
	}
	if e.Chain {
		out = append(out, chainAugmenters()...)
	}
	if e.Repeat {
		out = append(out, repeatAugmenters()...)
	}
	return out
}

// ColourPermutation draws the reference's PermuteColors map for a task: 0 stays; each
// non-zero colour used anywhere in the task (tests' outputs included), in ascending
// order, takes a colour popped from the end of a shuffled list of the unused colours
// 1-9; once those run out, from a shuffled list of the used colours not yet taken, so
// the map is a permutation. Colours absent from the task complete the bijection.
func ColourPermutation(t Task, rng *rand.Rand) ColourMap {
	var used [10]bool
	for _, ps := range [][]Pair{t.Train, t.Test} {
		for _, p := range ps {
			for _, g := range []Grid{p.Input, p.Output} {
				for _, row := range g {
					for _, v := range row {
						used[v] = true
					}
				}
			}
		}
	}
	var usedList, unused []int
	for c := 1; c <= 9; c++ {
		if used[c] {
			usedList = append(usedList, c)
		} else {
			unused = append(unused, c)
		}
	}
	rng.Shuffle(len(unused), func(i, j int) { unused[i], unused[j] = unused[j], unused[i] })
	var m ColourMap
	for c := range m {
		m[c] = c
	}
	var taken [10]bool
	var spare []int
	for _, c := range usedList {
		if len(unused) > 0 {
			m[c] = unused[len(unused)-1]
			unused = unused[:len(unused)-1]
		} else {
			if spare == nil {
				for _, u := range usedList {
					if !taken[u] {
						spare = append(spare, u)
					}
				}
				rng.Shuffle(len(spare), func(i, j int) { spare[i], spare[j] = spare[j], spare[i] })
			}
			m[c] = spare[len(spare)-1]
			spare = spare[:len(spare)-1]
		}
		taken[m[c]] = true
	}
	// Complete the bijection: colours absent from the task take the targets left over,
	// in order, so the map can be inverted.
	var free []int
	for c := 1; c <= 9; c++ {
		if !taken[c] {
			free = append(free, c)
		}
	}
	for c := 1; c <= 9; c++ {
		if !used[c] {
			m[c], free = free[0], free[1:]
		}
	}
	return m
}

// PermuteColors recolours the whole task with a drawn ColourPermutation.
func PermuteColors(t Task, rng *rand.Rand) Task {
	return t.mapGrids(nilSafe(ColourPermutation(t, rng).Apply))
}

// PermuteExamples shuffles the order of the demonstrations.
func PermuteExamples(t Task, rng *rand.Rand) Task {
	out := t.Clone()
	rng.Shuffle(len(out.Train), func(i, j int) { out.Train[i], out.Train[j] = out.Train[j], out.Train[i] })
	return out
}

// dedupe keeps the first task of each distinct set of grids, in order.
func dedupe(ts []Task) []Task {
	seen := map[string]bool{}
	return slices.DeleteFunc(ts, func(t Task) bool {
		k := t.key()
		if seen[k] {
			return true
		}
		seen[k] = true
		return false
	})
}
