package arc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Strategy says which tokens of a TTT example are in the loss (§2.3).
type Strategy string

const (
	AllTokens    Strategy = "train_using_all_tokens"    // every token
	OutputTokens Strategy = "train_using_output_tokens" // only what follows the prompt: the answer
)

// How the reference samples self-edits (§2.3): temperature 0.8, top-p 1, at most 128
// new tokens, until it has 15 valid edits per task for RL training and 5 for
// evaluation (unparseable ones are re-sampled and never counted).
const (
	EditTemperature   = 0.8
	EditMaxTokens     = 128
	EditsPerTrainTask = 15
	EditsPerEvalTask  = 5
)

// EditConfig is an ARC self-edit: the augmentation groups and the training
// hyperparameters the policy chose (docs/seal-method.md §2.3).
type EditConfig struct {
	Basic, Size, Chain, Repeat bool // data_generation.use_*_augmentations
	Strategy                   Strategy
	LR                         float64
	Epochs                     int
}

// FixedConfig is the hand-chosen TTT recipe (the reference's ttt.py, §2.5): every
// augmentation group, output-only loss, lr 1e-4, 2 epochs.
func FixedConfig() EditConfig {
	return EditConfig{Basic: true, Size: true, Chain: true, Repeat: true, Strategy: OutputTokens, LR: 1e-4, Epochs: 2}
}

type editJSON struct {
	DataGeneration struct {
		Basic  bool `json:"use_basic_augmentations"`
		Size   bool `json:"use_size_augmentations"`
		Chain  bool `json:"use_chain_augmentations"`
		Repeat bool `json:"use_repeat_augmentations"`
	} `json:"data_generation"`
	Training struct {
		Strategy Strategy `json:"strategy"`
		LR       float64  `json:"learning_rate"`
		Epochs   int      `json:"num_train_epochs"`
	} `json:"training"`
}

// JSON writes the edit in the self-edit format, as a policy should.
func (e EditConfig) JSON() string {
	var j editJSON
	j.DataGeneration.Basic, j.DataGeneration.Size, j.DataGeneration.Chain, j.DataGeneration.Repeat = e.Basic, e.Size, e.Chain, e.Repeat
	j.Training.Strategy, j.Training.LR, j.Training.Epochs = e.Strategy, e.LR, e.Epochs
	b, _ := json.Marshal(j)
	return string(b)
}

// EditError says why a self-edit cannot be used. Unparseable edits (no JSON object)
// are re-sampled by the reference and never scored; the others are scored with
// reward 0 (§2.3, §4 #11).
type EditError struct {
	Reason      string
	Unparseable bool
}

func (e *EditError) Error() string { return "arc: self-edit: " + e.Reason }

// Limits bound what a self-edit may ask for. The reference sets a 375-step budget; it
// checks nothing else, but an edit asking for a learning rate of 5 or 10,000 epochs is
// useless and expensive, so those are refused too.
type Limits struct {
	MaxLR     float64 // learning_rate must be in (0, MaxLR]
	MaxEpochs int     // num_train_epochs must be in [1, MaxEpochs]
	MaxSteps  int     // epochs × examples / batch must not exceed it (the reference's 375)
}

// DefaultLimits are the limits TestTimeTrain applies when Options.Limits is zero.
func DefaultLimits() Limits { return Limits{MaxLR: 1e-2, MaxEpochs: 10, MaxSteps: 375} }

