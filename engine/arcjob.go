package engine

import (
	"context"
	"errors"
	"fmt"

	"seal/engine/arc"
	"seal/models/llama"
	"seal/store"
)

// runARCJob is the ARC domain's inner loop: parse the edit, test-time train a fresh
// LoRA with the config it chooses, predict the test outputs and score pass@2, Repeats
// times with fresh seeds. An edit that does not parse or is out of range scores 0 with
// its reason and trains nothing.
func runARCJob(ctx context.Context, l *lm, job InnerJob, w Where, send func(Event)) (InnerResult, error) {
	res := InnerResult{JobID: job.ID}
	cfg, err := arc.ParseEdit(job.ARC.Edit)
	var ee *arc.EditError
	if errors.As(err, &ee) {
		res.Reason, res.Accs = ee.Reason, []float64{0}
		return res, nil
	} else if err != nil {
		return res, err
	}
	p, err := arc.PrompterFor(l.dir)
	if err != nil {
		return res, err
	}
	for rep := 0; rep < job.Repeats; rep++ {
		opts := arcOptions(job, p, job.Seed+uint64(rep)*0x9e37)
		opts.OnStep = func(s llama.FitStep) {
			send(TrainStep{Where: w, Phase: "inner", Step: s.Step, Steps: s.Steps, Loss: s.Loss, LR: s.LR})
		}
		r, err := arc.TestTimeTrain(ctx, l.model, l.tok, job.ARC.Task, cfg, opts)
		if d := (*llama.DivergedError)(nil); errors.As(err, &d) {
			res.Reason, res.Accs = err.Error(), []float64{0} // the edit chose a learning rate that diverges
			return res, nil
		}
		if err != nil {
			return res, err
		}
		if r.Reason != "" {
			res.Reason, res.Accs = r.Reason, []float64{0}
			return res, nil
		}
		if rep == 0 {
			for _, s := range r.Curve {
				res.Curve = append(res.Curve, store.TrainPoint{Step: s.Step, Loss: s.Loss, LR: s.LR})
			}
		}
		res.Evals = append(res.Evals, arcEvalItems(job.ARC.Task, r, rep, job.Phase, w, send)...)
		res.Accs = append(res.Accs, r.Reward)
	}
	return res, nil
}

// arcOptions are the TTT settings of a job: the LoRA shape from the run's inner
// update, voting and the example cap as the run says.
func arcOptions(job InnerJob, p arc.Prompter, seed uint64) arc.Options {
	return arc.Options{Prompter: p, Rank: job.Inner.Rank, Alpha: job.Inner.Alpha, Targets: job.Inner.Targets,
		Batch: job.Inner.Batch, Vote: job.ARCVote, MaxExamples: job.ARCMax, Seed: seed}
}

// arcEvalItems records one graded answer per test input: the voted attempts against
// the expected output.
func arcEvalItems(t arc.Task, r arc.Result, rep int, phase string, w Where, send func(Event)) []store.EvalItem {
	var items []store.EvalItem
	for i, test := range t.Test {
		answer := ""
		for j, a := range r.Attempts[i] {
			if j > 0 {
				answer += "\n--- or ---\n"
			}
			answer += arc.Format(a)
		}
		gold, correct := "", false
		if test.Output != nil {
			gold = arc.Format(test.Output)
		}
		if r.Correct != nil {
			correct = r.Correct[i]
		}
		grade := 0.0
		if correct {
			grade = 1
		}
		q := fmt.Sprintf("%s test %d\n%s", t.ID, i, arc.Format(test.Input))
		items = append(items, store.EvalItem{Repeat: rep, Question: i, Prompt: q, Text: answer, Gold: gold, Correct: correct, Score: grade, Grader: "exact"})
		send(EvalItem{Where: w, Phase: phase, Repeat: rep, Question: q, Answer: answer, Gold: gold, Correct: correct})
	}
	return items
}
