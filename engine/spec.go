package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"seal/engine/knowledge"
	"seal/engine/redact"
	"seal/models/llama"
)

// RunSpec is everything that defines a run. It is stored whole with the run, so a run
// can be resumed, compared and reproduced from the store alone. Secrets (grader API
// keys) never go in it.
type RunSpec struct {
	Name   string `json:"name" toml:"name"`
	Domain string `json:"domain" toml:"domain"` // a registered domain (domain.go): "knowledge", "arc"
	Mode   string `json:"mode" toml:"mode"`     // "restem", "cpt", "continual"
	Model  string `json:"model" toml:"model"`   // a Hugging Face model folder
	Data   string `json:"data" toml:"data"`     // SQuAD-format JSON, or ARC challenges JSON
	// Solutions is the ARC solutions JSON; empty: the challenges file's name with
	// "challenges" replaced by "solutions", when that file exists.
	Solutions string `json:"solutions,omitempty" toml:"solutions"`
	ARCVote   bool   `json:"arc_vote,omitempty" toml:"arc_vote"` // ARC: augmented queries and voting (docs/seal-method.md §2.6)
	// ARCExamples caps the test-time training examples built from a task (0: the
	// method's 250); an edit's step budget is counted on what is kept.
	ARCExamples int `json:"arc_examples,omitempty" toml:"arc_examples"`
	Offset      int `json:"offset" toml:"offset"` // first passage used
	Tasks       int `json:"tasks" toml:"tasks"`   // passages used (0 = all)
	// RLData, when set, is where ReST-EM samples the self-edits it trains the policy on
	// (RL passages, SQuAD-format), apart from Data's evaluation passages, which the policy
	// update never sees: round r takes the RLPassages passages after round r-1's, in file
	// order, and one more round at the end measures the last policy. Empty: the
	// evaluation passages are the RL passages too (restem.go).
	RLData     string `json:"rl_data,omitempty" toml:"rl_data"`
	RLPassages int    `json:"rl_passages,omitempty" toml:"rl_passages"` // RL passages per round

	Style   string `json:"style" toml:"style"`
	K       int    `json:"k" toml:"k"` // candidates per passage
	Rounds  int    `json:"rounds" toml:"rounds"`
	Repeats int    `json:"repeats" toml:"repeats"` // inner-loop repeats per candidate (seeds)
	Filter  string `json:"filter" toml:"filter"`   // "best" (best of k) or "positive"
	// MinGrounding, when above 0, keeps out of the policy update every self-edit whose
	// grounding (the share of its content words, names and numbers among them, found in
	// the passage: engine/grounding) is below it: the filter then picks among the rest.
	// Domains whose edits have no grounding (ARC's configs) ignore it.
	MinGrounding float64 `json:"min_grounding,omitempty" toml:"min_grounding"`
	Temp         float32 `json:"temperature" toml:"temperature"`
	TopP         float32 `json:"top_p" toml:"top_p"`
	EditTokens   int     `json:"edit_tokens" toml:"edit_tokens"` // most tokens of a self-edit
	QATokens     int     `json:"qa_tokens" toml:"qa_tokens"`
	Split        bool    `json:"split_newlines" toml:"split_newlines"`
	Baselines    bool    `json:"baselines" toml:"baselines"`
	ReviewGate   bool    `json:"review_gate" toml:"review_gate"`
	Seed         uint64  `json:"seed" toml:"seed"`

	Inner  Update `json:"inner" toml:"inner"`   // the LoRA trained from each self-edit
	Policy Update `json:"policy" toml:"policy"` // the ReST-EM policy update

	Grader     string `json:"grader" toml:"grader"`         // "contains", "judge", "hybrid", "http"
	GraderURL  string `json:"grader_url" toml:"grader_url"` // OpenAI-compatible base URL (key from SEAL_GRADER_KEY)
	GraderName string `json:"grader_model" toml:"grader_model"`

	// The teacher baseline (teacher.go): at most one of Teacher ("world": the synthetic
	// world's written implications), TeacherURL with TeacherModel (an OpenAI-compatible
	// API; key from SEAL_TEACHER_KEY, never stored) and TeacherDir (a model folder).
	Teacher      string `json:"teacher,omitempty" toml:"teacher"`
	TeacherURL   string `json:"teacher_url,omitempty" toml:"teacher_url"`
	TeacherModel string `json:"teacher_model,omitempty" toml:"teacher_model"`
	TeacherDir   string `json:"teacher_dir,omitempty" toml:"teacher_dir"`

	Guard GuardSpec `json:"guard" toml:"guard"` // checks every weight change before it is committed
	// FromVersion, when set, makes the run start from that model version (a ledger id,
	// any run's) instead of the base: `seal rollback` branches this way.
	FromVersion int64 `json:"from_version,omitempty" toml:"from_version"`
	// InputHashes are the SHA-256 of each input file (data, ARC solutions, guard
	// probes) by path, taken when the run starts: a resume refuses a file that changed.
	InputHashes map[string]string `json:"input_hashes,omitempty" toml:"-"`
	// Device records the backend the run was started on ("cpu"); the engine writes it
	// (the command's --device chooses), so a spec file does not set it. Runs stored
	// before it was recorded have none.
	Device string `json:"device,omitempty" toml:"-"`
}

