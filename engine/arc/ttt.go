package arc

import (
	"context"
	"errors"
	"fmt"

	"seal/models/llama"
	"seal/models/lora"
	"seal/models/tokenizer"
	"seal/models/train"
)

// Options are the inner loop's settings; zero fields take the reference's values
// (docs/seal-method.md §2.5-2.6).
type Options struct {
	Prompter Prompter // chat template or plain text; see PrompterFor
	Limits   Limits   // what an edit may ask for; zero: DefaultLimits

	Rank    int      // LoRA rank; 0: 128
	Alpha   float64  // LoRA alpha; 0: 16 (scale α/r = 0.125)
	Targets []string // nil: q_proj, v_proj, gate_proj, up_proj, down_proj
	Batch   int      // 0: 2
	Warmup  int      // cosine warmup steps; 0: 11 (negative: none)

	MaxExamples  int // training examples kept; 0: 250
	MaxTokens    int // training texts and prompts must be shorter; 0: 8192; never more than the model's context
	MaxNewTokens int // answer budget per query; 0: twice the longest grid text of the task, plus 16

	// Vote turns on the reference's inference set and voting (§2.6); off, each test is
	// answered once from a prompt with every demonstration.
	Vote bool
	// Seed drives the adapter's initial A (so every candidate of a task can share one
	// initialisation, as the reference does, by using the same seed), the training-set
	// sampling and the shuffles.
	Seed uint64
	// OnStep, when set, sees each training step as it finishes.
	OnStep func(llama.FitStep)
	// OnTry, when set, sees each config the oracle's search has tried, as it finishes
	// (a search of twelve test-time trainings must not run silently).
	OnTry func(Try)
}

// Try is one config of the oracle's search, tried: the Index-th (from 1) of Of.
type Try struct {
	Index, Of int
	Config    EditConfig
	Result    Result
}

func (o Options) withDefaults(m *llama.Model) Options {
	if o.Rank == 0 {
		o.Rank = 128
	}
	if o.Alpha == 0 {
		o.Alpha = 16
	}
	if o.Targets == nil {
		o.Targets = []string{"q_proj", "v_proj", "gate_proj", "up_proj", "down_proj"}
	}
	if o.Batch == 0 {
		o.Batch = 2
	}
	if o.Warmup == 0 {
		o.Warmup = 11
	}
	if o.Warmup < 0 {
		o.Warmup = 0
	}
	if o.MaxExamples == 0 {
		o.MaxExamples = 250
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = 8192
	}
	o.MaxTokens = min(o.MaxTokens, m.Config.MaxPositions) // a longer sequence cannot be trained on
	return o
}

// Result is one inner loop's outcome.
type Result struct {
	// Reason is set when the edit was invalid: nothing was trained or predicted and
	// the reward is 0 (§4 #11).
	Reason string
	// Attempts holds, per test input, the voted attempts (at most two; [[0]] when no
	// answer parsed, as the reference submits).
	Attempts [][]Grid
	// Answers holds, per test input, every raw answer text and the bucket it votes in.
	Answers [][]Answer
	// Correct says per test whether an attempt equals the known output (nil when the
	// task has no solutions).
	Correct []bool
	// Reward is 1 when every test input is correct (pass@2 after voting), else 0.
	Reward   float64
	Examples int // training examples used
	Curve    []llama.FitStep
}

// Answer is one generated answer.
type Answer struct {
	Text    string
	Inverse string // voting bucket (Identity for an untransformed prompt)
	Err     string // why it did not parse or invert; empty when it counted
}

// codec turns text into the model's token ids.
type codec struct {
	tok *tokenizer.Tokenizer
	eos []int32
}

func newCodec(m *llama.Model, tok *tokenizer.Tokenizer) (codec, error) {
	c := codec{tok: tok}
	for _, id := range m.Config.EOSTokenIDs {
		c.eos = append(c.eos, int32(id))
	}
	if len(c.eos) == 0 {
		return c, fmt.Errorf("arc: the model's config.json names no EOS token")
	}
	return c, nil
}

// encode tokenizes text as tokenizer(text) does; a rendered chat template that starts
// with the BOS literal would get a second BOS from the post-processor, so one is dropped
// (the reference's inference path strips it too, §2.2b).
func (c codec) encode(text string) []int32 {
	ids := c.tok.EncodeSpecial32(text)
	if len(ids) >= 2 && ids[0] == ids[1] && c.tok.IsSpecial(int(ids[0])) {
		ids = ids[1:]
	}
	return ids
}

func (c codec) decode(ids []int32) string {
	s, _ := c.tok.DecodeSkipSpecial32(ids)
	return s
}

