package arc

import (
	"math/rand/v2"
	"testing"
)

// allTransforms is every grid transform the augmenters use, plus rolls and colour maps.
func allTransforms(r *rand.Rand) []Transform {
	ts := []Transform{Rotate{1}, Rotate{2}, Rotate{3}, Rotate{0}, Flip{0}, Flip{1}, Transpose{},
		Reflect{0, true}, Reflect{1, true}, Reflect{0, false}, Reflect{1, false},
		Roll{r.IntN(4), r.IntN(4)}, Roll{-5, 7},
		Scale{2, 2}, Scale{2, 1}, Scale{1, 2}, Scale{3, 2}, Repeat{0, 2}, Repeat{1, 2}, Repeat{2, 2}, Repeat{2, 3}}
	for _, t := range []Transform{Rotate{1}, Rotate{3}, Rotate{2}, Flip{0}, Flip{1}, Transpose{}} {
		ts = append(ts, Chain{t, Scale{2, 2}})
	}
	perm := r.Perm(10)
	var cm ColourMap
	copy(cm[:], perm)
	return append(ts, cm)
}

func TestEveryTransformFollowedByItsInverseIsTheIdentity(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i, g := range randomGrids(300, 2) {
		for _, tr := range allTransforms(r) {
			orig := g.Clone()
			out := tr.Apply(g)
			if !g.Equal(orig) {
				t.Fatalf("%s changed its input", tr.Name())
			}
			back, err := tr.Invert(out)
			if err != nil {
				t.Fatalf("grid %d %s: %v", i, tr.Name(), err)
			}
			if !back.Equal(g) {
				t.Fatalf("grid %d: %s then its inverse gives %v, want %v", i, tr.Name(), back, g)
			}
		}
	}
}

func TestTransformsMatchNumPy(t *testing.T) {
	g := Grid{{1, 2, 3}, {4, 5, 6}}
	for _, c := range []struct {
		tr   Transform
		want Grid
	}{
		{Rotate{1}, Grid{{3, 6}, {2, 5}, {1, 4}}}, // np.rot90: counter-clockwise
		{Rotate{2}, Grid{{6, 5, 4}, {3, 2, 1}}},
		{Rotate{3}, Grid{{4, 1}, {5, 2}, {6, 3}}},
		{Flip{0}, Grid{{4, 5, 6}, {1, 2, 3}}},
		{Flip{1}, Grid{{3, 2, 1}, {6, 5, 4}}},
		{Transpose{}, Grid{{1, 4}, {2, 5}, {3, 6}}},
		{Reflect{0, false}, Grid{{1, 2, 3}, {4, 5, 6}, {4, 5, 6}, {1, 2, 3}}},
		{Reflect{1, true}, Grid{{3, 2, 1, 1, 2, 3}, {6, 5, 4, 4, 5, 6}}},
		{Roll{1, 1}, Grid{{6, 4, 5}, {3, 1, 2}}}, // np.roll(g, (1, 1), axis=(0, 1))
		{Scale{2, 1}, Grid{{1, 2, 3}, {1, 2, 3}, {4, 5, 6}, {4, 5, 6}}},
		{Scale{1, 2}, Grid{{1, 1, 2, 2, 3, 3}, {4, 4, 5, 5, 6, 6}}},
		{Repeat{1, 2}, Grid{{1, 2, 3, 1, 2, 3}, {4, 5, 6, 4, 5, 6}}},
		{Repeat{0, 2}, Grid{{1, 2, 3}, {4, 5, 6}, {1, 2, 3}, {4, 5, 6}}},
	} {
		if got := c.tr.Apply(g); !got.Equal(c.want) {
			t.Errorf("%s: got %v, want %v", c.tr.Name(), got, c.want)
		}
	}
	if n := (Chain{Rotate{1}, Scale{2, 2}}).Name(); n != "Chain([Rotate(90), IncreaseResolution(2)])" {
		t.Errorf("chain name %q", n)
	}
}