// GuardSpec configures the checks on each weight change (guard.go says how each works).
type GuardSpec struct {
	On bool `json:"on" toml:"on"`
	// ProbeData is a SQuAD-format file whose questions form the fixed general probe set;
	// empty means the run's data file, minus the passages the run works on.
	ProbeData string           `json:"probe_data" toml:"probe_data"`
	Probes    int              `json:"probes" toml:"probes"`       // general probe questions (earlier tasks' questions come on top)
	Margin    float64          `json:"margin" toml:"margin"`       // tolerated drop in probe accuracy
	Z         float64          `json:"z" toml:"z"`                 // noise multiplier on the paired standard error
	Confident float64          `json:"confident" toml:"confident"` // mean token probability of a confident answer
	MaxFlips  int              `json:"max_flips" toml:"max_flips"` // confident answers a change may alter before it counts as contradicting
	Rules     []knowledge.Rule `json:"rules" toml:"rules"`         // nil means knowledge.DefaultRules()
}

// DefaultGuard: 12 general probes, a 5-point margin beyond 1.645 standard errors (one-sided
// 95%), answers above 0.8 mean token probability count as confident, none may change;
// the default rules, written into the spec so a stored run keeps the rules it ran with.
func DefaultGuard() GuardSpec {
	return GuardSpec{On: true, Probes: 12, Margin: 0.05, Z: 1.645, Confident: 0.8, Rules: knowledge.DefaultRules()}
}

// Update is one LoRA training recipe.
type Update struct {
	Rank    int      `json:"rank" toml:"rank"`
	Alpha   float64  `json:"alpha" toml:"alpha"`
	Dropout float64  `json:"dropout" toml:"dropout"`
	Targets []string `json:"targets" toml:"targets"`
	LR      float64  `json:"lr" toml:"lr"`
	Epochs  int      `json:"epochs" toml:"epochs"`
	Batch   int      `json:"batch" toml:"batch"`
	Merge   bool     `json:"merge" toml:"merge"` // fold into the weights afterwards
}

// Mode is one way a run updates the model (RunSpec.Mode).
type Mode struct{ Name, About string }

// Modes lists the run modes, the default first. --mode's help, the launcher's choices
// and Validate all read this one list.
func Modes() []Mode {
	return []Mode{
		{"restem", "rounds of self-edits, the policy trained on the best"},
		{"cpt", "one update over all passages"},
		{"continual", "edits merged one after another"},
	}
}

// ModeNames are the modes' names, in Modes' order.
func ModeNames() []string {
	var names []string
	for _, m := range Modes() {
		names = append(names, m.Name)
	}
	return names
}

// StyleNames are the self-edit styles a person chooses from (--style, the launcher):
// every knowledge style that asks the policy for an edit, the main prompt first.
func StyleNames() []string {
	var names []string
	for _, st := range knowledge.Styles() {
		if st.Generates() {
			names = append(names, string(st))
		}
	}
	return names
}

