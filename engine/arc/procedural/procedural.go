// Package procedural makes ARC-style tasks from a seed: small grids (3×3 to 6×6), one
// hidden rule per task (a turn, a flip, a recolouring, gravity, copying an object, ...),
// 3-4 demonstrations and one test, in the arc package's types and so in ARC's JSON
// format. They give the embedded model ARC tasks it can learn, and CorpusDocs gives
// its pretraining corpus documents in the prompt format.
package procedural

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"

	"seal/engine/arc"
)

// Rule is a task's hidden transformation.
type Rule struct {
	Name  string
	Apply func(arc.Grid) arc.Grid
	// input draws an input grid the rule applies to.
	input func(r *rand.Rand) arc.Grid
}

// Task is a generated task and the rule that made its outputs.
type Task struct {
	arc.Task
	Rule Rule
}

// Sides are small so that a task's test-time training sequences stay a few hundred
// tokens: one ARC candidate then takes seconds on two cores (at 10×10 they were about
// 1,700 tokens and the oracle's search ran for minutes per task).
const minSide, maxSide = 3, 6

// randomGrid draws a rows×cols grid: background 0 and a few colours, sparse enough that
// shapes and gravity show.
func randomGrid(r *rand.Rand, rows, cols int) arc.Grid {
	colours := r.Perm(9)[:1+r.IntN(3)]
	density := 0.2 + 0.4*r.Float64()
	g := arc.New(rows, cols)
	for _, row := range g {
		for c := range row {
			if r.Float64() < density {
				row[c] = 1 + colours[r.IntN(len(colours))]
			}
		}
	}
	return g
}

func side(r *rand.Rand, hi int) int { return minSide + r.IntN(hi-minSide+1) }

// anyGrid draws inputs of any size whose outputs keep their size.
func anyGrid(r *rand.Rand) arc.Grid { return randomGrid(r, side(r, maxSide), side(r, maxSide)) }

// halfGrid draws inputs of at most half the largest side, for rules that double a side.
func halfGrid(r *rand.Rand) arc.Grid { return randomGrid(r, side(r, maxSide/2), side(r, maxSide/2)) }

func fixed(name string, t arc.Transform, input func(*rand.Rand) arc.Grid) func(*rand.Rand) Rule {
	return func(*rand.Rand) Rule { return Rule{Name: name, Apply: t.Apply, input: input} }
}

// rules are the rule families; parameterised ones draw their parameters per task.
var rules = []func(*rand.Rand) Rule{
	fixed("rotate-90", arc.Rotate{K: 1}, anyGrid),
	fixed("rotate-180", arc.Rotate{K: 2}, anyGrid),
	fixed("rotate-270", arc.Rotate{K: 3}, anyGrid),
	fixed("flip-vertical", arc.Flip{Axis: 0}, anyGrid),
	fixed("flip-horizontal", arc.Flip{Axis: 1}, anyGrid),
	fixed("transpose", arc.Transpose{}, anyGrid),
	fixed("upscale-2", arc.Scale{Rows: 2, Cols: 2}, halfGrid),
	fixed("mirror-right", arc.Reflect{Axis: 1}, halfGrid),
	recolour,
	fillBackground,
	gravity,
	copyObject,
}

// recolour turns one colour into another; every input shows the colour.
func recolour(r *rand.Rand) Rule {
	p := r.Perm(9)
	from, to := 1+p[0], 1+p[1]
	return Rule{
		Name: fmt.Sprintf("recolour-%d-to-%d", from, to),
		Apply: func(g arc.Grid) arc.Grid {
			var m arc.ColourMap
			for c := range m {
				m[c] = c
			}
			m[from] = to
			return m.Apply(g)
		},
		input: func(r *rand.Rand) arc.Grid {
			g := anyGrid(r)
			for range 1 + r.IntN(4) {
				g[r.IntN(g.Rows())][r.IntN(g.Cols())] = from
			}
			return g
		},
	}
}

// fillBackground paints the background (0) one colour.
func fillBackground(r *rand.Rand) Rule {
	k := 1 + r.IntN(9)
	return Rule{
		Name: fmt.Sprintf("fill-background-%d", k),
		Apply: func(g arc.Grid) arc.Grid {
			out := g.Clone()
			for _, row := range out {
				for c, v := range row {
					if v == 0 {
						row[c] = k
					}
				}
			}
			return out
		},
		input: func(r *rand.Rand) arc.Grid {
			g := anyGrid(r)
			for _, row := range g {
				for c, v := range row {
					if v == k {
						row[c] = 0 // keep k out of the input so the rule is unambiguous
					}
				}
			}
			g[0][0] = 0
			return g
		},
	}
}

// gravity lets every coloured cell fall to the bottom of its column.
func gravity(*rand.Rand) Rule {
	return Rule{Name: "gravity-down", Apply: Gravity, input: anyGrid}
}

