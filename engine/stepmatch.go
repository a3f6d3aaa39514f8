package engine

import (
	"encoding/json"
	"math"

	"seal/models/llama"
	"seal/store"
)

// The step-matched passage baseline. The method's own schedule has a confound: at the
// same epochs, training on the passage alone is one sequence (Epochs optimizer steps
// at batch 1), while passage + self-edit is one sequence per edit line plus the
// passage, several times the steps. A self-edit's gain over the passage-only baseline
// can then come from more gradient steps alone. baseline_steps trains on the passage
// repeated so that its inner loop takes as many optimizer steps (and so about as many
// tokens) as the mean of the passage's self-edits of round 0.

// A StepMatcher domain has a step-matched baseline: its fixed edit made as many times
// over as the self-edits' updates have training sequences.
type StepMatcher interface {
	// Sequences is how many training sequences the inner loop makes of edit for t.
	Sequences(s RunSpec, t Task, edit string) int
	// WrittenEdit is an edit for t written outside the run (the synthetic world's
	// implications), "" when there is none: the steps are matched to it when no
	// self-edit of the round was trained.
	WrittenEdit(t Task) string
	// RepeatedPayload is the job payload that trains on the fixed edit n times over.
	RepeatedPayload(s RunSpec, t Task, n int) (any, error)
}

// maxPassageRepeats bounds a step-matched job: far above any self-edit's line count
// (an edit has at most EditTokens lines), low enough that a forged job cannot ask a
// worker for an endless update.
const maxPassageRepeats = 10000

// StepMatch says what a step-matched baseline was matched to; it is stored as the
// candidate's Sampling, so a person sees why it took the steps it took.
type StepMatch struct {
	Repeats int     `json:"passage_repeats"` // the passage, this many times over
	Steps   int     `json:"steps"`           // the baseline's optimizer steps
	Target  float64 `json:"target_steps"`    // the mean steps of what it was matched to
	// To is "self_edits" (the trained self-edits of the round, Edits of them),
	// "written_implications" (none was trained; the world's written edit) or "passage"
	// (neither: the passage once, the passage-only baseline again).
	To    string `json:"matched_to"`
	Edits int    `json:"edits,omitempty"`
}

// MatchRepeats is the number of passage repeats whose optimizer steps
// (llama.FitSteps at the recipe's batch and epochs) come nearest the mean steps of
// updates on seqs[i] sequences each, the fewest on a tie and at least 1; and that mean.
// At batch 1 it is the mean sequence count, rounded half down.
func MatchRepeats(seqs []int, u Update) (int, float64) {
	if len(seqs) == 0 {
		return 1, float64(llama.FitSteps(1, u.Batch, u.Epochs))
	}
	most, sum := 1, 0.0
	for _, n := range seqs {
		most = max(most, n)
		sum += float64(llama.FitSteps(n, u.Batch, u.Epochs))
	}
	target := sum / float64(len(seqs))
	best, gap := 1, math.Inf(1)
	for n := 1; n <= min(most, maxPassageRepeats); n++ {
		if d := math.Abs(float64(llama.FitSteps(n, u.Batch, u.Epochs)) - target); d < gap-1e-9 {
			best, gap = n, d
		}
	}
	return best, target
}

// stepMatch matches task t's baseline to the self-edits of round 0 that were trained
// (an empty self-edit is refused before training and does not count).
func (x *runner) stepMatch(sm StepMatcher, t int, cands []store.Candidate) StepMatch {
	var seqs []int
	for _, c := range cands {
		if c.Kind == store.KindSelfEdit && (c.Status == store.CandidateDone || c.Edit != "") {
			seqs = append(seqs, sm.Sequences(x.spec, x.tasks[t], c.Edit))
		}
	}
	m := StepMatch{To: "self_edits", Edits: len(seqs)}
	if len(seqs) == 0 {
		m.To, m.Edits = "passage", 0
		if w := sm.WrittenEdit(x.tasks[t]); w != "" {
			m.To, seqs = "written_implications", []int{sm.Sequences(x.spec, x.tasks[t], w)}
		}
	}
	m.Repeats, m.Target = MatchRepeats(seqs, x.spec.Inner)
	m.Steps = llama.FitSteps(m.Repeats, x.spec.Inner.Batch, x.spec.Inner.Epochs)
	return m
}

// stepsBaseline scores task t's step-matched baseline once, after its self-edits of
// round 0, through the job path; a domain without one (ARC) has none.
func (x *runner) stepsBaseline(t int, base float64, cands []store.Candidate) error {
	sm, ok := x.dom.(StepMatcher)
	if !ok || !x.spec.Baselines {
		return nil
	}
	if _, ok := x.finished[store.CandidateKey{Task: t, Index: idxSteps}]; ok {
		return nil
	}
	m := x.stepMatch(sm, t, cands)
	sampling, err := json.Marshal(m)
	if err != nil {
		return err
	}
	p, err := sm.RepeatedPayload(x.spec, x.tasks[t], m.Repeats)
	if err != nil {
		return err
	}
	c := store.Candidate{RunID: x.r.ID, Task: t, Index: idxSteps, Kind: store.KindBaselineSteps, Seed: x.seed(0, t, idxSteps),
		BaseScore: base, Sampling: sampling}
	j, err := x.jobWith(Where{Task: t, Cand: idxSteps}, store.KindBaselineSteps, p, c.Seed)
	if err != nil {
		return err
	}
	return x.runJobs([]InnerJob{j}, func(_ int, res InnerResult) error {
		x.score(&c, res, base)
		return x.commit(&c, Where{Run: x.r.ID, Task: t, Cand: idxSteps})
	})
}
