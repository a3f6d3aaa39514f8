package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one entry of the command table: everything `seal help`, `seal CMD -h`
// and the dispatch in run need, in one place, so a new command is one entry.
type command struct {
	name    string // what follows seal on the command line
	args    string // its operands, as `seal help` lists them ("RUN", "DIR...")
	usage   string // the synopsis after the name in `seal CMD -h`; empty: [flags] and args
	summary string // the one line `seal help` prints
	about   string // what `seal CMD -h` says under the synopsis; empty: the summary
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands is the table, in the order `seal help` lists it. It is a function, not a
// variable, because help itself is an entry and prints the table.
func commands() []command {
	return []command{
		{name: "inspect", args: "DIR...", usage: "[--weights FILES] DIR...",
			summary: "summarise model, adapter and tokenizer folders",
			about:   "Summarises model folders, adapter folders and tokenizer folders.", run: cmdInspect},
		{name: "generate", usage: "--model DIR --prompt TEXT [flags]",
			summary: "generate text with a local Hugging Face model folder",
			about:   "The chat template from tokenizer_config.json is applied when the folder has one.", run: cmdGenerate},
		{name: "run", usage: "--model DIR --data FILE [flags]",
			summary: "run SEAL headless: JSON lines of events on stdout",
			about:   "Runs SEAL headless: JSON lines of events on stdout, progress on stderr.", run: cmdRun},
		{name: "resume", args: "RUN", usage: "[--db FILE] [--nats URL] RUN",
			summary: "continue a stopped or killed run",
			about:   "Continues a stopped or killed run; nothing it had finished is redone.", run: cmdResume},
		{name: "worker", usage: "--nats URL [--model DIR] [--device cpu|cuda|auto] [--name NAME]",
			summary: "run inner-loop jobs of runs started with --nats",
			about:   "Runs inner-loop jobs of runs started with seal run --nats.", run: cmdWorker},
		{name: "runs", summary: "list runs", run: cmdRuns},
		{name: "show", args: "RUN", summary: "one run in full",
			about: "One run in full: its config, candidates, rounds and metrics.", run: cmdShow},
		{name: "compare", args: "RUN RUN...", usage: "[--db FILE] RUN|FILE:RUN RUN|FILE:RUN...",
			summary: "config and metric deltas against the first run, effect tables paired",
			about: "Config differences, metric deltas against the first run, and each run's effect table paired with the first's\n" +
				"passage by passage (ARC: task by task) over the items both evaluated, each difference with its bootstrap interval.\n" +
				"FILE:RUN names a run in another history file.", run: cmdCompare},
		{name: "export", args: "RUN", summary: "a run as JSON lines or CSV", run: cmdExport},
		{name: "effect", summary: "measure the SEAL effect and print the README's table",
			about: "Measures the SEAL effect with the embedded model on held-out passages and prints the table.", run: cmdEffect},
		{name: "versions", args: "RUN", summary: "a run's model versions and branches, as a tree", run: cmdVersions},
		{name: "rollback", args: "RUN --to VERSION", usage: "RUN --to VERSION [--db FILE]",
			summary: "continue from a version as a new run (a branch)",
			about: "Starts a new run from VERSION (rebuilt from the base and its adapters, each checked by hash,\n" +
				"the result checked bit for bit against the version's recorded logits) and goes on from there.", run: cmdRollback},
		{name: "export-model", args: "RUN --out DIR", usage: "RUN --out DIR [--version V] [--merged] [--db FILE]",
			summary: "write a model version as a PEFT adapter or a merged Hugging Face folder",
			about: "Writes a model version of RUN (default its head) out of seal: a PEFT adapter folder\n" +
				"(adapter_config.json + adapter_model.safetensors) for the run's base model, or with --merged\n" +
				"a complete Hugging Face model folder (config.json, model.safetensors, tokenizer files, chat\n" +
				"template). A version of several adapters applied one after another is no single adapter of\n" +
				"the base: it is exported with --merged. The folder is loaded back and checked against the\n" +
				"version's logits fingerprint before it appears at DIR.", run: cmdExportModel},
		{name: "audit", args: "RUN", summary: "every weight change of a run, as JSON lines",
			about: "Every weight change of a run, its input, the guard's verdict and approval, as JSON lines.", run: cmdAudit},
		{name: "pretrain", usage: "--out DIR [flags]",
			summary: "pretrain a small model on the synthetic world",
			about:   "Pretrains a small Llama on the project's synthetic world. Run the same command again to resume.", run: cmdPretrain},
		{name: "bench", summary: "measure matmul, bandwidth, decode and training speed", run: cmdBench},
		{name: "help", summary: "show this text", run: cmdHelp},
	}
}

// lookup finds a command by name.
func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

const helpHeader = `seal: a workbench for self-adapting language models (SEAL)

A model reads something new, writes a self-edit (its own finetuning data and
update directives), gets a LoRA update from it, is evaluated, and ReST-EM
teaches it to write better self-edits.

Usage:
  seal [--model DIR] [--db FILE]   the workbench (on a terminal): launcher, live
                                   run, review, history and compare
  seal [command] [flags]

Commands:
`

// printHelp writes `seal help`: the header, then one line per command of the table.
func printHelp(w io.Writer) {
	fmt.Fprint(w, helpHeader)
	width := 0
	for _, c := range commands() {
		width = max(width, len(c.invocation()))
	}
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.invocation(), c.summary)
	}
	fmt.Fprint(w, "\nRun 'seal COMMAND -h' for a command's flags.\n")
}

func cmdHelp(args []string, stdout, stderr io.Writer) int {
	printHelp(stdout)
	return 0
}

// invocation is the command as `seal help` lists it: its name and operands.
func (c command) invocation() string {
	return strings.TrimSpace(c.name + " " + c.args)
}

// newFlagSet is a command's flag set, its -h text made from the command's table entry.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c, ok := lookup(name)
	if !ok {
		return fs
	}
	fs.Usage = func() {
		usage := c.usage
		if usage == "" {
			usage = strings.TrimSpace("[flags] " + c.args)
		}
		about := c.about
		if about == "" {
			about = strings.ToUpper(c.summary[:1]) + c.summary[1:] + "."
		}
		fmt.Fprintf(stderr, "Usage: seal %s %s\n\n%s\n\n", name, usage, about)
		fs.PrintDefaults()
	}
	return fs
}

// flagExit is the exit code after a flag set failed to parse: 0 when -h or --help
// asked for the usage (printed already), 2 for a bad flag.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
