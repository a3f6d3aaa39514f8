package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"seal/engine/arc"
	"seal/engine/arc/procedural"
	"seal/models/llama"
	"seal/store"
)

// arcDomain is ARC: a task is a few-shot grid puzzle (one test input each: a task with m
// tests is m sub-tasks), the self-edit is a JSON config choosing augmentations and
// hyperparameters, and the inner loop is test-time training with it, scored by pass@2.
type arcDomain struct{}

// arcTask is an ARC sub-task with its stored key: its id, after "rl:" for an RL task.
type arcTask struct {
	arc.Task
	key string
}

// Row keeps the task's self-edit text as its context and its tests as questions.
func (t arcTask) Row() store.Task {
	var qs []store.QA
	for _, p := range t.Test {
		qs = append(qs, store.QA{Question: arc.Format(p.Input), Answer: arc.Format(p.Output)})
	}
	return store.Task{Key: t.key, Title: t.ID, Context: arc.SelfEditUser(t.Task), Questions: qs}
}

func (arcDomain) Info() DomainInfo {
	return DomainInfo{Name: "arc", Help: "few-shot ARC tasks", Noun: "task", Display: DisplayGrids, Modes: []string{"restem"}, Launcher: true,
		SideFiles: arcSolutionFiles, Preset: arcPreset, DefaultData: proceduralARCFile, RLData: true, DefaultRLData: proceduralARCRLFile}
}

// arcSolutionFiles are the solutions files a run reads: --data's and, with --rl-data,
// the one beside the RL tasks' challenges.
func arcSolutionFiles(s RunSpec) []string {
	files := []string{ARCSolutionsPath(s.Data, s.Solutions)}
	if s.RLData != "" {
		files = append(files, ARCSolutionsPath(s.RLData, ""))
	}
	return files
}

// proceduralARCFile writes the embedded procedural ARC evaluation tasks (seed 1, 32
// tasks, none in the pretraining corpus) once and returns the challenges file's path;
// the solutions file lies beside it. The cache's name carries a hash of the tasks, so
// a change to the generator (the grids went from 10 to 6 a side) makes new files
// instead of reading the old ones.
func proceduralARCFile(cache Cache) (string, error) {
	_, eval := procedural.Sets(1, 0, 32)
	return cachedTasks(cache, "arc-procedural-seed1-", "eval", eval)
}

// cachedTasks writes tasks as <set>_challenges.json and its solutions into a cache
// folder named prefix + a hash of the tasks (once) and returns the challenges path.
func cachedTasks(cache Cache, prefix, set string, tasks []procedural.Task) (string, error) {
	b, err := json.Marshal(procedural.ARC(tasks))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	dir, err := cache(prefix+hex.EncodeToString(sum[:6]), func(tmp string) error {
		if err := os.Mkdir(tmp, 0o755); err != nil {
			return err
		}
		_, _, err := procedural.WriteFiles(tmp, set, tasks)
		return err
	})
	return filepath.Join(dir, set+"_challenges.json"), err
}

// arcRLTasks is how many RL tasks the default RL file holds: 3 rounds of 8 (seal effect
// --domain arc's) many times over.
const arcRLTasks = 256

// proceduralARCRLFile writes the RL tasks of the default data once (the challenges
// file's path; the solutions beside it): procedural training tasks from a stream of
// their own that share no grid pair with the evaluation tasks of proceduralARCFile or
// the tasks of the embedded model's pretraining corpus (procedural.RLTasks), so the
// policy update never trains on a task it is measured on, or one it read in
// pretraining. Its cache name carries a hash of the tasks, as the eval file's does.
func proceduralARCRLFile(cache Cache) (string, error) {
	_, eval := procedural.Sets(1, 0, 32)
	rl := procedural.RLTasks(1, arcRLTasks, eval, procedural.CorpusTasks(1, procedural.PretrainCorpusDocs),
		procedural.SelfEditTasks(1, procedural.PretrainSelfEditDocs))
	return cachedTasks(cache, "arc-procedural-rl-seed1-", "train", rl)
}

func (arcDomain) Check(s RunSpec) error {
	switch {
	case s.Mode != "restem":
		return fmt.Errorf("--mode %q is for the knowledge domain; ARC runs restem", s.Mode)
	case !s.Policy.Merge:
		return fmt.Errorf("ARC needs policy.merge: test-time training puts its own adapter on the merged policy")
	}
	return nil
}

// FromRows: ARC tasks are rebuilt from their (hash-checked) files.
func (arcDomain) FromRows([]store.Task) []Task { return nil }

func (arcDomain) SelfEditPrompt(s RunSpec, t Task) (string, error) {
	p, err := arc.PrompterFor(s.Model)
	if err != nil {
		return "", err
	}
	return p.SelfEditPrompt(t.(arcTask).Task)
}

