package arc

import (
	"math/rand/v2"
)

// LeaveOut makes the pseudo-tasks of leave-n-out from the demonstrations alone (the
// real tests are never used, §2.5): for n=1, each demo i becomes the test of a task
// whose demos are all the others (N tasks); for n=2, each ordered pair i≠j gives the
// test i and the demos without i and j (N(N−1) tasks, with no demos at all when N=2).
func LeaveOut(t Task, n int) []Task {
	var out []Task
	N := len(t.Train)
	for i := range N {
		for j := range N {
			if (n == 1 && j != i) || (n == 2 && j == i) || n < 1 || n > 2 {
				continue
			}
			p := Task{ID: t.ID, Test: clonePairs(t.Train[i : i+1])}
			for k := range N {
				if k != i && (n == 1 || k != j) {
					p.Train = append(p.Train, clonePairs(t.Train[k:k+1])...)
				}
			}
			out = append(out, p)
			if n == 1 {
				break
			}
		}
	}
	return out
}

// TrainingTasks builds the test-time-training tasks for one edit (§2.5). For each of
// leave-1 and leave-2, with its own RNG seeded from seed: every selected augmenter is
// applied to every pseudo-task (results with a side over 30 dropped), the unaugmented
// pseudo-tasks are added and duplicates dropped; then each task gets a recoloured
// (only when some augmenter is selected) and demo-shuffled copy, and duplicates are
// dropped again. The two lists are concatenated and, past limit, shuffled and cut.
// Python's set order makes the reference's sample irreproducible; this matches its
// procedure and distribution, deterministically.
func TrainingTasks(t Task, e EditConfig, limit int, seed uint64) []Task {
	augs := e.Augmenters()
	var all []Task
	for _, n := range []int{1, 2} {
		pcg := rand.NewPCG(seed, uint64(n))
		rng := rand.New(pcg)
		base := LeaveOut(t, n)
		set := append([]Task(nil), base...)
		for _, a := range augs {
			for _, p := range base {
				if x := a.Augment(p, pcg); x.maxSide() <= MaxSide {
					set = append(set, x)
				}
			}
		}
		set = dedupe(set)
		for _, x := range set[:len(set):len(set)] {
			if len(augs) > 0 {
				x = PermuteColors(x, rng)
			}
			set = append(set, PermuteExamples(x, rng))
		}
		all = append(all, dedupe(set)...)
	}
	if limit > 0 && len(all) > limit {
		r := rand.New(rand.NewPCG(seed, 0))
		r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		all = all[:limit]
	}
	return all
}
