package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"seal/engine/knowledge"
	"seal/models/llama"
	"seal/models/lora"
	"seal/store"
)

// The guard judges every weight change before the engine commits it, on three counts:
//
//   - retention: the probe set (the questions of the tasks already learned, and a fixed
//     general set) is answered before and after the change; a paired drop beyond
//     the margin plus the noise (PairedRetention) stops the change;
//   - contradiction: a probe answer the model gave confidently before (mean token
//     probability above GuardSpec.Confident) that the trial update changes means the
//     input contradicts what the model knows; more than MaxFlips such answers stop it;
//   - rules: a self-edit or passage that matches a named rule (a URL, an instruction
//     addressed to the model, ...) is stopped whatever the numbers say.
//
// A stopped change is held for a person when the review gate is on, and rejected
// otherwise; either way it is never merged without an approval.

func (g GuardSpec) validate() error {
	if !g.On {
		return nil
	}
	switch {
	case g.Probes < 0:
		return fmt.Errorf("guard.probes = %d must not be negative", g.Probes)
	case g.Margin < 0 || g.Margin > 1 || math.IsNaN(g.Margin):
		return fmt.Errorf("guard.margin = %g is outside [0, 1]", g.Margin)
	case g.Z < 0 || math.IsNaN(g.Z) || math.IsInf(g.Z, 0):
		return fmt.Errorf("guard.z = %g must be a non-negative number", g.Z)
	case !(g.Confident > 0 && g.Confident <= 1):
		return fmt.Errorf("guard.confident = %g is outside (0, 1]", g.Confident)
	case g.MaxFlips < 0:
		return fmt.Errorf("guard.max_flips = %d must not be negative", g.MaxFlips)
	}
	_, err := knowledge.CompileRules(g.rules())
	return err
}

func (g GuardSpec) rules() []knowledge.Rule {
	if g.Rules == nil {
		return knowledge.DefaultRules()
	}
	return g.Rules
}

// probe is one question of the probe set.
type probe struct {
	p knowledge.Passage
	q knowledge.Question
}

// probeAnswer is the model's greedy answer to a probe, graded, with its confidence.
type probeAnswer struct {
	text    string
	correct bool
	conf    float64
}

// loadGeneralProbes picks the fixed general probe set: the first Probes questions of
// the probe file's passages that the run does not work on.
func (x *runner) loadGeneralProbes() ([]probe, error) {
	g := x.spec.Guard
	path := g.ProbeData
	if path == "" && !x.dom.Info().ProbesFromData {
		return nil, nil // e.g. ARC: its tasks ask no questions, general probes come only from a probe file
	}
	if path == "" {
		path = x.spec.Data
	}
	all, err := x.probePassages(path) // the prefix the loop below walks (passages.go)
	if err != nil {
		return nil, fmt.Errorf("guard probe data: %w", err)
	}
	mine := map[string]bool{}
	for _, p := range x.passages() {
		mine[p.Title+"\x00"+p.Context] = true
	}
	var out []probe
	for i, p := range all {
		if len(out) >= g.Probes {
			break
		}
		if mine[p.Title+"\x00"+p.Context] {
			continue
		}
		if err := p.Validate(); errors.Is(err, knowledge.ErrNoQuestions) {
			continue // a training-only passage asks nothing
		} else if err != nil {
			return nil, fmt.Errorf("guard probe data %s: passage %d: %w", path, i, err)
		}
		for _, q := range p.Questions {
			if len(out) < g.Probes {
				out = append(out, probe{p, q})
			}
		}
	}
	return out, nil
}

// probes is the probe set for a change: the general set and the questions of the
// tasks the weights have learned (committed steps; a rejected one taught nothing).
func (x *runner) probes(learned []int) []probe {
	out := append([]probe(nil), x.g.general...)
	for _, t := range learned {
		p := x.passage(t)
		for _, q := range p.Questions {
			out = append(out, probe{p, q})
		}
	}
	return out
}

// answerProbes answers every probe closed-book, greedy, with the model as it is now,
// and measures each answer's confidence (confidence).
func (x *runner) answerProbes(ps []probe) ([]probeAnswer, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	prompts := make([]string, len(ps))
	for i, p := range ps {
		prompts[i] = knowledge.QAPrompt(p.p, p.q)
	}
	gens, err := x.lm.generate(x.ctx, prompts, 1, x.spec.QATokens, llama.SampleConfig{}, nil)
	if err != nil {
		return nil, err
	}
	out := make([]probeAnswer, len(ps))
	for i, g := range gens {
		grade, err := x.grader.Grade(x.ctx, ps[i].q, ps[i].p.Title, g.Text)
		if err != nil {
			return nil, fmt.Errorf("grading a probe: %w", err)
		}
		conf, err := x.confidence(x.lm.encode(prompts[i]), g)
		if err != nil {
			return nil, err
		}
		out[i] = probeAnswer{text: g.Text, correct: grade.Correct, conf: conf}
	}
	return out, nil
}

