package arc

import (
	"errors"
	"fmt"
	"strings"

	"seal/models/tokenizer"
)

// Format prints a grid as NumPy's str(ndarray) does for single-digit cells, the
// reference's grid serialisation (docs/seal-method.md §2.2b): each row is "[" + cells
// joined by one space + "]", rows are joined by a newline and one space, and the
// whole is wrapped in one more bracket pair. The 2×3 grid (0,1,2),(3,4,5) prints as
// "[[0 1 2]\n [3 4 5]]". With at most 30 columns NumPy never wraps or elides.
func Format(g Grid) string {
	var b strings.Builder
	b.WriteByte('[')
	for r, row := range g {
		if r > 0 {
			b.WriteString("\n ")
		}
		b.WriteByte('[')
		for c, v := range row {
			if c > 0 {
				b.WriteByte(' ')
			}
			b.WriteByte(byte('0' + v))
		}
		b.WriteByte(']')
	}
	b.WriteByte(']')
	return b.String()
}

// FormatExample is one demonstration in the TTT/inference format: "<in> -> <out>#".
func FormatExample(p Pair) string { return Format(p.Input) + " -> " + Format(p.Output) + "#" }

// The TTT/inference system message (§2.2b). The sentences are our own, written from
// the method's description; the structure around them is the reference's.
const (
	queryInstruction = "Work out the rule that turns each input grid into its output grid in the examples below, apply it to the test input, and answer in the same format."
	queryArrays      = "The input and output grids are given as python arrays:"
)

// Prompter renders ARC text for one model: through its chat template when it has one
// (Template set), as plain text when it has none (the embedded model). Date is the
// date_string a template that prints today's date receives (the Llama 3.2 template);
// empty leaves the template to use the real date, as the reference does.
type Prompter struct {
	Template *tokenizer.ChatTemplate
	Date     string
}

// PrompterFor reads a model folder's tokenizer_config.json and returns the prompter
// for it: its chat template, or plain text when it has none.
func PrompterFor(dir string) (Prompter, error) {
	cfg, err := tokenizer.LoadConfig(dir)
	if err != nil {
		return Prompter{}, err
	}
	t, err := cfg.Template()
	if errors.Is(err, tokenizer.ErrNoChatTemplate) {
		return Prompter{}, nil
	}
	if err != nil {
		return Prompter{}, err
	}
	return Prompter{Template: t}, nil
}

// querySystem is the system message: the instruction, then every demonstration on its
// own line.
func querySystem(demos []Pair) string {
	var b strings.Builder
	b.WriteString(queryInstruction + "\n" + queryArrays + "\n")
	for _, d := range demos {
		b.WriteString(FormatExample(d) + "\n")
	}
	return b.String()
}

func (p Prompter) render(msgs []tokenizer.Message, genPrompt bool) (string, error) {
	var vars map[string]any
	if p.Date != "" {
		vars = map[string]any{"date_string": p.Date}
	}
	return p.Template.Render(msgs, tokenizer.RenderOptions{AddGenerationPrompt: genPrompt, Vars: vars})
}

// Query is the inference prompt for one test input: system (instruction and
// demonstrations), user "<input> ->", then the generation header. Without a template
// it is the system text followed by "<input> ->", so the test reads as one more
// demonstration line and the model continues with " <output>#".
func (p Prompter) Query(demos []Pair, input Grid) (string, error) {
	sys, user := querySystem(demos), Format(input)+" -> "
	if p.Template == nil {
		return sys + strings.TrimSpace(user), nil
	}
	return p.render([]tokenizer.Message{{Role: "system", Content: sys}, {Role: "user", Content: user}}, true)
}

