package engine

import (
	"fmt"
	"strings"

	"seal/engine/knowledge"
	"seal/models/train"
	"seal/store"
)

// continual applies self-edits for the passages one after another, merging each update
// into the weights, and after each step re-evaluates every earlier passage: the
// retention matrix (row 0 is the model before any edit).
func (x *runner) continual() error {
	style, _ := knowledge.ParseStyle(x.spec.Style)
	done, err := x.e.DB.Retention(x.r.ID)
	if err != nil {
		return err
	}
	have := map[[2]int]bool{}
	for _, c := range done {
		have[[2]int{c.Step, c.Task}] = true
	}
	cell := func(step, t int, acc float64) error {
		if err := x.e.DB.SaveRetention([]store.RetentionCell{{RunID: x.r.ID, Step: step, Task: t, Accuracy: acc}}); err != nil {
			return err
		}
		x.r.send(RetentionPoint{Run: x.r.ID, Step: step, Task: t, Accuracy: acc})
		return nil
	}
	base := map[int]float64{}
	for _, c := range done {
		if c.Step == 0 {
			base[c.Task] = c.Accuracy
		}
	}
	for t, p := range x.passages() {
		if have[[2]int{0, t}] {
			continue
		}
		s, _, err := x.evaluate(p, false, "base", 0, Where{Run: x.r.ID, Task: t})
		if err != nil {
			return err
		}
		base[t] = s.Accuracy()
		if err := cell(0, t, s.Accuracy()); err != nil {
			return err
		}
	}
	first, err := x.firstStep(store.LedgerContinual) // a branch goes on after its version's step
	if err != nil {
		return err
	}
	for k := first; k < len(x.tasks); k++ {
		p := x.passage(k)
		w := Where{Run: x.r.ID, Round: k, Task: k}
		var c store.Candidate
		var row []float64
		if id, ok := x.finished[store.CandidateKey{Round: k, Task: k, Index: 0}]; ok {
			// A resumed step: its update was saved before the candidate was committed.
			// Attach it again (verified by hash); the ledger says what became of it.
			if c, err = x.e.DB.Candidate(id); err != nil {
				return err
			}
			if c.AdapterPath == "" {
				continue
			}
			if err := x.applySaved(c.AdapterPath, c.AdapterHash, false); err != nil {
				return err
			}
		} else {
			if err := x.waitIfPaused(); err != nil {
				return err
			}
			if c, row, err = x.continualStep(k, style, base[k], w); err != nil {
				return err
			}
		}
		applied, err := x.commitChange(change{kind: store.LedgerContinual, step: k, adapter: x.lm.model.Adapter(), path: c.AdapterPath,
			hash: c.AdapterHash, merge: true, source: fmt.Sprintf("task %d: %s", k, p.Title), edit: c.Edit, reward: c.Reward,
			learned: x.g.learned, texts: []string{c.Edit, p.Title + "\n" + p.Context}, cand: &c, w: w})
		if err != nil {
			return err
		}
		if applied {
			x.g.learned = append(x.g.learned, k)
		}
		for i := 0; i <= k; i++ {
			if have[[2]int{k + 1, i}] {
				continue
			}
			if !applied || row == nil { // the row describes the weights the run goes on with
				s, _, err := x.evaluate(x.passage(i), false, "retention", 0, Where{Run: x.r.ID, Round: k, Task: i})
				if err != nil {
					return err
				}
				if err := cell(k+1, i, s.Accuracy()); err != nil {
					return err
				}
				continue
			}
			if err := cell(k+1, i, row[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// continualStep writes, trains and scores the self-edit of task k and commits its
// candidate; the trained adapter is left attached for the guard. row is the accuracy
// of tasks 0..k with it.
func (x *runner) continualStep(k int, style knowledge.Style, base float64, w Where) (store.Candidate, []float64, error) {
	p := x.passage(k)
	prompt := knowledge.SelfEditPrompt(style, p)
	gens, err := x.sampleEdits(k, k, prompt, []int{0}, w)
	if err != nil {
		return store.Candidate{}, nil, err
	}
	edit := strings.TrimSpace(gens[0].Text) // an empty edit falls back to the passage alone
	c := store.Candidate{RunID: x.r.ID, Round: k, Task: k, Kind: "continual", Prompt: prompt, Edit: edit, Tokens: len(gens[0].Tokens),
		Seed: x.seed(k, k, 0), BaseScore: base}
	x.r.send(EditDone{Where: w, Edit: edit, Tokens: c.Tokens})
	var examples []train.Example
	for _, s := range knowledge.TrainSequences(edit, p, x.spec.Split) {
		examples = append(examples, x.example("", s))
	}
	a, curve, err := x.trainLoRA(Fit{Recipe: x.spec.Inner, Examples: examples, Seed: c.Seed, Phase: "continual", Where: w})
	if err != nil {
		x.lm.model.SetAdapter(nil)
		return c, nil, err
	}
	c.Curve = curve
	var row []float64
	for i := 0; i <= k; i++ {
		s, items, err := x.evaluate(x.passage(i), false, "adapted", 0, Where{Run: x.r.ID, Round: k, Task: i})
		if err != nil {
			return c, nil, err
		}
		if i == k {
			c.Evals = items
		}
		row = append(row, s.Accuracy())
	}
	if c.AdapterPath, c.AdapterHash, err = x.saveAdapter(a, fmt.Sprintf("continual-step-%d", k+1)); err != nil {
		return c, nil, err
	}
	c.Status, c.AdaptedScore, c.Reward, c.Repeats = "done", row[k], row[k]-base, 1
	return c, row, x.commit(&c, w)
}

// cpt is the multi-passage mode: k self-edits for every passage, one update over all
// of their sequences (not split into lines, each edit with the passage once), then
// every question of every passage closed-book: micro accuracy before and after.
func (x *runner) cpt() error {
	style, _ := knowledge.ParseStyle(x.spec.Style)
	var examples []train.Example
	for t, p := range x.passages() {
		w := Where{Run: x.r.ID, Task: t}
		prompt := knowledge.SelfEditPrompt(style, p)
		cands, err := x.cptEdits(t, p, prompt, w)
		if err != nil {
			return err
		}
		for _, c := range cands {
			for _, s := range knowledge.TrainSequences(c.Edit, p, false) {
				examples = append(examples, x.example("", s))
			}
		}
	}
	var before, after knowledge.Score
	for t, p := range x.passages() {
		s, _, err := x.evaluate(p, false, "base", 0, Where{Run: x.r.ID, Task: t})
		if err != nil {
			return err
		}
		before.Correct, before.Total = before.Correct+s.Correct, before.Total+s.Total
	}
	if _, _, err := x.trainLoRA(Fit{Recipe: x.spec.Inner, Examples: examples, Seed: x.seed(0, 0, -20), Phase: "cpt", Where: Where{Run: x.r.ID}}); err != nil {
		x.lm.model.SetAdapter(nil)
		return err
	}
	for t, p := range x.passages() {
		s, _, err := x.evaluate(p, false, "adapted", 0, Where{Run: x.r.ID, Task: t})
		if err != nil {
			return err
		}
		after.Correct, after.Total = after.Correct+s.Correct, after.Total+s.Total
	}
	x.lm.model.SetAdapter(nil)
	ms := []store.Metric{{RunID: x.r.ID, Name: "cpt/base_micro", Value: before.Accuracy()}, {RunID: x.r.ID, Name: "cpt/adapted_micro", Value: after.Accuracy()}}
	if err := x.e.DB.SaveMetrics(ms); err != nil {
		return err
	}
	for _, m := range ms {
		x.r.send(Metric{Run: x.r.ID, Name: m.Name, Value: m.Value})
	}
	return nil
}

// cptEdits samples (or reloads) the k edits of one passage for CPT, each committed.
func (x *runner) cptEdits(t int, p knowledge.Passage, prompt string, w Where) ([]store.Candidate, error) {
	out, missing, err := x.committed(0, t)
	if err != nil || len(missing) == 0 {
		return out, err
	}
	gens, err := x.sampleEdits(0, t, prompt, missing, w)
	if err != nil {
		return nil, err
	}
	for j, i := range missing {
		cw := w
		cw.Cand = i
		c := store.Candidate{RunID: x.r.ID, Task: t, Index: i, Kind: "cpt", Prompt: prompt, Edit: strings.TrimSpace(gens[j].Text),
			Tokens: len(gens[j].Tokens), Seed: x.seed(0, t, i), Status: "done"}
		x.r.send(EditDone{Where: cw, Edit: c.Edit, Tokens: c.Tokens})
		if err := x.commit(&c, cw); err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}