// Gravity moves the coloured cells of each column to its bottom, keeping their order.
func Gravity(g arc.Grid) arc.Grid {
	out := arc.New(g.Rows(), g.Cols())
	for c := 0; c < g.Cols(); c++ {
		dst := g.Rows() - 1
		for r := g.Rows() - 1; r >= 0; r-- {
			if v := g[r][c]; v != 0 {
				out[dst][c] = v
				dst--
			}
		}
	}
	return out
}

// copyObject copies the shape in the left half of the grid into the empty right half.
func copyObject(*rand.Rand) Rule {
	return Rule{
		Name: "copy-object-right",
		Apply: func(g arc.Grid) arc.Grid {
			out := g.Clone()
			w := g.Cols() / 2
			for _, row := range out {
				copy(row[w:2*w], row[:w])
			}
			return out
		},
		input: func(r *rand.Rand) arc.Grid {
			rows, w := side(r, maxSide), side(r, maxSide/2)
			g := arc.New(rows, 2*w)
			colour := 1 + r.IntN(9)
			h, ow := 1+r.IntN(rows), 1+r.IntN(w)
			top, left := r.IntN(rows-h+1), r.IntN(w-ow+1)
			for y := top; y < top+h; y++ {
				for x := left; x < left+ow; x++ {
					if r.IntN(3) > 0 {
						g[y][x] = colour
					}
				}
			}
			g[top][left] = colour
			return g
		},
	}
}

// The random streams of each use of the generator, one per set, so that no two sets
// draw the same tasks for one seed.
const (
	streamGenerate = 0x7a5c // Generate, Sets' training set
	streamEval     = 0xe7a1 // Sets' evaluation set (the ARC domain's default data)
	streamCorpus   = 0xc0a9 // CorpusDocs: the pretraining corpus's solved tasks
	streamSelfEdit = 0x5e1f // SelfEditDocs: the pretraining corpus's self-edit prompts
	streamRL       = 0x71a5 // RLTasks: the RL rounds' training tasks
)

// Generate makes n tasks from seed; the same seed always gives the same tasks. Task
// ids are "<rule>-<index>". Each task has 3 or 4 demonstrations and one test, all with
// distinct inputs whose outputs differ from them.
func Generate(seed uint64, n int) []Task {
	return generate(rand.New(rand.NewPCG(seed, streamGenerate)), n)
}

// Sets gives a training set and a held-out evaluation set from one seed, drawn from
// separate streams (and separate from CorpusDocs'), as ReST-EM needs: the policy learns
// to write edits on the first and is scored on the second.
func Sets(seed uint64, nTrain, nEval int) (train, eval []Task) {
	train = Generate(seed, nTrain)
	eval = generate(rand.New(rand.NewPCG(seed, streamEval)), nEval)
	for i := range eval {
		eval[i].ID = "eval-" + eval[i].ID
	}
	return train, eval
}

// RLTasks gives n tasks for ReST-EM's RL rounds (ids "train-<rule>-<index>") from a
// stream of their own, none of which shares a grid pair (input and output) with a task
// of held: the caller names the evaluation set and the pretraining corpus's tasks
// (CorpusTasks, SelfEditTasks). Separate streams alone do not keep them apart: small
// sparse grids recur (unfiltered, RLTasks(1, 256) shares 26 pairs with the eval
// set and the default corpus: go test ./engine/arc/procedural -run RLTasks -v). A drawn task that
// shares a pair is skipped; if almost every draw is held, fewer than n come back.
func RLTasks(seed uint64, n int, held ...[]Task) []Task {
	seen := map[string]bool{}
	for _, ts := range held {
		for _, t := range ts {
			for _, p := range pairsOf(t) {
				seen[pairKey(p)] = true
			}
		}
	}
	r := rand.New(rand.NewPCG(seed, streamRL))
	out := make([]Task, 0, n)
	for tries := 0; len(out) < n && tries < 100*n+1000; tries++ {
		t := drawTask(r, len(out))
		if !slices.ContainsFunc(pairsOf(t), func(p arc.Pair) bool { return seen[pairKey(p)] }) {
			t.ID = "train-" + t.ID
			out = append(out, t)
		}
	}
	return out
}

// pairsOf are a task's demonstrations and tests.
func pairsOf(t Task) []arc.Pair { return append(slices.Clone(t.Train), t.Test...) }

func pairKey(p arc.Pair) string { return arc.Format(p.Input) + "\x00" + arc.Format(p.Output) }

// CorpusTasks are the tasks CorpusDocs(seed, n) renders.
func CorpusTasks(seed uint64, n int) []Task {
	return generate(rand.New(rand.NewPCG(seed, streamCorpus)), n)
}

// SelfEditTasks are the tasks whose self-edit prompts SelfEditDocs(seed, n) holds.
func SelfEditTasks(seed uint64, n int) []Task {
	return generate(rand.New(rand.NewPCG(seed, streamSelfEdit)), n)
}

