package arc

import "math/rand/v2"

// randomGrids draws n grids of 1-12 rows and columns with random colours.
func randomGrids(n int, seed uint64) []Grid {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]Grid, n)
	for i := range out {
		g := New(1+r.IntN(12), 1+r.IntN(12))
		for _, row := range g {
			for c := range row {
				row[c] = r.IntN(10)
			}
		}
		out[i] = g
	}
	return out
}