// ParseEdit reads a self-edit. It takes the first JSON object in the text (a model may
// wrap it in a code fence or add prose around it) and requires every field of the
// format with the right type; Validate then checks the values.
func ParseEdit(text string) (EditConfig, error) {
	start := strings.IndexByte(text, '{')
	if start < 0 {
		return EditConfig{}, &EditError{Reason: "no JSON object in the text", Unparseable: true}
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(text[start:]))
	if err := dec.Decode(&raw); err != nil {
		return EditConfig{}, &EditError{Reason: "malformed JSON: " + err.Error(), Unparseable: true}
	}
	var e EditConfig
	dg, err := object(raw, "data_generation")
	if err != nil {
		return e, err
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"use_basic_augmentations", &e.Basic}, {"use_size_augmentations", &e.Size},
		{"use_chain_augmentations", &e.Chain}, {"use_repeat_augmentations", &e.Repeat}} {
		v, ok := dg[f.key]
		if !ok {
			return e, &EditError{Reason: "data_generation." + f.key + " is missing"}
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			return e, &EditError{Reason: fmt.Sprintf("data_generation.%s: want true or false, got %s", f.key, clipText(string(v)))}
		}
	}
	tr, err := object(raw, "training")
	if err != nil {
		return e, err
	}
	v, ok := tr["strategy"]
	if !ok {
		return e, &EditError{Reason: "training.strategy is missing"}
	}
	if err := json.Unmarshal(v, &e.Strategy); err != nil {
		return e, &EditError{Reason: fmt.Sprintf("training.strategy: want a string, got %s", clipText(string(v)))}
	}
	v, ok = tr["learning_rate"]
	if !ok {
		return e, &EditError{Reason: "training.learning_rate is missing"}
	}
	if err := json.Unmarshal(v, &e.LR); err != nil {
		return e, &EditError{Reason: fmt.Sprintf("training.learning_rate: want a number, got %s", clipText(string(v)))}
	}
	v, ok = tr["num_train_epochs"]
	if !ok {
		return e, &EditError{Reason: "training.num_train_epochs is missing"}
	}
	var epochs float64
	if err := json.Unmarshal(v, &epochs); err != nil || epochs != math.Trunc(epochs) || math.Abs(epochs) > 1e9 {
		return e, &EditError{Reason: fmt.Sprintf("training.num_train_epochs: want an integer, got %s", clipText(string(v)))}
	}
	e.Epochs = int(epochs)
	return e, nil
}

func object(raw map[string]json.RawMessage, key string) (map[string]json.RawMessage, error) {
	v, ok := raw[key]
	if !ok {
		return nil, &EditError{Reason: key + " is missing"}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return nil, &EditError{Reason: fmt.Sprintf("%s: want an object, got %s", key, clipText(string(v)))}
	}
	return m, nil
}

// Validate checks an edit's values against the limits (zero fields of l take
// DefaultLimits'). The step budget needs the training-set size, so TestTimeTrain
// checks it.
func (e EditConfig) Validate(l Limits) error {
	l = l.orDefault()
	if e.Strategy != AllTokens && e.Strategy != OutputTokens {
		return &EditError{Reason: fmt.Sprintf("training.strategy %q is neither %q nor %q", clipText(string(e.Strategy)), AllTokens, OutputTokens)}
	}
	if !(e.LR > 0 && e.LR <= l.MaxLR) {
		return &EditError{Reason: fmt.Sprintf("training.learning_rate %g is outside (0, %g]", e.LR, l.MaxLR)}
	}
	if e.Epochs < 1 || e.Epochs > l.MaxEpochs {
		return &EditError{Reason: fmt.Sprintf("training.num_train_epochs %d is outside [1, %d]", e.Epochs, l.MaxEpochs)}
	}
	return nil
}

func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	if l.MaxLR <= 0 {
		l.MaxLR = d.MaxLR
	}
	if l.MaxEpochs <= 0 {
		l.MaxEpochs = d.MaxEpochs
	}
	if l.MaxSteps <= 0 {
		l.MaxSteps = d.MaxSteps
	}
	return l
}

// checkSteps is the reference's step budget: epochs × examples // 2 > 375 is refused
// (with the batch size in place of the 2).
func (e EditConfig) checkSteps(examples, batch int, l Limits) error {
	l = l.orDefault()
	if steps := e.Epochs * examples / max(batch, 1); steps > l.MaxSteps {
		return &EditError{Reason: fmt.Sprintf("%d epochs over %d examples is %d steps, more than the budget of %d", e.Epochs, examples, steps, l.MaxSteps)}
	}
	return nil
}