// DefaultSpec follows docs/seal-method.md: inner LoRA r32/α64 on q,v, lr 1e-3, 10 epochs,
// batch 1; 5 candidates at T 1.0, top-p 0.95; 3 repeats; best of k; the policy update
// r64/α128 on all seven projections, lr 3e-4, 2 epochs, merged.
func DefaultSpec() RunSpec {
	return RunSpec{
		Domain: "knowledge", Mode: "restem", Tasks: 3, Style: "implications", K: 5, Rounds: 2, Repeats: 3,
		Filter: "best", Temp: 1, TopP: 0.95, EditTokens: 256, QATokens: 64, Split: true, Baselines: true,
		Seed: 1, Grader: "contains", GraderName: "gpt-4.1",
		Inner:  Update{Rank: 32, Alpha: 64, Targets: []string{"q_proj", "v_proj"}, LR: 1e-3, Epochs: 10, Batch: 1},
		Policy: Update{Rank: 64, Alpha: 128, Targets: llama.Projections, LR: 3e-4, Epochs: 2, Batch: 1, Merge: true},
		Guard:  DefaultGuard(),
	}
}

// graderSettings are the spec's grading settings as a job carries them (no secrets).
func (s RunSpec) graderSettings() GraderSettings {
	return GraderSettings{Kind: s.Grader, URL: s.GraderURL, Model: s.GraderName}
}

// Validate reports the first setting that cannot work, naming it by its flag (the key
// of a settings file too): `seal run`, --config, the workbench and resume all pass here.
func (s RunSpec) Validate() error {
	if err := s.validateNumbers(); err != nil {
		return err
	}
	d, err := domainOf(s)
	if err != nil {
		return err
	}
	if err := d.Check(s); err != nil {
		return err
	}
	switch {
	case !slices.Contains(ModeNames(), s.Mode):
		return fmt.Errorf("--mode %q is not one of %s", s.Mode, strings.Join(ModeNames(), ", "))
	case !slices.Contains(d.Info().Modes, s.Mode):
		return fmt.Errorf("--mode %q: the %s domain runs %s", s.Mode, s.Domain, strings.Join(d.Info().Modes, ", "))
	case s.Model == "":
		return fmt.Errorf("no model folder given")
	case s.Data == "":
		return fmt.Errorf("no data file given")
	case s.Filter != "best" && s.Filter != "positive":
		return fmt.Errorf("--filter %q is not best or positive", s.Filter)
	case !(s.MinGrounding >= 0 && s.MinGrounding <= 1):
		return fmt.Errorf("--min-grounding %v is not a share between 0 and 1", s.MinGrounding)
	case !slices.Contains([]string{"contains", "judge", "hybrid", "http"}, s.Grader):
		return fmt.Errorf("--grader %q is not one of contains, judge, hybrid, http", s.Grader)
	case s.Grader == "http" && s.GraderURL == "":
		return fmt.Errorf("the http grader needs --grader-url")
	case redact.HasUserinfo(s.GraderURL): // the spec is stored whole: no password may ride in it
		return fmt.Errorf("--grader-url %q: %w; give the key in $SEAL_GRADER_KEY", redact.Secrets(s.GraderURL), redact.ErrCredentialsInURL)
	}
	if err := s.validateTeacher(); err != nil {
		return err
	}
	if err := s.validateRL(d.Info()); err != nil {
		return err
	}
	if err := s.Guard.validate(); err != nil {
		return err
	}
	for _, u := range []struct {
		name string
		u    Update
	}{{"inner", s.Inner}, {"policy", s.Policy}} {
		if u.u.Batch < 1 || len(u.u.Targets) == 0 {
			return fmt.Errorf("%s update: batch and targets must be set (%+v)", u.name, u.u)
		}
		for _, t := range u.u.Targets {
			if !slices.Contains(llama.Projections, t) {
				return fmt.Errorf("%s update: target %q is not one of %v", u.name, t, llama.Projections)
			}
		}
	}
	return nil
}

