package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"seal/engine"
	"seal/engine/effect"
	"seal/store"
)

// `seal compare` and the workbench's compare view pair two runs' effect tables item by item
// (engine/effect.Pair): a knowledge passage is the same one in two runs when its title,
// text and questions are (so a run on other questions of it is no pair), an ARC sub-task
// when its name is.

// itemScores is one run's effect table under each of its readings, items identified.
type itemScores struct {
	domain   string
	readings []namedScores // the table's own reading first
}

type namedScores struct {
	metric string
	effect.Scored
}

// runItemScores reads run id's effect table: knowledge runs by their grader and by exact
// match, ARC runs by pass@2.
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
		s.readings = []namedScores{{"pass@2", effect.Scored{Items: a.Tasks, Conditions: arcConditions(a)}}}
		return s, nil
	}
	tasks, err := d.Tasks(id)
	if err != nil {
		return s, err
	}
	ev := evalTasksOf(tasks)
	items := make([]string, len(ev.index))
	for _, t := range tasks {
		if pos, ok := ev.index[t.Index]; ok {
			qs, _ := json.Marshal(t.Questions)
			items[pos] = t.Title + "\x00" + t.Context + "\x00" + string(qs)
		}
	}
	cands, err := d.Candidates(id, true)
	if err != nil {
		return s, err
	}
	s.readings = []namedScores{
		{"closed-book accuracy (the run's grader)", effect.Scored{Items: items, Conditions: effectConditions(cands, ev.index, storedAccuracy)}},
		{"exact match (a second reading)", effect.Scored{Items: items, Conditions: effectConditions(cands, ev.index, engine.ExactAccuracy)}},
	}
	return s, nil
}

// pairRuns pairs b's table with a's under every reading both have.
func pairRuns(a, b itemScores, resamples int) effect.Compared {
	c := effect.Compared{Items: map[bool]string{true: "tasks", false: "passages"}[a.domain == "arc"]}
	if a.domain != b.domain {
		c.Reason = fmt.Sprintf("not comparable (%s and %s runs)", a.domain, b.domain)
		return c
	}
	o := effect.Options{Resamples: resamples, Seed: effectSeed}
	for _, ra := range a.readings {
		for _, rb := range b.readings {
			if rb.metric == ra.metric {
				c.Readings = append(c.Readings, effect.Reading{Metric: ra.metric, Pairing: effect.Pair(ra.Scored, rb.Scored, o)})
			}
		}
	}
	return c
}

// pairedRunsOf is ui.Options.Paired: every ordered pair of runs of one history file paired
// (pairs[{i, j}]: run ids[j]'s table against run ids[i]'s), each run read once; a pair with a
// run that does not read says why.
func pairedRunsOf(d *store.DB, ids []int64) map[[2]int]effect.Compared {
	scores, errs := make([]itemScores, len(ids)), make([]error, len(ids))
	for i, id := range ids {
		scores[i], errs[i] = runItemScores(d, id)
	}
	pairs := map[[2]int]effect.Compared{}
	for i := range ids {
		for j := range ids {
			switch {
			case i == j:
			case errs[i] != nil:
				pairs[[2]int{i, j}] = effect.Compared{Reason: errs[i].Error()}
			case errs[j] != nil:
				pairs[[2]int{i, j}] = effect.Compared{Reason: errs[j].Error()}
			default:
				pairs[[2]int{i, j}] = pairRuns(scores[i], scores[j], effect.DefaultResamples)
			}
		}
	}
	return pairs
}

// pairedMarkdown prints a pairing as `seal compare` does: a heading, and per reading a
// table of both runs' means and the paired difference with its interval.
func pairedMarkdown(c effect.Compared, aName, bName string, resamples int) string {
	var out strings.Builder
	fmt.Fprintf(&out, "\npaired: %s against %s", bName, aName)
	if c.Reason != "" {
		fmt.Fprintf(&out, ": %s\n", c.Reason)
		return out.String()
	}
	items, na, nb := c.Matched()
	if items == 0 {
		fmt.Fprintf(&out, ": no evaluation %s in common (%d and %d), so no paired difference\n", c.Items, na, nb)
		return out.String()
	}
	fmt.Fprintf(&out, ", over the %d evaluation %s both runs scored (%s has %d, %s %d)\n", items, c.Items, aName, na, bName, nb)
	rows := 0
	for _, r := range c.Readings {
		if len(r.Rows) == 0 {
			continue
		}
		fmt.Fprintf(&out, "\n| %s | %s | %s | difference (paired) | 95%% CI |\n|---|---|---|---|---|\n", r.Metric, aName, bName)
		for _, row := range r.Rows {
			fmt.Fprintf(&out, "| %s | %s | %s | %s | %s%s |\n", row.Label, effect.Num(row.A), effect.Num(row.B), effect.Signed(row.Diff.Est),
				effect.IntervalText(row.Diff, true), fewer(row.Diff.N, items))
			rows++
		}
	}
	if rows == 0 {
		out.WriteString("no row of the effect table is in both runs\n")
		return out.String()
	}
	fmt.Fprintf(&out, "\nMeans over the %s both runs scored; intervals by a percentile bootstrap over them (%d resamples, seed %d), a difference resampling the same %s for both runs.\n",
		c.Items, resamples, effectSeed, c.Items)
	return out.String()
}

// fewer notes a difference taken over fewer items than were matched (a row without a score
// on some of them in one run).
func fewer(n, of int) string {
	if n == of {
		return ""
	}
	return fmt.Sprintf(" (%d of %d)", n, of)
}
