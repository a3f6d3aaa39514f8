package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"seal/engine"
	"seal/engine/effect"
	"seal/store"
)

// A comparison of two runs is only as good as its pairing: two models measured on the same
// passages differ far less than their two tables' intervals suggest, because an easy passage
// is easy for both. So `seal compare` pairs the effect tables' rows passage by passage (ARC:
// task by task) over the items both runs evaluated, and gives each difference its own
// bootstrap interval, as `seal effect` does for the rows of one run.

// itemScores is one run's effect-table rows as score vectors over its evaluation items, and
// each item's identity for pairing with another run's.
type itemScores struct {
	domain string
	items  []string           // per position: what makes two runs' items the same one
	conds  []effect.Condition // the table's reading (the run's grader; ARC: pass@2)
	exact  []effect.Condition // knowledge: the same answers read by exact match
}

// runItemScores reads run id's effect-table rows. A knowledge passage is identified by its
// title, text and questions (so a run on other questions of the same passage is no pair),
// an ARC sub-task by its name.
func runItemScores(d *store.DB, id int64) (itemScores, error) {
	run, err := d.Run(id)
	if err != nil {
		return itemScores{}, err
	}
	s := itemScores{domain: run.Domain}
	if run.Domain == "arc" {
		a, err := engine.ARCEffectOf(d, id)
		if err != nil {
			return s, err
		}
		s.items = a.Tasks
		for i, c := range a.Conditions {
			s.conds = append(s.conds, effect.Condition{Label: c, Scores: a.Scores[i]})
		}
		return s, nil
	}
	tasks, err := d.Tasks(id)
	if err != nil {
		return s, err
	}
	ev := evalTasksOf(tasks)
	s.items = make([]string, len(ev.index))
	for _, t := range tasks {
		if pos, ok := ev.index[t.Index]; ok {
			qs, _ := json.Marshal(t.Questions)
			s.items[pos] = t.Title + "\x00" + t.Context + "\x00" + string(qs)
		}
	}
	cands, err := d.Candidates(id, true)
	if err != nil {
		return s, err
	}
	s.conds = effectConditions(cands, ev.index, storedAccuracy)
	s.exact = effectConditions(cands, ev.index, engine.ExactAccuracy)
	return s, nil
}

// evalTasks are a run's evaluation passages (its RL passages are no part of the table).
type evalTasks struct {
	index     map[int]int    // a task's index -> its position among the evaluation passages
	passages  map[int]string // a task's index -> the passage as the policy read it
	questions int
}

func evalTasksOf(tasks []store.Task) evalTasks {
	ev := evalTasks{index: map[int]int{}, passages: map[int]string{}}
	for _, t := range tasks {
		if !engine.IsRLKey(t.Key) {
			ev.index[t.Index] = len(ev.index)
			ev.questions += len(t.Questions)
			ev.passages[t.Index] = t.Title + "\n" + t.Context
		}
	}
	return ev
}

// pairedComparison prints, for each row both runs' tables have, both values and the
// difference b - a over the items both evaluated, with its paired 95% interval. It says so,
// and prints no table, when the runs share no item or no row.
func pairedComparison(a, b itemScores, aName, bName string, resamples int) string {
	var out strings.Builder
	fmt.Fprintf(&out, "\npaired: %s against %s", bName, aName)
	if a.domain != b.domain {
		fmt.Fprintf(&out, ": not comparable (%s and %s runs)\n", a.domain, b.domain)
		return out.String()
	}
	at, bt := pairItems(a.items, b.items)
	noun := map[bool]string{true: "tasks", false: "passages"}[a.domain == "arc"]
	if len(at) == 0 {
		fmt.Fprintf(&out, ": no evaluation %s in common (%d and %d), so no paired difference\n", noun, len(a.items), len(b.items))
		return out.String()
	}
	fmt.Fprintf(&out, ", over the %d evaluation %s both runs scored (%s has %d, %s %d)\n", len(at), noun, aName, len(a.items), bName, len(b.items))
	metric := "closed-book accuracy (the run's grader)"
	if a.domain == "arc" {
		metric = "pass@2"
	}
	rows := pairedRows(a.conds, b.conds, at, bt, resamples)
	if rows == "" {
		out.WriteString("no row of the effect table is in both runs\n")
		return out.String()
	}
	fmt.Fprintf(&out, "\n| %s | %s | %s | difference (paired) | 95%% CI |\n|---|---|---|---|---|\n%s", metric, aName, bName, rows)
	if exact := pairedRows(a.exact, b.exact, at, bt, resamples); exact != "" {
		fmt.Fprintf(&out, "\n| exact match (a second reading) | %s | %s | difference (paired) | 95%% CI |\n|---|---|---|---|---|\n%s", aName, bName, exact)
	}
	fmt.Fprintf(&out, "\nMeans over the %s both runs scored; intervals by a percentile bootstrap over them (%d resamples, seed %d), a difference resampling the same %s for both runs.\n",
		noun, resamples, effectSeed, noun)
	return out.String()
}

// pairItems gives the positions in a and in b of the items both have, in a's order (an item
// that appears twice in a run pairs its first occurrence).
func pairItems(a, b []string) (at, bt []int) {
	inB := map[string]int{}
	for i := len(b) - 1; i >= 0; i-- {
		inB[b[i]] = i
	}
	seen := map[string]bool{}
	for i, it := range a {
		if j, ok := inB[it]; ok && !seen[it] {
			seen[it] = true
			at, bt = append(at, i), append(bt, j)
		}
	}
	return at, bt
}

// pairedRows is the markdown rows of pairedComparison for the labels in both a and b, in a's
// order.
func pairedRows(a, b []effect.Condition, at, bt []int, resamples int) string {
	var out strings.Builder
	for _, ca := range a {
		cb := scoresOf(b, ca.Label)
		if cb == nil {
			continue
		}
		x, y := pick(ca.Scores, at), pick(cb, bt)
		ma, mb := effect.Mean(x, 0, effectSeed), effect.Mean(y, 0, effectSeed)
		d := effect.Paired(x, y, resamples, effectSeed)
		fmt.Fprintf(&out, "| %s | %s | %s | %s | %s |\n", ca.Label, effect.Num(ma.Est), effect.Num(mb.Est), effect.Signed(d.Est), effect.IntervalText(d, true)+fewer(d.N, len(at)))
	}
	return out.String()
}

// fewer notes a difference taken over fewer items than the pair has (a row without a score
// on some of them in one run).
func fewer(n, of int) string {
	if n == of {
		return ""
	}
	return fmt.Sprintf(" (%d of %d)", n, of)
}

func pick(x []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = x[j]
	}
	return out
}