// validateRL checks the RL passages' settings: a file and a count per round go together,
// in ReST-EM, in a domain that can read RL tasks apart.
func (s RunSpec) validateRL(info DomainInfo) error {
	switch {
	case s.RLData == "" && s.RLPassages > 0:
		return fmt.Errorf("--rl-passages %d needs --rl-data, the file the RL passages come from", s.RLPassages)
	case s.RLData == "":
		return nil
	case !info.RLData:
		return fmt.Errorf("--rl-data: the %s domain takes its RL tasks from --data only", s.Domain)
	case s.Mode != "restem":
		return fmt.Errorf("--rl-data: --mode %s has no ReST-EM rounds to sample RL passages for", s.Mode)
	case s.RLPassages < 1:
		return fmt.Errorf("--rl-data %s needs --rl-passages, the RL passages per round (at least 1)", s.RLData)
	}
	return nil
}

// SeparateRL reports whether the run's RL passages are apart from its evaluation
// passages; its settings and the effect table say which.
func (s RunSpec) SeparateRL() bool { return s.RLData != "" }

// EvalRounds is how many policies a ReST-EM run measures on its evaluation passages:
// with RL passages apart, the base policy and the one after each of the Rounds updates;
// otherwise one per round (the last update is not measured).
func (s RunSpec) EvalRounds() int {
	if s.SeparateRL() {
		return s.Rounds + 1
	}
	return s.Rounds
}

// validateNumbers checks every number against its range, by flag name (or file key
// for the settings without a flag). A NaN or an infinity is refused here, where it can
// be named, instead of failing later as "json: unsupported value: NaN".
func (s RunSpec) validateNumbers() error {
	ints := []struct {
		name string
		v    int64
		min  int64
	}{
		{"--offset", int64(s.Offset), 0}, {"--passages", int64(s.Tasks), 0}, {"--k", int64(s.K), 1},
		{"--rounds", int64(s.Rounds), 1}, {"--repeats", int64(s.Repeats), 1},
		{"--edit-tokens", int64(s.EditTokens), 1}, {"--qa-tokens", int64(s.QATokens), 1},
		{"--lora-rank", int64(s.Inner.Rank), 1}, {"--epochs", int64(s.Inner.Epochs), 1}, {"--batch", int64(s.Inner.Batch), 1},
		{"--guard-probes", int64(s.Guard.Probes), 0}, {"arc_examples", int64(s.ARCExamples), 0},
		{"policy.rank", int64(s.Policy.Rank), 1}, {"policy.epochs", int64(s.Policy.Epochs), 1},
		{"from_version", s.FromVersion, 0}, {"--rl-passages", int64(s.RLPassages), 0},
	}
	for _, c := range ints {
		if c.v < c.min {
			return fmt.Errorf("%s %d is out of range: want at least %d", c.name, c.v, c.min)
		}
	}
	floats := []struct {
		name   string
		v      float64
		lo, hi float64
		openLo bool   // lo itself is out of range
		want   string // the range in words
	}{
		{"--temperature", float64(s.Temp), 0, math.Inf(1), false, "a finite number >= 0 (0 is greedy)"},
		{"--top-p", float64(s.TopP), 0, 1, true, "a number in (0, 1]"},
		{"--lora-alpha", s.Inner.Alpha, 0, math.Inf(1), true, "a finite number > 0"},
		{"--lr", s.Inner.LR, 0, math.Inf(1), true, "a finite number > 0"},
		{"--guard-margin", s.Guard.Margin, 0, 1, false, "a number in [0, 1]"},
		{"inner.dropout", s.Inner.Dropout, 0, 1, false, "a number in [0, 1)"},
		{"policy.alpha", s.Policy.Alpha, 0, math.Inf(1), true, "a finite number > 0"},
		{"policy.lr", s.Policy.LR, 0, math.Inf(1), true, "a finite number > 0"},
		{"policy.dropout", s.Policy.Dropout, 0, 1, false, "a number in [0, 1)"},
		{"guard.z", s.Guard.Z, 0, math.Inf(1), false, "a finite number >= 0"},
		{"guard.confident", s.Guard.Confident, 0, 1, true, "a number in (0, 1]"},
	}
	for _, c := range floats {
		bad := math.IsNaN(c.v) || math.IsInf(c.v, 0) || c.v < c.lo || c.v > c.hi || c.openLo && c.v == c.lo
		if strings.HasSuffix(c.name, "dropout") {
			bad = bad || c.v == 1
		}
		if bad {
			return fmt.Errorf("%s %g is out of range: want %s", c.name, c.v, c.want)
		}
	}
	return nil
}

