package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"seal/engine"
	"seal/engine/effect"
	"seal/engine/grounding"
	"seal/store"
	"seal/store/termsafe"
)

// cmdEffect runs the experiment behind the README's table: on held-out passages of the
// synthetic world (val for tuning, test for the table), the embedded model's closed-book
// accuracy in each condition, from no update to the policy after each ReST-EM round,
// whose updates train on RL passages of the world's train split only. Each row carries a
// 95% bootstrap interval over passages, and each difference from the row above a paired one.
// With --domain arc it is the ARC table, on the procedural eval tasks with the policy
// trained on procedural RL tasks of their own.
func cmdEffect(args []string, stdout, stderr io.Writer) int {
	spec := effectSpec(domainArg(args))
	fs := newFlagSet("effect", stderr)
	fs.StringVar(&spec.Domain, "domain", spec.Domain, "knowledge (the world's passages) or arc (procedural ARC tasks, pass@2)")
	db := addDBFlag(fs)
	device := addDeviceFlag(fs)
	addModelFlag(fs, &spec.Model, "default: the embedded model; another is measured with its settings, as a candidate for it (a folder seal pretrain made, say)")
	runID := fs.Int64("run", 0, "print the table of a stored run instead of running one")
	split := fs.String("split", "val", "the world's split the evaluation passages come from: val (for tuning) or test (for the table; nothing is tuned on it)")
	fs.IntVar(&spec.Tasks, "passages", spec.Tasks, "evaluation passages (from the split's first)")
	fs.IntVar(&spec.RLPassages, "rl-passages", spec.RLPassages, "RL passages per round, fresh each round, from the world's train split (default: as many as --passages); with --domain arc, RL tasks per round from the procedural training tasks")
	fs.IntVar(&spec.K, "k", spec.K, "self-edits per passage")
	fs.IntVar(&spec.Rounds, "rounds", spec.Rounds, "ReST-EM rounds: the table measures the base policy and the policy after each")
	fs.Uint64Var(&spec.Seed, "seed", spec.Seed, "random seed (the run's; the bootstrap's is fixed)")
	fs.IntVar(&spec.Inner.Epochs, "epochs", spec.Inner.Epochs, "inner-loop epochs (the embedded default's were chosen on val: docs/seal-method.md)")
	fs.Float64Var(&spec.Inner.LR, "lr", spec.Inner.LR, "inner-loop learning rate")
	fs.IntVar(&spec.Inner.Batch, "batch", spec.Inner.Batch, "inner-loop sequences per optimizer step")
	fs.IntVar(&spec.Repeats, "repeats", spec.Repeats, "inner loops (seeds) per self-edit, its score their mean (the method's 3; 1 for time)")
	fs.Float64Var(&spec.MinGrounding, "min-grounding", spec.MinGrounding, "ReST-EM keeps no self-edit whose grounding (share of its content words found in the passage) is below this (0: off)")
	spec.Teacher = "world"
	fs.StringVar(&spec.Teacher, "teacher", spec.Teacher, "the teacher row: world (the synthetic world's written implications) or none")
	resamples := fs.Int("resamples", effect.DefaultResamples, "bootstrap resamples")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if spec.Teacher == "none" || spec.Domain == "arc" { // the world's implications teach passages only
		spec.Teacher = ""
	}
	if spec.Domain == "arc" {
		*split = "" // the procedural eval tasks: nothing is tuned on them
	}
	if *runID == 0 {
		if err := defaultDataOfSplit(&spec, *split); err != nil {
			fmt.Fprintf(stderr, "seal effect: %v\n", err)
			return 2
		}
		if err := spec.Validate(); err != nil {
			fmt.Fprintf(stderr, "seal effect: %v\n", err)
			return 2
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
	t, err := effectTable(d, *runID, *resamples)
	if err != nil {
		fmt.Fprintf(stderr, "seal effect: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, t)
	return 0
}

// arcRLTasksPerRound is the ARC table's RL tasks per round: each of their k candidates
// is a test-time training (the fixed config's took 8.6 to 17.2 CPU-seconds, README's ARC
// section), so 8 a round, not one per eval task.
const arcRLTasksPerRound = 8

// effectSpec is the table's run before its flags: the embedded model's settings, 64
// evaluation passages and 2 rounds; for the ARC table the 32 procedural eval tasks, the
// embedded model's ARC preset and 2 rounds of 8 RL tasks. Either way the RL tasks are
// apart (defaultDataOfSplit), so the rows are the base policy and the policy after each
// of the rounds' updates, measured on tasks no update trained on.
func effectSpec(domain string) engine.RunSpec {
	if domain == "arc" {
		spec := engine.EmbeddedARCSpec()
		spec.Tasks, spec.Repeats, spec.Rounds, spec.RLPassages, spec.Name = 32, 1, 2, arcRLTasksPerRound, "seal effect (ARC)"
		return spec
	}
	spec := engine.EmbeddedSpec()
	spec.Tasks, spec.Repeats, spec.Rounds, spec.Name = 64, 1, 2, "seal effect"
	return spec
}

// effectSeed is the bootstrap's seed: fixed, so a stored run's table prints the same every time.
const effectSeed = 1

// effectTable renders a run's conditions on its evaluation passages (effect.Compute):
// per passage, each condition's accuracy (a self-edit condition: the mean over its k
// self-edits), in the order of the README's table; a condition the run has no candidate
// of is no row.
func effectTable(d *store.DB, id int64, resamples int) (string, error) {
	run, err := d.Run(id)
	if err != nil {
		return "", err
	}
	var spec engine.RunSpec
	if err := json.Unmarshal(run.Config, &spec); err != nil {
		return "", fmt.Errorf("run %d: its settings do not read: %w", id, err)
	}
	if run.Domain == "arc" {
		return arcEffectTable(d, id, spec, resamples)
	}
	tasks, err := d.Tasks(id)
	if err != nil {
		return "", err
	}
	ev := evalTasksOf(tasks)
	eval, questions, passages := ev.index, ev.questions, ev.passages
	cands, err := d.Candidates(id, true) // with the graded answers, for the exact-match reading
	if err != nil {
		return "", err
	}
	conds := effectConditions(cands, eval, storedAccuracy)
	if len(conds) == 0 {
		return "", fmt.Errorf("run %d has no scored candidates on its evaluation passages (not started, or run without them)", id)
	}
	noun := cmp.Or(engine.DomainInfoOf(spec.Domain).Noun, "task") + "s"
	metric := "closed-book accuracy"
	if spec.Domain != "knowledge" {
		metric = "score"
	}
	note := fmt.Sprintf("Run %d (%s), evaluation data %s: %d %s, %d questions. %s.", id, termsafe.Line(run.Name),
		termsafe.Line(spec.Data), len(eval), noun, questions, rlSettings(spec))
	o := effect.Options{Resamples: resamples, Seed: effectSeed, Metric: metric, Items: noun, Note: note}
	t, err := effect.Compute(conds, o)
	if err != nil {
		return "", err
	}
	var cs []effect.Check
	if spec.Domain == "knowledge" {
		cs = knowledgeChecks(conds)
	}
	exact := ""
	if spec.Domain == "knowledge" { // answers as text, read by exact match
		if exact, err = exactMatchReading(cands, eval, o); err != nil {
			return "", err
		}
		exact += answerKinds(cands, eval)
	}
	return withChecks(t.Markdown(), cs, o) + exact + factLinesNote(cands, passages) + groundingNote(cands), nil
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

// factLinesNote is issue 17's grounding measure, per round of the policy and for the
// teacher: the share of self-edit lines whose names and numbers all appear in the
// passage (grounding.FactShare), the mean over evaluation passages of the mean over a
// passage's edits. Empty when the run has no such edits.
func factLinesNote(cands []store.Candidate, passages map[int]string) string {
	type row struct {
		kind  string
		round int
	}
	per := map[row]map[int][]float64{} // row -> task -> its edits' shares
	var rows []row
	for _, c := range cands {
		p, ok := passages[c.Task]
		if !ok || c.Status != store.CandidateDone || c.Kind != store.KindSelfEdit && c.Kind != store.KindTeacher {
			continue
		}
		r := row{c.Kind, c.Round}
		if per[r] == nil {
			per[r] = map[int][]float64{}
			rows = append(rows, r)
		}
		per[r][c.Task] = append(per[r][c.Task], grounding.FactShare(p, c.Edit))
	}
	if len(rows) == 0 {
		return ""
	}
	// Own rounds in order, then the teacher ("self_edit" < "teacher").
	slices.SortFunc(rows, func(a, b row) int { return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.round, b.round)) })
	var parts []string
	for _, r := range rows {
		var means []float64
		for _, shares := range per[r] {
			means = append(means, meanOf(shares))
		}
		label := "the teacher's"
		if r.kind == store.KindSelfEdit {
			label = "own, round 0"
			if r.round > 0 {
				label = "own, " + engine.RoundCondition(r.round)
			}
		}
		parts = append(parts, fmt.Sprintf("%s %.3f", label, meanOf(means)))
	}
	return "\nSelf-edit lines whose names and numbers all appear in the passage (mean over the evaluation passages): " + strings.Join(parts, "; ") + ".\n"
}

// groundingNote says how far an own self-edit's grounding (the share of its content
// words found in its passage) goes with the accuracy its update reached: over every
// scored self-edit of the run (all rounds, evaluation and RL passages), the accuracy by
// grounding band, the correlation, and how grounded the edit ReST-EM keeps (the best of
// a passage's k in a round) is against all of them. Empty when no edit has a grounding.
func groundingNote(cands []store.Candidate) string {
	type pass struct{ round, task int }
	bands := []struct {
		label  string
		hi     float64
		n      int
		sumAcc float64
	}{{"below 0.5", 0.5, 0, 0}, {"0.5 to 0.75", 0.75, 0, 0}, {"0.75 and above", math.Inf(1), 0, 0}}
	var gs, accs []float64
	best := map[pass]store.Candidate{}
	for _, c := range cands {
		if c.Kind != store.KindSelfEdit || c.Status != store.CandidateDone || c.Grounding == nil {
			continue
		}
		g := *c.Grounding
		gs, accs = append(gs, g), append(accs, c.AdaptedScore)
		for i := range bands {
			if g < bands[i].hi {
				bands[i].n++
				bands[i].sumAcc += c.AdaptedScore
				break
			}
		}
		k := pass{c.Round, c.Task}
		if b, ok := best[k]; !ok || c.AdaptedScore > b.AdaptedScore {
			best[k] = c
		}
	}
	if len(gs) == 0 {
		return ""
	}
	var keptG []float64
	for _, c := range best {
		keptG = append(keptG, *c.Grounding)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nGrounding and accuracy of the run's %d own self-edits (every round, evaluation and RL passages): correlation %s; the best of each passage's k (what ReST-EM keeps) grounded %.3f on average, all of them %.3f.\n\n",
		len(gs), correlationText(gs, accs), meanOf(keptG), meanOf(gs))
	b.WriteString("| grounding | self-edits | mean accuracy |\n|---|---|---|\n")
	for _, bd := range bands {
		acc := "-"
		if bd.n > 0 {
			acc = fmt.Sprintf("%.3f", bd.sumAcc/float64(bd.n))
		}
		fmt.Fprintf(&b, "| %s | %d | %s |\n", bd.label, bd.n, acc)
	}
	return b.String()
}

func meanOf(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// correlationText is Pearson's r of xs and ys to two places, "undefined" when either
// does not vary.
func correlationText(xs, ys []float64) string {
	mx, my := meanOf(xs), meanOf(ys)
	var sxy, sxx, syy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxy, sxx, syy = sxy+dx*dy, sxx+dx*dx, syy+dy*dy
	}
	if sxx == 0 || syy == 0 {
		return "undefined (no spread)"
	}
	return fmt.Sprintf("%.2f", sxy/math.Sqrt(sxx*syy))
}

// effectConditions are the table's rows as score vectors over the evaluation tasks (eval:
// a task's index -> its position): per task, the mean score of the condition's finished
// candidates (the best of them for the best-of-k row); NaN where it has none. score reads a
// candidate's score; a candidate it has none for (false) counts as not there.
func effectConditions(cands []store.Candidate, eval map[int]int, score func(store.Candidate) (float64, bool)) []effect.Condition {
	scores := map[rowKey][][]float64{} // per task position, its candidates' scores
	rounds := 0
	for _, c := range cands {
		pos, ok := eval[c.Task]
		if !ok || c.Status != store.CandidateDone {
			continue
		}
		v, ok := score(c)
		if !ok {
			continue
		}
		k := rowKey{c.Kind, c.Round}
		if scores[k] == nil {
			scores[k] = make([][]float64, len(eval))
		}
		scores[k][pos] = append(scores[k][pos], v)
		rounds = max(rounds, c.Round+1)
	}
	var out []effect.Condition
	for _, row := range knowledgeRows(rounds) {
		s, ok := scores[row.key]
		if !ok {
			continue
		}
		of := meanOf
		if row.best {
			of = slices.Max[[]float64]
		}
		v := make([]float64, len(s))
		for i, xs := range s {
			v[i] = math.NaN()
			if len(xs) > 0 {
				v[i] = of(xs)
			}
		}
		out = append(out, effect.Condition{Label: row.label, Scores: v})
	}
	return out
}

// rowKey is the candidates a row of the knowledge table is made of: one kind in one round.
type rowKey struct {
	kind  string
	round int
}

// knowledgeRow is one row of the knowledge table: its label, its candidates, and whether a
// passage's value is the best of them (else their mean).
type knowledgeRow struct {
	label string
	key   rowKey
	best  bool
}

// knowledgeRows are the table's rows in order for a run of that many rounds. Every kind but
// the policy's self-edits is scored in round 0 (the baselines of baselines.go, and the
// step-matched passage and teacher rows when a run has them).
func knowledgeRows(rounds int) []knowledgeRow {
	rows := []knowledgeRow{
		{label: rowNoUpdate, key: rowKey{store.KindBaselineBase, 0}},
		{label: rowContext, key: rowKey{store.KindBaselineContext, 0}},
		{label: rowPassage, key: rowKey{store.KindBaselinePassage, 0}},
		{label: rowSteps, key: rowKey{"baseline_steps", 0}},
		{label: rowOwn, key: rowKey{store.KindSelfEdit, 0}},
		{label: rowBestOfK, key: rowKey{store.KindSelfEdit, 0}, best: true},
	}
	for r := 1; r < rounds; r++ {
		rows = append(rows, knowledgeRow{label: rowAfter(r), key: rowKey{store.KindSelfEdit, r}})
	}
	return append(rows, knowledgeRow{label: rowTeacher, key: rowKey{"teacher", 0}})
}

// The knowledge table's rows.
const (
	rowNoUpdate = "no update"
	rowContext  = "passage in context, no update"
	rowPassage  = "train on the passage only"
	rowSteps    = "train on the passage repeated to the self-edits' steps (step-matched)"
	rowOwn      = "train on the model's own self-edits, round 0 (mean of k)"
	rowBestOfK  = "the best of the k self-edits per passage, round 0 (what ReST-EM keeps)"
	rowTeacher  = "train on a teacher's self-edits"
)

func rowAfter(r int) string { return "own self-edits " + engine.RoundCondition(r) + " (mean of k)" }

// scoresOf is the row labelled label, nil when the table has none.
func scoresOf(conds []effect.Condition, label string) []float64 {
	for _, c := range conds {
		if c.Label == label {
			return c.Scores
		}
	}
	return nil
}

// knowledgeChecks are the orderings the method expects of a knowledge table, as issue 17
// set them for the embedded default on the test split: a floor and a ceiling on the
// baselines, and each self-edit gain as a paired difference whose interval must lie
// above zero. A check whose rows the run does not have is left out.
func knowledgeChecks(conds []effect.Condition) []effect.Check {
	row := func(l string) []float64 { return scoresOf(conds, l) }
	ceiling := 0.05
	var cs []effect.Check
	add := func(c effect.Check, rows ...[]float64) {
		for _, r := range rows {
			if r == nil {
				return
			}
		}
		cs = append(cs, c)
	}
	none, passage, steps, own, teacher := row(rowNoUpdate), row(rowPassage), row(rowSteps), row(rowOwn), row(rowTeacher)
	add(effect.Check{Label: "no update <= 0.05", B: none, AtMost: &ceiling}, none)
	add(effect.Check{Label: "passage only >= 0.30", B: passage, AtLeast: 0.30}, passage)
	add(effect.Check{Label: "own self-edits (round 0) - step-matched >= 0, interval above 0", A: steps, B: own, Sure: true}, steps, own)
	last, r := []float64(nil), 0
	for i := 1; row(rowAfter(i)) != nil; i++ {
		last, r = row(rowAfter(i)), i
	}
	if last == nil {
		return cs
	}
	after := engine.RoundCondition(r) // "after r ReST-EM round(s)"
	add(effect.Check{Label: after + " - step-matched >= +0.05, interval above 0", A: steps, B: last, AtLeast: 0.05, Sure: true}, steps)
	add(effect.Check{Label: after + " - round 0 >= +0.05, interval above 0", A: own, B: last, AtLeast: 0.05, Sure: true}, own)
	if steps != nil && teacher != nil {
		add(effect.Check{Label: after + " - (step-matched + half the teacher's gain over it) >= 0, interval above 0",
			A: effect.Mix(teacher, steps, 0.5), B: last, Sure: true})
	}
	return cs
}

// arcChecks are the ARC table's expected orderings: in context < own self-edits <
// after the last round (the ReST-EM gain's interval above zero) <= oracle.
func arcChecks(conds []effect.Condition) []effect.Check {
	row := func(l string) []float64 { return scoresOf(conds, l) }
	ctx, own := row(engine.ARCInContext), row(engine.RoundCondition(0))
	var last []float64
	for r := 1; row(engine.RoundCondition(r)) != nil; r++ {
		last = row(engine.RoundCondition(r))
	}
	var cs []effect.Check
	if ctx != nil && own != nil {
		cs = append(cs, effect.Check{Label: "own self-edits (round 0) - in context > 0", A: ctx, B: own, AtLeast: 1e-9})
	}
	if own != nil && last != nil {
		cs = append(cs, effect.Check{Label: "after the last ReST-EM round - round 0 > 0, interval above 0", A: own, B: last, Sure: true})
		if oracle := row(engine.ARCOracle); oracle != nil {
			cs = append(cs, effect.Check{Label: "oracle - after the last ReST-EM round >= 0", A: last, B: oracle})
		}
	}
	return cs
}

// withChecks appends the checks' table under an effect table.
func withChecks(table string, cs []effect.Check, o effect.Options) string {
	if len(cs) == 0 {
		return table
	}
	return table + "\nThe orderings the method expects (paired over the same " + o.Items + "):\n\n" + effect.ChecksMarkdown(effect.Evaluate(cs, o))
}

// arcEffectTable is an ARC run's table: pass@2 per task of each condition (in context,
// the fixed config, each round's own self-edits, the oracle), with the share of valid
// self-edits per round under it.
func arcEffectTable(d *store.DB, id int64, spec engine.RunSpec, resamples int) (string, error) {
	a, err := engine.ARCEffectOf(d, id)
	if err != nil {
		return "", err
	}
	conds := arcConditions(a)
	var valid []string
	for r, v := range a.Valid {
		valid = append(valid, fmt.Sprintf("round %d %.2f of %d", r, v, a.Edits[r]))
	}
	note := fmt.Sprintf("Run %d, ARC tasks %s: %d tasks. Valid self-edits: %s. %s.", id, termsafe.Line(spec.Data), len(a.Tasks), strings.Join(valid, ", "), rlSettings(spec))
	o := effect.Options{Resamples: resamples, Seed: effectSeed, Metric: "pass@2", Items: "tasks", Note: note}
	t, err := effect.Compute(conds, o)
	if err != nil {
		return "", err
	}
	out := withChecks(t.Markdown(), arcChecks(conds), o)

	if len(a.Valid) > 0 {
		verdict := map[bool]string{true: "met", false: "missed"}[a.Valid[0] >= 0.9]
		out += fmt.Sprintf("| valid self-edits at round 0 >= 0.90 | %.3f (%d self-edits) | | %s |\n", a.Valid[0], a.Edits[0], verdict)
	}
	if len(a.Unfinished) > 0 {
		out += fmt.Sprintf("\nLeft out, not finished on every task (the run stopped; `seal resume %d` goes on): %s.\n", id, strings.Join(a.Unfinished, ", "))
	}
	return out, nil
}

// arcConditions are an ARC run's table rows as effect conditions, pass@2 per task.
func arcConditions(a engine.ARCEffect) []effect.Condition {
	conds := make([]effect.Condition, len(a.Conditions))
	for i, c := range a.Conditions {
		conds[i] = effect.Condition{Label: c, Scores: a.Scores[i]}
	}
	return conds
}

// domainArg is the value of a --domain flag in args ("" when there is none), read
// before parsing because the domain chooses the other flags' defaults.
func domainArg(args []string) string {
	for i, a := range args {
		for _, p := range []string{"--domain=", "-domain="} {
			if v, ok := strings.CutPrefix(a, p); ok {
				return v
			}
		}
		if (a == "--domain" || a == "-domain") && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}
