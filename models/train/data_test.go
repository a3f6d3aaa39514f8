package train

import (
	"slices"
	"testing"
)

const ig = IgnoreIndex

func TestLabels(t *testing.T) {
	ex := Example{Tokens: []int32{10, 11, 12, 13, 14}, LossMask: []bool{false, false, true, true, false}}
	if got, want := Labels(ex), []int32{ig, ig, 12, 13, ig}; !slices.Equal(got, want) {
		t.Errorf("Labels %v, want %v", got, want)
	}
	if got := Labels(Example{Tokens: []int32{1, 2}}); !slices.Equal(got, []int32{1, 2}) {
		t.Errorf("nil mask: %v", got)
	}
	all := Example{Tokens: []int32{1, 2, 3}, LossMask: make([]bool, 3)}
	if got := Labels(all); !slices.Equal(got, []int32{ig, ig, ig}) {
		t.Errorf("all masked: %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic on a short mask")
		}
	}()
	Labels(Example{Tokens: []int32{1, 2}, LossMask: []bool{true}})
}

func TestShiftedTargets(t *testing.T) {
	// prompt 1 2, completion 3 4: positions 1 and 2 predict 3 and 4.
	tokens := []int32{1, 2, 3, 4}
	labels := []int32{ig, ig, 3, 4}
	if got, want := ShiftedTargets(tokens, labels), []int32{ig, 3, 4, ig}; !slices.Equal(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
	if got, want := ShiftedTargets(tokens, nil), []int32{2, 3, 4, ig}; !slices.Equal(got, want) {
		t.Errorf("nil labels: %v, want %v", got, want)
	}
	if got := ShiftedTargets([]int32{7}, []int32{7}); !slices.Equal(got, []int32{ig}) {
		t.Errorf("one token: %v", got)
	}
	if got := ShiftedTargets(nil, nil); len(got) != 0 {
		t.Errorf("empty: %v", got)
	}
	if got := ShiftedTargets([]int32{1, 2, 3}, []int32{ig, ig, ig}); !slices.Equal(got, []int32{ig, ig, ig}) {
		t.Errorf("all masked: %v", got)
	}
	// Only the first label is dropped by the shift: it is never a target.
	if got := ShiftedTargets([]int32{5, 6}, []int32{5, ig}); !slices.Equal(got, []int32{ig, ig}) {
		t.Errorf("first label: %v", got)
	}
}

func TestPack(t *testing.T) {
	exs := []Example{
		{Tokens: []int32{1, 2, 3}, LossMask: []bool{false, true, true}},
		{Tokens: []int32{4, 5, 6, 7, 8}, LossMask: []bool{false, false, false, true, true}},
		{Tokens: []int32{9, 9}, LossMask: []bool{false, false}}, // all masked
		{},
	}
	ids, labels := Pack(exs, 0)
	wantIDs := [][]int32{{1, 2, 3, 0, 0}, {4, 5, 6, 7, 8}, {9, 9, 0, 0, 0}, {0, 0, 0, 0, 0}}
	wantLab := [][]int32{{ig, 2, 3, ig, ig}, {ig, ig, ig, 7, 8}, {ig, ig, ig, ig, ig}, {ig, ig, ig, ig, ig}}
	for b := range exs {
		if !slices.Equal(ids[b], wantIDs[b]) || !slices.Equal(labels[b], wantLab[b]) {
			t.Errorf("row %d: ids %v labels %v, want %v %v", b, ids[b], labels[b], wantIDs[b], wantLab[b])
		}
	}
	// A pad id that is also a real token must still never count in the loss.
	ids, labels = Pack([]Example{{Tokens: []int32{3}}, {Tokens: []int32{3, 3, 3}}}, 3)
	if !slices.Equal(ids[0], []int32{3, 3, 3}) || !slices.Equal(labels[0], []int32{3, ig, ig}) {
		t.Errorf("pad = token: %v %v", ids[0], labels[0])
	}
	if ids, labels := Pack(nil, 0); ids != nil || labels != nil {
		t.Error("empty batch")
	}
	// Pack must not alias the examples' slices.
	ex := Example{Tokens: []int32{1, 2}}
	ids, _ = Pack([]Example{ex}, 0)
	ids[0][0] = 99
	if ex.Tokens[0] != 1 {
		t.Error("Pack aliases the tokens")
	}
}

func TestShuffle(t *testing.T) {
	for _, n := range []int{0, 1, 2, 10, 1000} {
		p := Shuffle(n, 42, 0)
		if len(p) != n {
			t.Fatalf("n %d: len %d", n, len(p))
		}
		s := slices.Clone(p)
		slices.Sort(s)
		for i := range s {
			if s[i] != i {
				t.Fatalf("n %d: not a permutation: %v", n, p)
			}
		}
		if !slices.Equal(p, Shuffle(n, 42, 0)) {
			t.Fatalf("n %d: not deterministic", n)
		}
	}
	a, b, c := Shuffle(100, 1, 0), Shuffle(100, 1, 1), Shuffle(100, 2, 0)
	if slices.Equal(a, b) || slices.Equal(a, c) || slices.Equal(a, slices.Sorted(slices.Values(a))) {
		t.Fatal("epochs or seeds give the same order, or no shuffling at all")
	}
	// Pinned: the order must not change with the Go version (jobs replay by seed).
	if got, want := Shuffle(8, 7, 3), pinnedShuffle; !slices.Equal(got, want) {
		t.Fatalf("Shuffle(8, 7, 3) = %v, pinned %v", got, want)
	}
	// Every position is reached: over many epochs each element lands in slot 0 sometimes.
	seen := map[int]bool{}
	for e := range 200 {
		seen[Shuffle(5, 9, e)[0]] = true
	}
	if len(seen) != 5 {
		t.Fatalf("slot 0 saw only %v", seen)
	}
}

var pinnedShuffle = []int{4, 1, 2, 6, 7, 0, 3, 5}
