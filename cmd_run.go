package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"strings"

	"seal/engine"
)

func cmdRun(args []string, stdout, stderr io.Writer) int {
	spec := engine.DefaultSpec()
	fs := newFlagSet("run", stderr)
	db := addDBFlag(fs)
	config := fs.String("config", "", "TOML file of run settings, keyed by these flags' names (passages = 4); flags given as well override it")
	device := addDeviceFlag(fs)
	fs.StringVar(&spec.Name, "name", spec.Name, "a name for the run")
	fs.StringVar(&spec.Domain, "domain", spec.Domain, engine.DomainFlagHelp())
	fs.StringVar(&spec.Solutions, "solutions", spec.Solutions, "ARC solutions JSON (default: the --data file's name with challenges → solutions)")
	fs.BoolVar(&spec.ARCVote, "arc-vote", spec.ARCVote, "ARC: predict with augmented queries and voting (default true for --domain arc)")
	fs.StringVar(&spec.Mode, "mode", spec.Mode, modeHelp())
	addModelFlag(fs, &spec.Model, "default: the embedded model")
	fs.StringVar(&spec.Data, "data", spec.Data, "SQuAD-format JSON: [{title, context, questions: [{question, answer}]}] or the SQuAD v1.1 file; default: the synthetic world's held-out val split")
	fs.IntVar(&spec.Offset, "offset", spec.Offset, "first passage to use")
	fs.IntVar(&spec.Tasks, "passages", spec.Tasks, "how many passages (0 = all)")
	addRLFlags(fs, &spec)
	split := addSplitFlag(fs)
	fs.StringVar(&spec.Style, "style", spec.Style, "self-edit style: "+strings.Join(engine.StyleNames(), ", "))
	fs.IntVar(&spec.K, "k", spec.K, "self-edit candidates per passage")
	fs.IntVar(&spec.Rounds, "rounds", spec.Rounds, "ReST-EM rounds")
	fs.IntVar(&spec.Repeats, "repeats", spec.Repeats, "inner-loop repeats per candidate (fresh adapter and seed each)")
	fs.StringVar(&spec.Filter, "filter", spec.Filter, "ReST-EM filter: best (best of k per passage) or positive (reward > 0)")
	fs.Float64Var(&spec.MinGrounding, "min-grounding", spec.MinGrounding, "ReST-EM keeps no self-edit whose grounding (share of its content words found in the passage) is below this (0: off)")
	fs.Var((*float32Value)(&spec.Temp), "temperature", "self-edit sampling temperature (>= 0; 0 is greedy)")
	fs.Var((*float32Value)(&spec.TopP), "top-p", "self-edit nucleus mass, in (0, 1]")
	fs.IntVar(&spec.EditTokens, "edit-tokens", spec.EditTokens, "most tokens per self-edit")
	fs.IntVar(&spec.QATokens, "qa-tokens", spec.QATokens, "most tokens per closed-book answer")
	fs.BoolVar(&spec.Baselines, "baselines", spec.Baselines, "also score passage-only training, the passage repeated to the self-edits' steps, and the passage in context")
	fs.BoolVar(&spec.ReviewGate, "review", spec.ReviewGate, "hold candidates for a person's verdict before they count for ReST-EM")
	fs.BoolVar(&spec.Guard.On, "guard", spec.Guard.On, "check each weight change (retention on probes, contradictions, rules) before it is committed")
	fs.IntVar(&spec.Guard.Probes, "guard-probes", spec.Guard.Probes, "general probe questions the guard asks before and after each change")
	fs.Float64Var(&spec.Guard.Margin, "guard-margin", spec.Guard.Margin, "drop in probe accuracy the guard tolerates beyond the noise")
	fs.Uint64Var(&spec.Seed, "seed", spec.Seed, "random seed")
	fs.IntVar(&spec.Inner.Rank, "lora-rank", spec.Inner.Rank, "inner-loop LoRA rank")
	fs.Float64Var(&spec.Inner.Alpha, "lora-alpha", spec.Inner.Alpha, "inner-loop LoRA alpha")
	fs.Float64Var(&spec.Inner.LR, "lr", spec.Inner.LR, "inner-loop learning rate")
	fs.IntVar(&spec.Inner.Epochs, "epochs", spec.Inner.Epochs, "inner-loop epochs")
	fs.IntVar(&spec.Inner.Batch, "batch", spec.Inner.Batch, "inner-loop sequences per optimizer step (a self-edit's lines are one sequence each)")
	fs.Var((*listValue)(&spec.Inner.Targets), "targets", "inner-loop LoRA target projections, comma-separated")
	fs.StringVar(&spec.Grader, "grader", spec.Grader, "contains (offline, default), judge (the model itself), hybrid, http (OpenAI-compatible; key in $SEAL_GRADER_KEY)")
	fs.StringVar(&spec.GraderURL, "grader-url", spec.GraderURL, "base URL of an OpenAI-compatible API for --grader http")
	fs.StringVar(&spec.GraderName, "grader-model", spec.GraderName, "model name for --grader http")
	fs.StringVar(&spec.Teacher, "teacher", spec.Teacher, "world: also score the synthetic world's written implications of each passage as a teacher's edit")
	fs.StringVar(&spec.TeacherURL, "teacher-url", spec.TeacherURL, "also score edits written by a teacher behind this OpenAI-compatible API (key in $SEAL_TEACHER_KEY)")
	fs.StringVar(&spec.TeacherModel, "teacher-model", spec.TeacherModel, "the model --teacher-url runs")
	fs.StringVar(&spec.TeacherDir, "teacher-dir", spec.TeacherDir, "also score edits written by the model in this folder (the run's sampling settings)")
	nf := addNATSFlags(fs, true)
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	// One path for every way of giving settings: the defaults, then the file, then the
	// flags over it (parsing again sets only the flags given), then the run's preset for
	// whatever neither gave.
	given := map[string]bool{}
	if *config != "" {
		fileGiven, err := engine.ReadSettings(*config, &spec)
		if err != nil {
			fmt.Fprintf(stderr, "seal run: %v\n", err)
			return 2
		}
		maps.Copy(given, fileGiven)
		fs.Parse(args)
	}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	engine.ApplyPreset(&spec, given)
	if err := defaultDataOfSplit(&spec, *split); err != nil {
		fmt.Fprintf(stderr, "seal run: %v\n", err)
		return 1
	}
	if err := spec.Validate(); err != nil {
		fmt.Fprintf(stderr, "seal run: %v\n", err)
		return 2
	}
	return startAndFollow("seal run", db.path(), device, nf, stdout, stderr, func(e *engine.Engine, ctx context.Context) (*engine.Run, error) {
		return e.Start(ctx, spec)
	})
}

// modeHelp is --mode's help, from the engine's list of modes.
func modeHelp() string {
	var parts []string
	for _, m := range engine.Modes() {
		parts = append(parts, fmt.Sprintf("%s (%s)", m.Name, m.About))
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}