func (arcDomain) Payload(s RunSpec, t Task, edit string, _ bool) (any, error) {
	return ARCJob{Task: t.(arcTask).Task, Edit: edit, Vote: s.ARCVote, Max: s.ARCExamples}, nil
}

func (arcDomain) CheckJob(j InnerJob) error {
	a, err := arcPayload(j)
	if err != nil {
		return err
	}
	return a.Task.Check()
}

func arcPayload(j InnerJob) (ARCJob, error) {
	var a ARCJob
	if len(j.Payload) == 0 {
		return a, fmt.Errorf("job %s: domain arc without an arc payload", j.ID)
	}
	if err := json.Unmarshal(j.Payload, &a); err != nil {
		return a, fmt.Errorf("job %s: arc payload: %w", j.ID, err)
	}
	return a, nil
}

// Reward is pass@2 success itself (docs/seal-method.md §2.7: binary).
func (arcDomain) Reward(adapted, _ float64) float64 { return adapted }

// Base is the in-context baseline: the model as it is, predicting with the
// demonstrations in its prompt.
func (arcDomain) Base(ctx context.Context, m *Model, c Scoring) (float64, []store.EvalItem, error) {
	opts, err := arcSpecOptions(c.Spec, c.Seed)
	if err != nil {
		return 0, nil, err
	}
	task := c.Task.(arcTask).Task
	r, err := arc.InContext(ctx, m.Llama(), m.Tokenizer(), task, opts)
	if err != nil {
		return 0, nil, err
	}
	return r.Reward, arcEvalItems(task, r, 0, "base", c.At), nil
}

// FixedEdit is test-time training with the hand-chosen config.
func (arcDomain) FixedEdit(RunSpec) (string, string) {
	return "baseline_fixed", arc.FixedConfig().JSON()
}

// OwnBaseline is the oracle: the best config of a small search, judged on the real
// tests (the in-context row is the no-update baseline itself). It reports every
// training step (phase "oracle") and every config tried (OracleTry), and is read from
// the cache beside the database when this task, model version and search were
// searched before (arc_oracle.go).
func (arcDomain) OwnBaseline(ctx context.Context, m *Model, c Scoring) (store.Candidate, error) {
	opts, err := arcSpecOptions(c.Spec, 0)
	if err != nil {
		return store.Candidate{}, err
	}
	task := c.Task.(arcTask).Task
	opts.Seed = oracleSeed(c.Spec.Seed, task)
	space := arc.SearchSpace()
	key := oracleKey(task, m.Version(), c.Spec.Device, space, opts)
	cache := m.oracleCache()
	e, hit := cache.get(key)
	if !hit {
		opts.OnStep = func(s llama.FitStep) {
			c.At.Send(TrainStep{Where: c.At.Where, Phase: "oracle", Step: s.Step, Steps: s.Steps, Loss: s.Loss, LR: s.LR})
		}
		opts.OnTry = func(t arc.Try) {
			e.Tried = t.Index
			c.At.Send(OracleTry{Where: c.At.Where, Try: t.Index, Of: t.Of, Edit: t.Config.JSON(), Correct: correctCount(t.Result),
				Tests: len(task.Test), Reward: t.Result.Reward, Reason: t.Result.Reason})
		}
		cfg, r, err := arc.Oracle(ctx, m.Llama(), m.Tokenizer(), task, space, opts)
		if err != nil {
			return store.Candidate{}, err
		}
		e = oracleEntry{Key: key, Task: task.ID, Version: m.Version(), Tried: e.Tried, Config: cfg, Result: r}
		if err := cache.put(e); err != nil {
			return store.Candidate{}, err
		}
	} else {
		c.At.Send(OracleTry{Where: c.At.Where, Try: e.Tried, Of: len(space), Edit: e.Config.JSON(), Correct: correctCount(e.Result),
			Tests: len(task.Test), Reward: e.Result.Reward, Cached: true})
	}
	return store.Candidate{Kind: "baseline_oracle", Edit: e.Config.JSON(), Seed: opts.Seed, AdaptedScore: e.Result.Reward, Reward: e.Result.Reward,
		Evals: arcEvalItems(task, e.Result, 0, "baseline_oracle", c.At)}, nil
}

// arcSpecOptions are the run's TTT settings with a seed, for the baselines that run
// in-process (candidates carry the same settings in their jobs).
func arcSpecOptions(s RunSpec, seed uint64) (arc.Options, error) {
	p, err := arc.PrompterFor(s.Model)
	if err != nil {
		return arc.Options{}, err
	}
	return arcOptions(s.Inner, ARCJob{Vote: s.ARCVote, Max: s.ARCExamples}, p, seed), nil
}