// ARCSpec follows docs/seal-method.md §2: self-edits sampled at T 0.8 with 128 tokens; the
// TTT LoRA r128/α16 on q, v, gate, up, down with batch 2 (its learning rate and epochs
// come from each self-edit); voting; every success kept (the positive filter); the
// reward is pass@2 success, so one repeat.
func ARCSpec() RunSpec {
	s := DefaultSpec()
	s.Domain, s.Style, s.Tasks, s.K, s.Rounds, s.Repeats, s.Filter = "arc", "", 4, 5, 1, 1, "positive"
	s.Temp, s.TopP, s.EditTokens, s.ARCVote = 0.8, 1, 128, true
	s.Inner = Update{Rank: 128, Alpha: 16, Targets: []string{"q_proj", "v_proj", "gate_proj", "up_proj", "down_proj"}, LR: 1e-4, Epochs: 1, Batch: 2}
	return s
}

// EmbeddedARCSpec is ARCSpec for the embedded model on its procedural tasks: test-time
// training keeps 8 of a task's augmented examples, not the method's 250, so one
// candidate is seconds of compute instead of minutes (the method's cap made the
// hand-chosen config 250 steps; measured in README.md's ARC section).
func EmbeddedARCSpec() RunSpec {
	s := ARCSpec()
	s.ARCExamples = 8
	return s
}

// EmbeddedSpec is DefaultSpec tuned for the embedded 4 M-parameter model, measured on 32
// held-out passages with `seal run --passages 32 --k 5 --rounds 1 --repeats 1` and the
// flags named: the inner LoRA goes on all seven projections at r16/α32 (passage-only
// accuracy 0.061; the method's r32/α64 on q and v alone, 0.018, which is no update at
// all); self-edits are sampled at temperature 0.5 (their mean accuracy 0.068, against
// 0.061 at 0.7 and at 1.0); edits and answers are short because the model writes short
// ones. The inner loop's epochs, learning rate and batch were chosen on the world's val
// split (24 passages, `--k 1 --rounds 1 --repeats 1 --teacher world --epochs 30 --lr L
// --batch B`): first the learning rate at which passage-only training is at its best
// (0.338 at 1e-2 against 0.273 at 3e-3), then the batch at which the model's own
// self-edits are (0.268 at batch 16, one optimizer step per epoch for an edit of up to
// 15 lines plus the passage, the passage-only baseline's step count; 0.217 at 8, 0.157
// at 4, and 0.000 at 1 for the model before, where an edit's ~270 short steps at 1e-2
// undid the update). Since the model's tokenizer keeps words bare (the space a token of
// its own, `seal pretrain --words bare`), text is about 1.5 times as many tokens, so the
// edit and answer caps grew by that much (160 to 256, 16 to 24), and the inner learning
// rate is 5e-3, the one measured for that model on 48 val passages (passage only 0.859,
// 0.846 by exact match; at 1e-2 the model before recited its passage). README, the effect
// table. The rest is the method's.
func EmbeddedSpec() RunSpec {
	s := DefaultSpec()
	s.Inner.Rank, s.Inner.Alpha, s.Inner.Targets = 16, 32, llama.Projections
	s.Inner.Epochs, s.Inner.LR, s.Inner.Batch = 30, 5e-3, 16
	s.Temp, s.EditTokens, s.QATokens = 0.5, 256, 24
	return s
}