// confidence is the mean probability the model gave the tokens of its answer's first
// line (an answer is one line; what a small model rambles on with after it is not the
// answer), and to EOS when the answer ended there. An empty answer is judged by the
// probability of the token that ended it.
func (x *runner) confidence(prompt []int32, g llama.Generation) (float64, error) {
	toks := g.Tokens
	for j, t := range toks {
		if strings.Contains(x.lm.decode([]int32{t}), "\n") {
			toks = toks[:j]
			break
		}
	}
	if len(toks) == len(g.Tokens) && g.Reason == llama.StopEOS || len(toks) == 0 && len(g.Tokens) == 0 {
		toks = append(append([]int32(nil), toks...), x.lm.eos[0])
	} else if len(toks) == 0 {
		toks = g.Tokens[:1]
	}
	ids := append(append([]int32(nil), prompt...), toks...)
	rows := make([]int, len(toks))
	for j := range rows {
		rows[j] = len(prompt) - 1 + j
	}
	logits, err := x.lm.model.Forward(ids, 1, len(ids), nil, rows)
	if err != nil {
		return 0, err
	}
	V := logits.Cols()
	var sum float64
	for j, t := range toks {
		sum += softmaxAt(logits.F32[j*V:(j+1)*V], int(t))
	}
	return sum / float64(len(toks)), nil
}

// softmaxAt is softmax(row)[i], computed stably.
func softmaxAt(row []float32, i int) float64 {
	mx := row[0]
	for _, v := range row {
		mx = max(mx, v)
	}
	var z float64
	for _, v := range row {
		z += math.Exp(float64(v - mx))
	}
	return math.Exp(float64(row[i]-mx)) / z
}

// firstLine is an answer's first line, normalized for comparison.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return knowledge.Normalize(s)
}

// judge measures a change: the adapter a (trained, attached) against the model
// without it, on the probe set, and the texts against the rules. It leaves a attached.
func (x *runner) judge(a *lora.Adapter, learned []int, texts []string) (GuardReport, error) {
	var rep GuardReport
	g := x.spec.Guard
	for _, t := range texts {
		for _, h := range x.g.rules.Flag(t) {
			rep.Hits = append(rep.Hits, h)
			rep.Reasons = append(rep.Reasons, fmt.Sprintf("rule %s matched %q", h.Rule, h.Match))
		}
	}
	ps := x.probes(learned)
	if len(ps) == 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("nothing probed: the probe set is empty (guard.probes = %d, %d general probe questions found outside the run's tasks, no task learned yet), so retention and contradictions were not checked",
			g.Probes, len(x.g.general)))
		return rep, nil
	}
	if err := x.lm.model.SetAdapter(nil); err != nil {
		return rep, err
	}
	before, err := x.answerProbes(ps)
	if err != nil {
		return rep, err
	}
	if err := x.lm.model.SetAdapter(a); err != nil {
		return rep, err
	}
	after, err := x.answerProbes(ps)
	if err != nil {
		return rep, err
	}
	bc, ac := make([]bool, len(ps)), make([]bool, len(ps))
	for i := range ps {
		bc[i], ac[i] = before[i].correct, after[i].correct
		if before[i].conf >= g.Confident && firstLine(before[i].text) != firstLine(after[i].text) {
			rep.Flips = append(rep.Flips, Flip{Question: knowledge.TopicQuestion(ps[i].p.Title, ps[i].q.Question),
				Before: before[i].text, After: after[i].text, Confidence: before[i].conf})
		}
	}
	rep.Retention = PairedRetention(bc, ac, g.Margin, g.Z)
	if r := rep.Retention; r.Dropped {
		rep.Reasons = append(rep.Reasons, fmt.Sprintf("probe accuracy fell from %.3f to %.3f (delta %+.3f, noise %.3f, margin %.3f, n %d)",
			r.Before, r.After, r.Delta, r.Noise, r.Margin, r.N))
	}
	if len(rep.Flips) > g.MaxFlips {
		f := rep.Flips[0]
		rep.Reasons = append(rep.Reasons, fmt.Sprintf("contradicts %d confident answer(s) (at most %d allowed), e.g. %q: %q (p %.2f) became %q",
			len(rep.Flips), g.MaxFlips, f.Question, f.Before, f.Confidence, f.After))
	}
	return rep, nil
}

// stopVerdict is what happens to a change the guard stopped.
func (x *runner) stopVerdict() string {
	if x.spec.ReviewGate {
		return "hold"
	}
	return "reject"
}

// awaitVerdict holds a change for a person: it asks for a review of candidate c and
// blocks until one arrives. It returns the review.
func (x *runner) awaitVerdict(c store.Candidate, w Where, reasons []string) (store.Review, error) {
	x.r.send(NeedsReview{Where: w, CandidateID: c.ID, Edit: c.Edit, Reward: c.Reward, Reason: strings.Join(reasons, "; ")})
	if err := x.awaitReviews([]store.Candidate{c}); err != nil {
		return store.Review{}, err
	}
	rvs, err := x.e.DB.LatestReviews(x.r.ID)
	if err != nil {
		return store.Review{}, err
	}
	return rvs[c.ID], nil
}

func reportJSON(rep GuardReport) json.RawMessage {
	b, _ := json.Marshal(rep) // plain values: cannot fail
	return b
}

func jsonUnmarshal(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}
