package arc

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"seal/models/llama"
	"seal/models/llama/llamatest"
	"seal/models/lora"
	"seal/models/tokenizer"
)

// tinyModel loads a random tiny Llama with a byte-level tokenizer and a chat template.
func tinyModel(t *testing.T) (*llama.Model, *tokenizer.Tokenizer, Prompter) {
	t.Helper()
	dir, err := llamatest.Folder(t.TempDir(), 5)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := llama.OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ck.Close() })
	m, err := llama.Load(ck, llamatest.Backend(), llama.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := PrompterFor(dir)
	if err != nil || p.Template == nil {
		t.Fatalf("prompter: %v", err)
	}
	return m, tok, p
}

// logits is the model's output on a fixed sequence, to see that it did not change.
func logits(t *testing.T, m *llama.Model) []float32 {
	t.Helper()
	ids := []int32{256, 91, 91, 49, 32, 50, 93, 93, 35}
	out, err := m.Forward(ids, 1, len(ids), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), out.F32...)
}

func sameFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func smallTask() Task {
	return Task{ID: "tiny",
		Train: []Pair{{Grid{{1, 2}}, Grid{{2, 1}}}, {Grid{{3, 4}}, Grid{{4, 3}}}, {Grid{{5, 0}}, Grid{{0, 5}}}},
		Test:  []Pair{{Grid{{6, 7}}, Grid{{7, 6}}}}}
}

func tinyOptions(p Prompter) Options {
	return Options{Prompter: p, Rank: 4, Alpha: 8, MaxExamples: 6, MaxNewTokens: 12, Vote: true, Seed: 1}
}