// Training returns a TTT training text and the part of it before the answer: the
// loss of the output-only strategy covers what follows that prefix. With a template
// this is the reference's system + user + assistant "<out>#" rendered with the
// generation prompt on, so an empty assistant header trails the answer (§2.2b); the
// prefix ends with the assistant header (for Llama 3 it equals Query's text). Without
// a template it is the query followed by " <out>#".
func (p Prompter) Training(demos []Pair, test Pair) (prefix, full string, err error) {
	answer := Format(test.Output) + "#"
	if p.Template == nil {
		q, err := p.Query(demos, test.Input)
		if err != nil {
			return "", "", err
		}
		return q, q + " " + answer, nil
	}
	// Render with a marker in place of the answer to find where the answer starts,
	// whatever the template puts around an assistant turn.
	const marker = "\x00arc-answer\x00"
	sys, user := querySystem(demos), Format(test.Input)+" -> "
	text, err := p.render([]tokenizer.Message{{Role: "system", Content: sys}, {Role: "user", Content: user},
		{Role: "assistant", Content: marker}}, true)
	if err != nil {
		return "", "", err
	}
	i := strings.Index(text, marker)
	if i < 0 || strings.Count(text, marker) != 1 {
		return "", "", fmt.Errorf("arc: the chat template does not render the assistant's answer once; cannot mark it for the output-only loss")
	}
	return text[:i], text[:i] + answer + text[i+len(marker):], nil
}

// The self-edit prompt's text (§2.2a), our own words for the reference's structure:
// one system sentence, the demonstrations (never the test input), six dashes, the tool
// menu and a JSON skeleton.
const (
	selfEditSystem = "You are a helpful assistant who solves the task in front of you right away."
	selfEditTools  = `You are configuring a fine-tuning pipeline that will adapt you to the task above. Choose options from this fixed menu.

Data generation, true or false for each:
- use_basic_augmentations: rotations, flips, reflections, translations and transposition of every grid
- use_size_augmentations: doubling the resolution, the height or the width of every grid
- use_chain_augmentations: a rotation, flip or transposition followed by doubled resolution
- use_repeat_augmentations: tiling every grid vertically, horizontally or both

Training:
- strategy: "train_using_all_tokens" or "train_using_output_tokens"
- learning_rate: a float
- num_train_epochs: an integer

Answer with a bare, valid JSON object and nothing else: no prose, no markdown, lowercase booleans. Its shape:
{"data_generation": {"use_basic_augmentations": ..., "use_size_augmentations": ..., "use_chain_augmentations": ..., "use_repeat_augmentations": ...}, "training": {"strategy": ..., "learning_rate": ..., "num_train_epochs": ...}}`
)

// formatRows prints a grid for the self-edit prompt: one row per line, cells separated
// by single spaces.
func formatRows(g Grid) string {
	var b strings.Builder
	for r, row := range g {
		if r > 0 {
			b.WriteByte('\n')
		}
		for c, v := range row {
			if c > 0 {
				b.WriteByte(' ')
			}
			b.WriteByte(byte('0' + v))
		}
	}
	return b.String()
}

// SelfEditUser is the self-edit prompt's user text: for each demonstration an
// "Input:" line, the grid, a blank line, an "Output:" line, the grid and a blank
// line; then six dashes, a blank line and the tool instructions.
func SelfEditUser(t Task) string {
	var b strings.Builder
	for _, p := range t.Train {
		b.WriteString("Input:\n" + formatRows(p.Input) + "\n\nOutput:\n" + formatRows(p.Output) + "\n\n")
	}
	b.WriteString("------\n\n" + selfEditTools)
	return b.String()
}

// SelfEditPrompt is the prompt the policy continues with a self-edit. With a template
// it is system + user rendered with the generation prompt. The reference builds the
// Llama 3 header string by hand without the date lines and so feeds two BOS tokens
// (§2.2a, §5 #10); a template's rendering is what the model was tuned on, so it is
// used here. Without a template it is the system sentence, a blank line, the user text
// and a newline.
func (p Prompter) SelfEditPrompt(t Task) (string, error) {
	if p.Template == nil {
		return selfEditSystem + "\n\n" + SelfEditUser(t) + "\n", nil
	}
	return p.render([]tokenizer.Message{{Role: "system", Content: selfEditSystem}, {Role: "user", Content: SelfEditUser(t)}}, true)
}