// The corpus sizes of `seal pretrain`'s defaults (--arc-docs, --arc-edit-docs), which
// made the embedded model: what the RL tasks of its default data are kept apart from.
const (
	PretrainCorpusDocs   = 600
	PretrainSelfEditDocs = 800
)

func generate(r *rand.Rand, n int) []Task {
	out := make([]Task, 0, n)
	for i := range n {
		out = append(out, drawTask(r, i))
	}
	return out
}

// drawTask draws the i-th task of a stream: a rule, then its 3 or 4 demonstrations and test.
func drawTask(r *rand.Rand, i int) Task {
	rule := rules[r.IntN(len(rules))](r)
	pairs := drawPairs(r, rule, 4+r.IntN(2))
	return Task{Rule: rule, Task: arc.Task{ID: fmt.Sprintf("%s-%d", rule.Name, i), Train: pairs[:len(pairs)-1], Test: pairs[len(pairs)-1:]}}
}

// drawPairs draws k pairs with distinct inputs that the rule changes (giving up on
// the second condition after many tries: a rule may leave a rare input unchanged).
func drawPairs(r *rand.Rand, rule Rule, k int) []arc.Pair {
	var pairs []arc.Pair
	for tries := 0; len(pairs) < k; tries++ {
		in := rule.input(r)
		out := rule.Apply(in)
		if tries < 1000 && (out.Equal(in) || seenInput(pairs, in)) {
			continue
		}
		pairs = append(pairs, arc.Pair{Input: in, Output: out})
	}
	return pairs
}

func seenInput(ps []arc.Pair, g arc.Grid) bool {
	for _, p := range ps {
		if p.Input.Equal(g) {
			return true
		}
	}
	return false
}

// ARC returns the tasks without their rules.
func ARC(ts []Task) []arc.Task {
	out := make([]arc.Task, len(ts))
	for i, t := range ts {
		out[i] = t.Task
	}
	return out
}

// WriteFiles writes tasks as <name>_challenges.json and <name>_solutions.json in dir
// and returns the two paths.
func WriteFiles(dir, name string, ts []Task) (challenges, solutions string, err error) {
	challenges = filepath.Join(dir, name+"_challenges.json")
	solutions = filepath.Join(dir, name+"_solutions.json")
	return challenges, solutions, arc.WriteFiles(challenges, solutions, ARC(ts))
}

// CorpusDocs returns n pretraining documents that teach the grid serialisation: each
// is a freshly generated task rendered as the plain-text TTT format with its answer
// (arc.Prompter's Training text), so a model without a chat template learns to read
// demonstrations and write "<grid>#". The tasks come from a different stream than
// Generate's, so a corpus never holds the tasks Generate gives for the same seed.
func CorpusDocs(seed uint64, n int) []string {
	ts := CorpusTasks(seed, n)
	docs := make([]string, len(ts))
	for i, t := range ts {
		_, full, err := arc.Prompter{}.Training(t.Train, t.Test[0])
		if err != nil {
			panic(err) // plain text cannot fail to render
		}
		docs[i] = full
	}
	return docs
}

// SelfEditDocs returns n pretraining documents that teach the ARC self-edit format: each
// is a fresh task's self-edit prompt (arc.Prompter's plain-text SelfEditPrompt: the
// demonstrations and the tool instructions) followed by a config in the engine's JSON
// format and a newline. The configs are of varied quality on purpose (augmentation
// groups, loss strategy, learning rate and epochs drawn from the ranges a person would
// try), so that a model's own configs parse and differ from one another, and ReST-EM
// has good and bad ones to tell apart. The tasks come from their own stream.
func SelfEditDocs(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, streamSelfEdit)) // SelfEditTasks, then the configs
	ts := generate(r, n)
	docs := make([]string, len(ts))
	for i, t := range ts {
		prompt, err := arc.Prompter{}.SelfEditPrompt(t.Task)
		if err != nil {
			panic(err) // plain text cannot fail to render
		}
		docs[i] = prompt + RandomConfig(r).JSON() + "\n"
	}
	return docs
}

// RandomConfig draws a valid self-edit config: each augmentation group on or off, either
// loss strategy, a learning rate of 1e-4 to 3e-3 and 1 to 4 epochs.
func RandomConfig(r *rand.Rand) arc.EditConfig {
	strategy := arc.OutputTokens
	if r.IntN(2) == 0 {
		strategy = arc.AllTokens
	}
	return arc.EditConfig{Basic: r.IntN(2) == 0, Size: r.IntN(2) == 0, Chain: r.IntN(2) == 0, Repeat: r.IntN(2) == 0,
		Strategy: strategy, LR: []float64{1e-4, 3e-4, 1e-3, 3e-3}[r.IntN(4)], Epochs: 1 + r.IntN(4)}
}