func TestTestTimeTrainOnATinyModel(t *testing.T) {
	m, tok, p := tinyModel(t)
	before := logits(t, m)
	cfg := EditConfig{Basic: true, Strategy: OutputTokens, LR: 1e-3, Epochs: 2}
	var steps int
	opts := tinyOptions(p)
	opts.OnStep = func(llama.FitStep) { steps++ }
	res, err := TestTimeTrain(context.Background(), m, tok, smallTask(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if m.Adapter() != nil || !sameFloats(logits(t, m), before) {
		t.Fatal("the model changed")
	}
	if res.Reason != "" || res.Examples != 6 {
		t.Fatalf("reason %q, %d examples", res.Reason, res.Examples)
	}
	if want := llama.FitSteps(6, 2, 2); len(res.Curve) != want || steps != want {
		t.Fatalf("%d curve points and %d reported steps, want %d", len(res.Curve), steps, want)
	}
	if len(res.Attempts) != 1 || len(res.Attempts[0]) == 0 || len(res.Attempts[0]) > 2 || len(res.Correct) != 1 {
		t.Fatalf("attempts %v, correct %v", res.Attempts, res.Correct)
	}
	// The voting set: up to 3 leave-one-out prompts per demo plus 5 transformed ones.
	if n := len(res.Answers[0]); n < 3+1 || n > 9+5 {
		t.Fatalf("%d answers", n)
	}
	if want := map[bool]float64{true: 1, false: 0}[res.Correct[0]]; res.Reward != want {
		t.Fatalf("reward %g with correct %v", res.Reward, res.Correct)
	}

	// The same seed gives the same run.
	again, err := TestTimeTrain(context.Background(), m, tok, smallTask(), cfg, tinyOptions(p))
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Curve {
		if res.Curve[i].Loss != again.Curve[i].Loss {
			t.Fatalf("step %d: loss %g then %g", i, res.Curve[i].Loss, again.Curve[i].Loss)
		}
	}
}

func TestTestTimeTrainRefusesInvalidEdits(t *testing.T) {
	m, tok, p := tinyModel(t)
	for _, c := range []struct {
		cfg    EditConfig
		opts   func(*Options)
		reason string
	}{
		{EditConfig{Strategy: "whatever", LR: 1e-3, Epochs: 1}, nil, "neither"},
		{EditConfig{Strategy: AllTokens, LR: 1, Epochs: 1}, nil, "learning_rate"},
		{EditConfig{Strategy: AllTokens, LR: 1e-3, Epochs: 3}, func(o *Options) { o.Limits.MaxSteps = 8 }, "more than the budget of 8"},
		{EditConfig{Strategy: AllTokens, LR: 1e-3, Epochs: 1}, func(o *Options) { o.MaxTokens = 10 }, "no training example fits"},
	} {
		opts := tinyOptions(p)
		if c.opts != nil {
			c.opts(&opts)
		}
		res, err := TestTimeTrain(context.Background(), m, tok, smallTask(), c.cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Reason == "" || res.Reward != 0 || len(res.Curve) != 0 || res.Attempts != nil {
			t.Fatalf("%+v: %+v", c.cfg, res)
		}
		if !strings.Contains(res.Reason, c.reason) {
			t.Errorf("reason %q, want %q", res.Reason, c.reason)
		}
	}
}

func TestTestTimeTrainCancelsAndLeavesTheModel(t *testing.T) {
	m, tok, p := tinyModel(t)
	before := logits(t, m)
	ctx, cancel := context.WithCancel(context.Background())
	opts := tinyOptions(p)
	opts.OnStep = func(s llama.FitStep) {
		if s.Step == 2 {
			cancel()
		}
	}
	_, err := TestTimeTrain(ctx, m, tok, smallTask(), EditConfig{Strategy: AllTokens, LR: 1e-2, Epochs: 3}, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if m.Adapter() != nil || !sameFloats(logits(t, m), before) {
		t.Fatal("a cancelled run changed the model")
	}
	// A model that already carries an adapter is refused, and keeps it.
	a, err := lora.New(&lora.Config{Rank: 2, Alpha: 2, TargetModules: []string{"q_proj"}}, m.Config.NumLayers,
		llama.Projections, m.Config.ProjectionShape, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	m.SetAdapter(a)
	if _, err := TestTimeTrain(context.Background(), m, tok, smallTask(), FixedConfig(), opts); err == nil || m.Adapter() != a {
		t.Fatalf("got %v with adapter %p", err, m.Adapter())
	}
}

func TestBaselines(t *testing.T) {
	m, tok, p := tinyModel(t)
	before := logits(t, m)
	opts := tinyOptions(p)
	opts.Vote = false
	icl, err := InContext(context.Background(), m, tok, smallTask(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(icl.Answers[0]) != 1 || len(icl.Curve) != 0 || len(icl.Correct) != 1 {
		t.Fatalf("in-context: %+v", icl)
	}
	space := []EditConfig{
		{Strategy: OutputTokens, LR: 1e-3, Epochs: 1},
		{Strategy: AllTokens, LR: 1e-3, Epochs: 1},
	}
	var tries []Try
	steps := 0
	opts.OnTry = func(tr Try) { tries = append(tries, tr) }
	opts.OnStep = func(llama.FitStep) { steps++ }
	best, res, err := Oracle(context.Background(), m, tok, smallTask(), space, opts)
	if err != nil {
		t.Fatal(err)
	}
	// The search reports every config it tried, in order, and every training step of
	// each: it never runs silently.
	if len(tries) == 0 || len(tries) > len(space) || tries[0].Index != 1 || tries[0].Of != len(space) || tries[0].Config != space[0] ||
		len(tries) < len(space) && tries[len(tries)-1].Result.Reward != 1 {
		t.Fatalf("oracle reported tries %+v", tries)
	}
	want := 0
	for _, tr := range tries {
		want += len(tr.Result.Curve)
	}
	if steps != want || steps == 0 {
		t.Fatalf("oracle reported %d training steps, its tries trained %d", steps, want)
	}
	if best != space[0] && !(best == space[1] && res.Reward == 1) {
		// A random model solves nothing, so the first of equals wins, unless the
		// second solved the task.
		t.Fatalf("oracle chose %+v with reward %g", best, res.Reward)
	}
	if !sameFloats(logits(t, m), before) {
		t.Fatal("the baselines changed the model")
	}
	if _, _, err := Oracle(context.Background(), m, tok, Task{ID: "x", Train: smallTask().Train, Test: []Pair{{Input: Grid{{1}}}}}, space, opts); err == nil {
		t.Fatal("the oracle needs solutions")
	}
	if len(SearchSpace()) != 12 {
		t.Fatalf("search space of %d", len(SearchSpace()))
	}
}

func TestTestTimeTrainWithPlainText(t *testing.T) {
	m, tok, _ := tinyModel(t)
	before := logits(t, m)
	opts := tinyOptions(Prompter{})
	opts.Vote = false
	res, err := TestTimeTrain(context.Background(), m, tok, smallTask(), EditConfig{Strategy: OutputTokens, LR: 1e-3, Epochs: 1}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reason != "" || len(res.Curve) != llama.FitSteps(res.Examples, 2, 1) || len(res.Answers[0]) != 1 || len(res.Attempts[0]) != 1 {
		t.Fatalf("%+v", res)
	}
	if m.Adapter() != nil || !sameFloats(logits(t, m), before) {
		t.Fatal("the model changed")
	}
}
