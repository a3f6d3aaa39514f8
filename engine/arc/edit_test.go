package arc

import (
	"errors"
	"strings"
	"testing"
)

const validEdit = `{"data_generation": {"use_basic_augmentations": true, "use_size_augmentations": false,
 "use_chain_augmentations": false, "use_repeat_augmentations": true},
 "training": {"strategy": "train_using_output_tokens", "learning_rate": 0.0001, "num_train_epochs": 3}}`

func TestParseEditValid(t *testing.T) {
	want := EditConfig{Basic: true, Repeat: true, Strategy: OutputTokens, LR: 1e-4, Epochs: 3}
	for _, text := range []string{
		validEdit,
		"```json\n" + validEdit + "\n```",
		"Here is my configuration: " + validEdit + " Good luck!",
		strings.Replace(validEdit, "3}", "3.0}", 1),
	} {
		e, err := ParseEdit(text)
		if err != nil || e != want {
			t.Errorf("ParseEdit(%q) = %+v, %v", text, e, err)
			continue
		}
		if err := e.Validate(Limits{}); err != nil {
			t.Errorf("valid edit refused: %v", err)
		}
	}
	// An edit written by JSON parses back to itself.
	for _, e := range append(SearchSpace(), FixedConfig()) {
		back, err := ParseEdit(e.JSON())
		if err != nil || back != e {
			t.Errorf("%s: %+v %v", e.JSON(), back, err)
		}
	}
}

func TestParseEditInvalid(t *testing.T) {
	cases := []struct {
		text, reason string
		unparseable  bool
	}{
		{"I would pick rotations.", "no JSON object", true},
		{`{"data_generation": {`, "malformed JSON", true},
		{`{"training": {}}`, "data_generation is missing", false},
		{`{"data_generation": [1], "training": {}}`, "data_generation: want an object", false},
		{strings.Replace(validEdit, `"use_size_augmentations": false,`, "", 1), "use_size_augmentations is missing", false},
		{strings.Replace(validEdit, `"use_size_augmentations": false`, `"use_size_augmentations": "no"`, 1), "want true or false", false},
		{strings.Replace(validEdit, `"use_basic_augmentations": true`, `"use_basic_augmentations": True`, 1), "malformed JSON", true},
		{`{"data_generation": {"use_basic_augmentations": true, "use_size_augmentations": false, "use_chain_augmentations": false, "use_repeat_augmentations": true}}`, "training is missing", false},
		{strings.Replace(validEdit, `"strategy": "train_using_output_tokens", `, "", 1), "training.strategy is missing", false},
		{strings.Replace(validEdit, `"learning_rate": 0.0001, `, "", 1), "learning_rate is missing", false},
		{strings.Replace(validEdit, `, "num_train_epochs": 3`, "", 1), "num_train_epochs is missing", false},
		{strings.Replace(validEdit, `0.0001`, `"fast"`, 1), "want a number", false},
		{strings.Replace(validEdit, `"num_train_epochs": 3`, `"num_train_epochs": 2.5`, 1), "want an integer", false},
		{strings.Replace(validEdit, `"strategy": "train_using_output_tokens"`, `"strategy": 7`, 1), "want a string", false},
	}
	for _, c := range cases {
		_, err := ParseEdit(c.text)
		var ee *EditError
		if !errors.As(err, &ee) || !strings.Contains(ee.Reason, c.reason) || ee.Unparseable != c.unparseable {
			t.Errorf("ParseEdit(%q) = %v (unparseable %v); want %q, unparseable %v", c.text, err, ee != nil && ee.Unparseable, c.reason, c.unparseable)
		}
	}
}

func TestValidateEdit(t *testing.T) {
	ok := EditConfig{Strategy: AllTokens, LR: 1e-3, Epochs: 2}
	if err := ok.Validate(Limits{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		e      EditConfig
		l      Limits
		reason string
	}{
		{EditConfig{Strategy: "train_using_some_tokens", LR: 1e-3, Epochs: 2}, Limits{}, "neither"},
		{EditConfig{Strategy: OutputTokens, LR: 0, Epochs: 2}, Limits{}, "learning_rate 0 is outside"},
		{EditConfig{Strategy: OutputTokens, LR: -1e-4, Epochs: 2}, Limits{}, "outside (0, 0.01]"},
		{EditConfig{Strategy: OutputTokens, LR: 0.5, Epochs: 2}, Limits{}, "learning_rate 0.5"},
		{EditConfig{Strategy: OutputTokens, LR: 1e-3, Epochs: 0}, Limits{}, "num_train_epochs 0 is outside [1, 10]"},
		{EditConfig{Strategy: OutputTokens, LR: 1e-3, Epochs: 11}, Limits{}, "num_train_epochs 11"},
		{EditConfig{Strategy: OutputTokens, LR: 1e-3, Epochs: 4}, Limits{MaxEpochs: 3}, "outside [1, 3]"},
	} {
		err := c.e.Validate(c.l)
		var ee *EditError
		if !errors.As(err, &ee) || !strings.Contains(ee.Reason, c.reason) || ee.Unparseable {
			t.Errorf("%+v: got %v, want %q", c.e, err, c.reason)
		}
	}
	// The reference's step budget: epochs × examples // 2 > 375 is refused.
	e := EditConfig{Strategy: OutputTokens, LR: 1e-4, Epochs: 3}
	if err := e.checkSteps(250, 2, Limits{}); err != nil {
		t.Fatalf("375 steps is within the budget: %v", err)
	}
	if err := e.checkSteps(251, 2, Limits{}); err == nil || !strings.Contains(err.Error(), "376 steps") {
		t.Fatalf("376 steps: %v", err)
	}
}

func FuzzParseEdit(f *testing.F) {
	f.Add(validEdit)
	f.Add(`{"data_generation": null}`)
	f.Add("```{}```")
	f.Fuzz(func(t *testing.T, text string) {
		e, err := ParseEdit(text)
		if err != nil {
			var ee *EditError
			if !errors.As(err, &ee) || ee.Reason == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if back, err := ParseEdit(e.JSON()); err != nil || back != e {
			t.Fatalf("re-parse of %s: %+v %v", e.JSON(), back, err)
		}
	})
}