// trainingExamples renders TTT tasks as training examples followed by EOS, with the loss on
// every token (AllTokens) or on what follows the prompt (OutputTokens). Texts of
// maxTokens tokens or more are dropped, as the reference drops those of 8192 or more.
func trainingExamples(tasks []Task, p Prompter, c codec, s Strategy, maxTokens int) ([]train.Example, error) {
	var out []train.Example
	for _, t := range tasks {
		prompt, full, err := p.Training(t.Train, t.Test[0])
		if err != nil {
			return nil, err
		}
		toks := append(c.encode(full), c.eos[0])
		if len(toks) >= maxTokens {
			continue
		}
		ex := train.Example{Tokens: toks}
		if s == OutputTokens {
			pt := c.encode(prompt)
			n := 0 // the prompt's tokens as the full text tokenizes them
			for n < len(pt) && n < len(toks) && pt[n] == toks[n] {
				n++
			}
			ex.LossMask = make([]bool, len(toks))
			for i := n; i < len(toks); i++ {
				ex.LossMask[i] = true
			}
		}
		out = append(out, ex)
	}
	return out, nil
}

// TestTimeTrain is one ARC inner loop (§2.5-2.7): validate the edit, build its
// training set, train a fresh LoRA on m, predict every test input (voting when
// opts.Vote), score pass@2, and detach the adapter. An invalid edit is not an error:
// the Result carries the Reason and reward 0. The model must carry no adapter (merge
// it first); it is left exactly as it was found, also on error or cancellation.
func TestTimeTrain(ctx context.Context, m *llama.Model, tok *tokenizer.Tokenizer, task Task, cfg EditConfig, opts Options) (Result, error) {
	if m.Adapter() != nil {
		return Result{}, fmt.Errorf("arc: test-time training needs a model without an adapter attached; merge it first")
	}
	opts = opts.withDefaults(m)
	if err := cfg.Validate(opts.Limits); err != nil {
		return invalid(task, err)
	}
	c, err := newCodec(m, tok)
	if err != nil {
		return Result{}, err
	}
	tasks := TrainingTasks(task, cfg, opts.MaxExamples, opts.Seed)
	examples, err := trainingExamples(tasks, opts.Prompter, c, cfg.Strategy, opts.MaxTokens)
	if err != nil {
		return Result{}, err
	}
	if len(examples) == 0 {
		return invalid(task, &EditError{Reason: fmt.Sprintf("no training example fits in %d tokens", opts.MaxTokens)})
	}
	if err := cfg.checkSteps(len(examples), opts.Batch, opts.Limits); err != nil {
		return invalid(task, err)
	}
	warmup := opts.Warmup
	defer m.SetAdapter(nil)
	_, curve, err := m.TrainFreshLoRA(ctx, llama.FreshLoRA{
		Config: &lora.Config{Rank: opts.Rank, Alpha: opts.Alpha, TargetModules: opts.Targets},
		Seed:   opts.Seed, Stream: 0xa4c, Examples: examples,
		Fit: llama.FitConfig{LR: cfg.LR, Epochs: cfg.Epochs, Batch: opts.Batch, Seed: opts.Seed, Pad: c.eos[0],
			Schedule: func(total int) train.Schedule { return train.Cosine(warmup, total) }, OnStep: opts.OnStep},
	})
	if err != nil {
		return Result{}, err
	}
	res, err := predict(ctx, m, c, task, opts)
	res.Examples, res.Curve = len(examples), curve
	return res, err
}

func invalid(task Task, err error) (Result, error) {
	var ee *EditError
	if !errors.As(err, &ee) {
		return Result{}, err
	}
	r := Result{Reason: ee.Reason}
	if task.Solved() {
		r.Correct = make([]bool, len(task.Test))
	}
	return r, nil
}

// InContext is the in-context baseline: the model as it is, no training, the same
// prediction and scoring as TestTimeTrain (the reference's ICL row, §2.9).
func InContext(ctx context.Context, m *llama.Model, tok *tokenizer.Tokenizer, task Task, opts Options) (Result, error) {
	c, err := newCodec(m, tok)
	if err != nil {
		return Result{}, err
	}
	return predict(ctx, m, c, task, opts.withDefaults(m))
}

