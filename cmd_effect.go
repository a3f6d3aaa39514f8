package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"seal/engine"
	"seal/store"
)

// cmdEffect runs the experiment behind the README's table: on held-out passages of
// the synthetic world, the embedded model's closed-book accuracy with no update, after
// training on the passage alone, and after training on its own self-edits, before and
// after a ReST-EM round.
func cmdEffect(args []string, stdout, stderr io.Writer) int {
	spec := engine.EmbeddedSpec()
	spec.Tasks, spec.Repeats, spec.Rounds, spec.Name = 64, 1, 2, "seal effect"
	fs := newFlagSet("effect", stderr)
	db := addDBFlag(fs)
	device := addDeviceFlag(fs)
	runID := fs.Int64("run", 0, "print the table of a stored effect run instead of running one")
	fs.IntVar(&spec.Tasks, "passages", spec.Tasks, "held-out passages (the world's val split, from the first)")
	fs.IntVar(&spec.K, "k", spec.K, "self-edits per passage")
	fs.IntVar(&spec.Rounds, "rounds", spec.Rounds, "ReST-EM rounds (2 = the base policy, then the policy after one round)")
	fs.Uint64Var(&spec.Seed, "seed", spec.Seed, "random seed")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if *runID == 0 {
		if err := defaultModelAndData(&spec); err != nil {
			fmt.Fprintf(stderr, "seal effect: %v\n", err)
			return 1
		}
		code := startAndFollow("seal effect", db.path(), device, nil, io.Discard, stderr, func(e *engine.Engine, ctx context.Context) (*engine.Run, error) {
			r, err := e.Start(ctx, spec)
			if err == nil {
				*runID = r.ID
			}
			return r, err
		})
		if code != 0 {
			return code
		}
	}
	d, err := openDB(db.path(), false)
	if err != nil {
		fmt.Fprintf(stderr, "seal effect: %v\n", err)
		return 1
	}
	defer d.Close()
	t, err := effectTable(d, *runID)
	if err != nil {
		fmt.Fprintf(stderr, "seal effect: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, t)
	return 0
}

// effectTable renders a run's baseline metrics as the README's markdown table.
func effectTable(d *store.DB, id int64) (string, error) {
	ms, err := d.Metrics(id)
	if err != nil {
		return "", err
	}
	m := map[string]float64{}
	for _, x := range ms {
		m[x.Name] = x.Value
	}
	cands, err := d.Candidates(id, false)
	if err != nil {
		return "", err
	}
	for round, best := range bestOfK(cands) {
		m[fmt.Sprintf("round%d/best_self_edit", round)] = best
	}
	type row struct{ label, metric string }
	rows := []row{
		{"no update", "round0/base"},
		{"train on the passage only", "passage"},
		{"train on the passage + the model's own self-edits (mean of k)", "round0/self_edit"},
		{"the best of the k self-edits per passage (what ReST-EM keeps)", "round0/best_self_edit"},
		{"passage in context, no update", "context"},
	}
	for r := 1; ; r++ {
		if _, ok := m[fmt.Sprintf("round%d/self_edit", r)]; !ok {
			break
		}
		after := fmt.Sprintf("after %d ReST-EM round%s", r, map[bool]string{true: "s"}[r > 1])
		rows = append(rows,
			row{after + ": no update", fmt.Sprintf("round%d/base", r)},
			row{after + ": passage + own self-edits (mean of k)", fmt.Sprintf("round%d/self_edit", r)})
	}
	for r := 0; ; r++ {
		name := fmt.Sprintf("round%d/reward", r)
		if _, ok := m[name]; !ok {
			break
		}
		label := "mean reward (self-edit minus no update), round 0"
		if r > 0 {
			label = fmt.Sprintf("mean reward, after %d ReST-EM round%s", r, map[bool]string{true: "s"}[r > 1])
		}
		rows = append(rows, row{label, name})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| condition (run %d, closed-book accuracy, macro over passages) | value |\n|---|---|\n", id)
	n := 0
	for _, r := range rows {
		if v, ok := m[r.metric]; ok {
			fmt.Fprintf(&b, "| %s | %.3f |\n", r.label, v)
			n++
		}
	}
	if n == 0 {
		return "", fmt.Errorf("run %d has no baseline metrics (not finished, or run without baselines)", id)
	}
	return b.String(), nil
}

// bestOfK is, per round, the mean over passages of the best self-edit's accuracy.
func bestOfK(cands []store.Candidate) map[int]float64 {
	best := map[[2]int]float64{}
	for _, c := range cands {
		if c.Kind == "self_edit" && c.Status == "done" {
			k := [2]int{c.Round, c.Task}
			best[k] = max(best[k], c.AdaptedScore)
		}
	}
	sum, n := map[int]float64{}, map[int]int{}
	for k, v := range best {
		sum[k[0]] += v
		n[k[0]]++
	}
	out := map[int]float64{}
	for r, s := range sum {
		out[r] = s / float64(n[r])
	}
	return out
}
