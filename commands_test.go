package main

import (
	"seal/engine"
	"strings"
	"testing"
)

// TestHelpListsEveryCommand: `seal help` is printed from the table, so every command
// in it appears with its one-line help, and each entry has a function to run.
func TestHelpListsEveryCommand(t *testing.T) {
	code, out, _ := runCmd("help")
	if code != 0 {
		t.Fatalf("seal help: exit %d", code)
	}
	for _, c := range commands() {
		if c.run == nil || c.summary == "" || strings.Contains(c.summary, "\n") {
			t.Errorf("command %q: needs a function and a one-line summary", c.name)
		}
		if !strings.Contains(out, "  "+c.invocation()+" ") || !strings.Contains(out, " "+c.summary+"\n") {
			t.Errorf("seal help lacks %q with %q:\n%s", c.invocation(), c.summary, out)
		}
	}
}

// TestCommandHelpFlag: `seal CMD --help` (and -h) prints the command's synopsis and
// what it does from its table entry, runs nothing and exits 0; a bad flag still exits 2.
func TestCommandHelpFlag(t *testing.T) {
	for _, c := range commands() {
		code, out, errOut := runCmd(c.name, "--help")
		if c.name != "help" {
			if code, _, _ := runCmd(c.name, "-h"); code != 0 {
				t.Errorf("seal %s -h: exit %d, want 0", c.name, code)
			}
			if code, _, _ := runCmd(c.name, "--no-such-flag"); code != 2 {
				t.Errorf("seal %s --no-such-flag: exit %d, want 2", c.name, code)
			}
		}
		if c.name == "help" {
			if code != 0 || !strings.Contains(out, "Commands:") {
				t.Errorf("seal help --help: exit %d, %q", code, out)
			}
			continue
		}
		about := c.about
		if about == "" {
			about = c.summary[1:] // the first letter is capitalised
		}
		if code != 0 || !strings.HasPrefix(errOut, "Usage: seal "+c.name+" ") || !strings.Contains(errOut, about) || out != "" {
			t.Errorf("seal %s --help: exit %d, stdout %q, stderr %q", c.name, code, out, errOut)
		}
	}
}

// TestUnknownCommandListsCommands: a mistyped command's error names it and lists the
// table's commands.
func TestUnknownCommandListsCommands(t *testing.T) {
	code, out, errOut := runCmd("frobnicate")
	if code != 2 || out != "" || !strings.HasPrefix(errOut, `seal: unknown command "frobnicate"`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, c := range commands() {
		if !strings.Contains(errOut, "  "+c.invocation()+" ") {
			t.Errorf("the error lacks %q:\n%s", c.invocation(), errOut)
		}
	}
}

// TestSharedFlagsSayTheSame: --db, --model and --device are defined once, so every
// command that takes one describes it in the same words (runs' --model is a filter).
func TestSharedFlagsSayTheSame(t *testing.T) {
	want := map[string]string{
		"db":     "SQLite file of the run history (default $SEAL_DB or ~/.local/share/seal/seal.db)",
		"model":  modelHelp,
		"device": "where the model computes:",
	}
	seen := map[string]int{}
	for _, c := range commands() {
		_, _, help := runCmd(c.name, "-h")
		lines := strings.Split(help, "\n")
		for i, l := range lines[:len(lines)-1] {
			name, _, _ := strings.Cut(strings.TrimPrefix(l, "  -"), " ")
			w, ok := want[name]
			if !ok || !strings.HasPrefix(l, "  -") || c.name == "runs" && name == "model" {
				continue
			}
			seen[name]++
			if !strings.HasPrefix(strings.TrimSpace(lines[i+1]), w) {
				t.Errorf("seal %s --%s says %q, want it to start with %q", c.name, name, lines[i+1], w)
			}
		}
	}
	if seen["db"] < 8 || seen["model"] < 3 || seen["device"] < 7 {
		t.Errorf("shared flags found on too few commands: %v", seen)
	}
}

// TestRunHelpListsModesAndStyles: --mode and --style describe the engine's own lists.
func TestRunHelpListsModesAndStyles(t *testing.T) {
	_, _, help := runCmd("run", "-h")
	for _, name := range append(engine.ModeNames(), engine.StyleNames()...) {
		if !strings.Contains(help, name) {
			t.Errorf("seal run -h does not name %q", name)
		}
	}
}