func TestInvertRejectsAnswersThatCannotComeFromTheTransform(t *testing.T) {
	for _, c := range []struct {
		tr Transform
		g  Grid
	}{
		{Scale{2, 2}, Grid{{1, 2}, {1, 1}}},
		{Scale{2, 2}, Grid{{1, 1, 1}}},
		{Repeat{1, 2}, Grid{{1, 2, 1, 3}}},
		{Reflect{0, false}, Grid{{1}, {2}, {3}}},
		{ColourMap{1, 1}, Grid{{1}}},
	} {
		if _, err := c.tr.Invert(c.g); err == nil {
			t.Errorf("%s inverted %v", c.tr.Name(), c.g)
		}
	}
}

func TestColourPermutationIsAnInvertiblePermutationFixingZero(t *testing.T) {
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 1))
		gs := randomGrids(3, seed)
		task := Task{Train: []Pair{{gs[0], gs[1]}}, Test: []Pair{{Input: gs[2]}}}
		m := ColourPermutation(task, r)
		var seen [10]bool
		for _, v := range m {
			if seen[v] {
				t.Fatalf("seed %d: %v is not a permutation", seed, m)
			}
			seen[v] = true
		}
		if m[0] != 0 {
			t.Fatalf("seed %d: 0 maps to %d", seed, m[0])
		}
		p := PermuteColors(task, rand.New(rand.NewPCG(seed, 1)))
		for i, g := range []Grid{p.Train[0].Input, p.Train[0].Output, p.Test[0].Input} {
			back, err := m.Invert(g)
			if err != nil || !back.Equal(gs[i]) {
				t.Fatalf("seed %d grid %d: inverse gives %v, want %v (%v)", seed, i, back, gs[i], err)
			}
		}
		if p.Test[0].Output != nil {
			t.Fatal("a test without output must stay without one")
		}
	}
	// With few colours in use, every used colour moves to an unused one.
	task := Task{Train: []Pair{{Grid{{0, 1}}, Grid{{2, 0}}}}}
	m := ColourPermutation(task, rand.New(rand.NewPCG(1, 1)))
	if m[1] == 1 || m[1] == 2 || m[2] == 1 || m[2] == 2 {
		t.Fatalf("used colours map into the used set: %v", m)
	}
}

func TestRandomTranslateSharesDrawsAndLeavesTheRNG(t *testing.T) {
	g := Grid{{1, 2, 3, 4, 5}, {6, 7, 8, 9, 0}, {1, 1, 2, 2, 3}, {0, 0, 0, 0, 1}, {5, 5, 5, 5, 5}}
	task := Task{Train: []Pair{{g, g}, {g, g}, {g, g}}, Test: []Pair{{g, g}}}
	pcg := rand.NewPCG(9, 9)
	before := *pcg
	x := RandomTranslateXY{}.Augment(task, pcg)
	if *pcg != before {
		t.Fatal("the caller's RNG advanced")
	}
	for i, p := range append(x.Train[1:], x.Test...) {
		if !p.Input.Equal(x.Train[0].Input) || !p.Output.Equal(x.Train[0].Output) {
			t.Fatalf("pair %d drew different shifts from the first", i+1)
		}
	}
	// Over many seeds the input and output shifts of a pair differ at least once.
	differ := false
	for s := range uint64(20) {
		y := RandomTranslateXY{}.Augment(task, rand.NewPCG(s, 0))
		differ = differ || !y.Train[0].Input.Equal(y.Train[0].Output)
	}
	if !differ {
		t.Fatal("input and output always got the same shift")
	}
}

func TestAugmenterGroups(t *testing.T) {
	none := EditConfig{}
	if n := len(none.Augmenters()); n != 0 {
		t.Fatalf("no groups gives %d augmenters", n)
	}
	all := EditConfig{Basic: true, Size: true, Chain: true, Repeat: true}.Augmenters()
	if len(all) != 11+3+6+3 {
		t.Fatalf("all groups give %d augmenters, want 23", len(all))
	}
	if all[0].Name() != "Rotate(90)" || all[9].Name() != "RandomTranslateXY()" || all[10].Name() != "Transpose()" ||
		all[11].Name() != "IncreaseResolution(2)" || all[len(all)-1].Name() != "Repeat(2, 2)" {
		t.Fatalf("group order: %s %s %s %s", all[0].Name(), all[9].Name(), all[11].Name(), all[len(all)-1].Name())
	}
}