// Load reads a slice of an ARC challenges file (the run's tasks, or its RL tasks) with
// the solutions beside it: a task with m tests becomes m sub-tasks (docs/seal-method.md
// §2.1), and the slice is of those.
func (arcDomain) Load(m *Model, s RunSpec, from TaskSlice) ([]Task, error) {
	all, err := arc.Load(from.File, ARCSolutionsPath(from.File, from.Solutions))
	if err != nil {
		if from.RL {
			return nil, fmt.Errorf("--rl-data: %w", err)
		}
		return nil, err
	}
	var subs []arc.Task
	for _, t := range all {
		subs = append(subs, arc.SubTasks(t)...)
	}
	if err := from.Within(len(subs), "ARC sub-tasks"); err != nil {
		return nil, err
	}
	prompter, err := arc.PrompterFor(s.Model)
	if err != nil {
		return nil, err
	}
	var out []Task
	for _, t := range subs[from.Offset:from.End(len(subs))] {
		if !t.Solved() {
			help := "give --solutions"
			if from.RL {
				help = "put its solutions file beside it"
			}
			return nil, fmt.Errorf("%s: task %s has no solution (%s): a reward needs the expected output", from.Name(), t.ID, help)
		}
		if err := arcTaskFits(m, s, from.Name(), prompter, t); err != nil {
			return nil, err
		}
		out = append(out, arcTask{t, from.Key(t.ID)})
	}
	return out, nil
}

// ARCSolutionsPath is the solutions file of a challenges file: the one given, or the
// challenges file's name with "challenges" replaced by "solutions" when that exists.
func ARCSolutionsPath(challenges, solutions string) string {
	if solutions != "" {
		return solutions
	}
	dir, name := filepath.Split(challenges)
	if guess := filepath.Join(dir, strings.Replace(name, "challenges", "solutions", 1)); guess != challenges {
		if _, err := os.Stat(guess); err == nil {
			return guess
		}
	}
	return ""
}

// arcEvalItems records one graded answer per test input: the voted attempts against
// the expected output.
func arcEvalItems(t arc.Task, r arc.Result, rep int, phase string, at Sink) []store.EvalItem {
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
		at.Send(EvalItem{Where: at.Where, Phase: phase, Repeat: rep, Question: q, Answer: answer, Gold: gold, Correct: correct})
	}
	return items
}

// RunJob parses the edit, test-time trains a fresh LoRA with the config it chooses,
// predicts the test outputs and scores pass@2, Repeats times with fresh seeds. An edit
// that does not parse or is out of range scores 0 with its reason and trains nothing.
func (arcDomain) RunJob(ctx context.Context, m *Model, job InnerJob, at Sink) (InnerResult, error) {
	res := InnerResult{JobID: job.ID}
	a, err := arcPayload(job)
	if err != nil {
		return res, err
	}
	cfg, err := arc.ParseEdit(a.Edit)
	var ee *arc.EditError
	if errors.As(err, &ee) {
		res.Reason, res.Accs = ee.Reason, []float64{0}
		return res, nil
	} else if err != nil {
		return res, err
	}
	p, err := arc.PrompterFor(m.Dir())
	if err != nil {
		return res, err
	}
	for rep := 0; rep < job.Repeats; rep++ {
		opts := arcOptions(job.Inner, a, p, job.Seed+uint64(rep)*0x9e37)
		opts.OnStep = func(s llama.FitStep) {
			at.Send(TrainStep{Where: at.Where, Phase: "inner", Step: s.Step, Steps: s.Steps, Loss: s.Loss, LR: s.LR})
		}
		r, err := arc.TestTimeTrain(ctx, m.Llama(), m.Tokenizer(), a.Task, cfg, opts)
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
		res.Evals = append(res.Evals, arcEvalItems(a.Task, r, rep, job.Phase, at)...)
		res.Accs = append(res.Accs, r.Reward)
	}
	return res, nil
}

// arcOptions are the TTT settings of a job: the LoRA shape from the run's inner
// update, voting and the example cap as the run says.
func arcOptions(inner Update, a ARCJob, p arc.Prompter, seed uint64) arc.Options {
	return arc.Options{Prompter: p, Rank: inner.Rank, Alpha: inner.Alpha, Targets: inner.Targets,
		Batch: inner.Batch, Vote: a.Vote, MaxExamples: a.Max, Seed: seed}
}

// arcTaskFits checks an ARC sub-task's self-edit prompt against the context (test-time
// training already clips its own sequences to it).
func arcTaskFits(m *Model, s RunSpec, file string, p arc.Prompter, t arc.Task) error {
	prompt, err := p.SelfEditPrompt(t)
	if err != nil {
		return fmt.Errorf("%s: task %s: %w", file, t.ID, err)
	}
	return m.Fits(fmt.Sprintf("%s: task %s", file, t.ID), "its self-edit prompt", prompt, s.EditTokens, "--edit-tokens")
}