// predict answers every test input greedily, votes and scores.
func predict(ctx context.Context, m *llama.Model, c codec, task Task, opts Options) (Result, error) {
	var r Result
	budget := opts.MaxNewTokens
	if budget == 0 {
		longest := 0
		for _, ps := range [][]Pair{task.Train, task.Test} {
			for _, p := range ps {
				for _, g := range []Grid{p.Input, p.Output} {
					if g != nil {
						longest = max(longest, len(c.encode(Format(g)+"#")))
					}
				}
			}
		}
		budget = 2*longest + 16
	}
	for ti, test := range task.Test {
		qs := []Query{{Demos: task.Train, Input: test.Input}}
		if opts.Vote {
			qs = VotingQueries(task, ti, opts.Seed)
		}
		var ids [][]int32
		var kept []Query
		for _, q := range qs {
			text, err := opts.Prompter.Query(q.Demos, q.Input)
			if err != nil {
				return r, err
			}
			if p := c.encode(text); len(p) < opts.MaxTokens {
				ids, kept = append(ids, p), append(kept, q)
			}
		}
		var preds []Prediction
		var answers []Answer
		if len(ids) > 0 {
			longest := 0
			for _, p := range ids {
				longest = max(longest, len(p))
			}
			n := min(budget, m.Config.MaxPositions-longest)
			if n < 1 {
				return r, fmt.Errorf("arc: task %s test %d: the prompt fills the model's context", task.ID, ti)
			}
			gens, err := m.Generate(ctx, ids, llama.GenerateConfig{MaxNewTokens: n, StopIDs: c.eos,
				StopStrings: []string{"#"}, Decode: c.decode})
			if err != nil {
				return r, err
			}
			for _, g := range gens {
				q := kept[g.Prompt]
				a := Answer{Text: g.Text, Inverse: q.InverseName()}
				grid, err := ParseAnswer(g.Text)
				if err == nil {
					grid, err = q.Undo(grid)
				}
				if err != nil {
					a.Err = err.Error()
				} else {
					preds = append(preds, Prediction{Grid: grid, Inverse: a.Inverse})
				}
				answers = append(answers, a)
			}
		}
		attempts := Vote(preds)
		if len(attempts) == 0 {
			attempts = []Grid{{{0}}}
		}
		r.Attempts = append(r.Attempts, attempts)
		r.Answers = append(r.Answers, answers)
	}
	if task.Solved() {
		r.Correct = make([]bool, len(task.Test))
		r.Reward = 1
		for i, test := range task.Test {
			r.Correct[i] = containsGrid(r.Attempts[i], test.Output)
			if !r.Correct[i] {
				r.Reward = 0
			}
		}
	}
	return r, nil
}

// SearchSpace is the oracle's small grid of edits: no augmentation, basic only, or
// every group; loss on outputs or on everything; lr 1e-4 or 1e-3; 2 epochs.
func SearchSpace() []EditConfig {
	var out []EditConfig
	for _, groups := range [][4]bool{{}, {true}, {true, true, true, true}} {
		for _, s := range []Strategy{OutputTokens, AllTokens} {
			for _, lr := range []float64{1e-4, 1e-3} {
				out = append(out, EditConfig{Basic: groups[0], Size: groups[1], Chain: groups[2], Repeat: groups[3],
					Strategy: s, LR: lr, Epochs: 2})
			}
		}
	}
	return out
}

// Oracle is the oracle baseline: it tries the edits of space in order (SearchSpace
// when nil) against the task's real tests and returns the first that solves the task,
// or else the one with the most correct tests (the first among equals). It knows the
// answers, so it bounds what a policy could reach with this space.
func Oracle(ctx context.Context, m *llama.Model, tok *tokenizer.Tokenizer, task Task, space []EditConfig, opts Options) (EditConfig, Result, error) {
	if !task.Solved() {
		return EditConfig{}, Result{}, fmt.Errorf("arc: the oracle needs the solutions of task %s", task.ID)
	}
	if space == nil {
		space = SearchSpace()
	}
	bestScore := -1
	var best EditConfig
	var bestRes Result
	for i, cfg := range space {
		res, err := TestTimeTrain(ctx, m, tok, task, cfg, opts)
		if d := (*llama.DivergedError)(nil); errors.As(err, &d) {
			// A learning rate of the space that diverges on this task solves nothing;
			// the search goes on (as a candidate's diverged edit scores 0).
			res, err = Result{Reason: err.Error(), Correct: make([]bool, len(task.Test))}, nil
		}
		if err != nil {
			return EditConfig{}, Result{}, err
		}
		if opts.OnTry != nil {
			opts.OnTry(Try{Index: i + 1, Of: len(space), Config: cfg, Result: res})
		}
		score := 0
		for _, ok := range res.Correct {
			if ok {
				score++
			}
		}
		if score > bestScore {
			best, bestRes, bestScore = cfg, res, score
		}
		if res.Reward == 1 {
			break
		}
	}
	return best, bestRes, nil
}
