package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"seal/internal/shareddata"
	"seal/models/llama/llamatest"
	"seal/models/tokenizer"
	"seal/store"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{nil, {"--help"}, {"help"}} {
		code, out, _ := runCmd(args...)
		if code != 0 || !strings.Contains(out, "inspect DIR") {
			t.Errorf("seal %v: code %d, output %q", args, code, out)
		}
	}
	if code, _, errOut := runCmd("frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: code %d, %q", code, errOut)
	}
}

// TestWorkbenchNeedsATerminal: `seal` with workbench flags but no terminal says so
// and prints the help rather than drawing into a pipe.
func TestWorkbenchNeedsATerminal(t *testing.T) {
	code, out, errOut := runCmd("--db", filepath.Join(t.TempDir(), "seal.db"), "--model", "x")
	if code != 2 || !strings.Contains(out, "seal [--model DIR] [--db FILE]") || !strings.Contains(errOut, "needs a terminal") {
		t.Errorf("code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := runCmd("--bogus"); code != 2 || !strings.Contains(errOut, "bogus") {
		t.Errorf("an unknown flag: code %d, %q", code, errOut)
	}
}

func TestInspectGoldenFolders(t *testing.T) {
	golden, err := shareddata.Golden()
	if err != nil {
		t.Fatal(err)
	}
	models, _ := filepath.Glob(filepath.Join(golden, "*", "config.json"))
	if len(models) == 0 {
		t.Fatalf("no model folders in %s", golden)
	}
	for _, cfg := range models {
		dir := filepath.Dir(cfg)
		args, want := []string{"inspect", dir}, []string{"architecture", "parameters", "F32 x", "tokenizer      none"}
		// What inspect must print about the adapter comes from the fixture's own adapter_config.json.
		if b, err := os.ReadFile(filepath.Join(dir, "adapter", "adapter_config.json")); err == nil {
			var ac struct {
				R int `json:"r"`
			}
			if err := json.Unmarshal(b, &ac); err != nil {
				t.Fatalf("%s/adapter/adapter_config.json: %v", dir, err)
			}
			args = append(args, filepath.Join(dir, "adapter"))
			want = append(want, fmt.Sprintf("adapter        PEFT LoRA, r %d", ac.R), "targets")
		}
		code, out, errOut := runCmd(args...)
		if code != 0 {
			t.Fatalf("inspect %s: %s", dir, errOut)
		}
		for _, want := range want {
			if !strings.Contains(out, want) {
				t.Errorf("inspect %s lacks %q:\n%s", dir, want, out)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "model.bf16.safetensors")); err == nil {
			code, out, errOut = runCmd("inspect", "--weights", "model.bf16.safetensors", dir)
			if code != 0 || !strings.Contains(out, "BF16 x") {
				t.Errorf("inspect --weights bf16 %s: %d %s %s", dir, code, out, errOut)
			}
		}
		t.Logf("inspected %s", dir)
	}
	// The real tokenizer is third-party data: this part skips without ../shared.
	t.Run("tokenizer folder", func(t *testing.T) {
		tokDir := shareddata.PathOrSkip(t, "data", "tokenizers", "qwen3")
		code, out, errOut := runCmd("inspect", tokDir)
		if code != 0 || !strings.Contains(out, "chat template  present") || !strings.Contains(out, `eos "<|im_end|>"`) {
			t.Errorf("inspect tokenizer folder: %d\n%s\n%s", code, out, errOut)
		}
	})
}

func TestInspectBadInput(t *testing.T) {
	empty := t.TempDir()
	if code, _, errOut := runCmd("inspect", empty); code != 1 || !strings.Contains(errOut, "holds no config.json") {
		t.Errorf("empty folder: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd("inspect", filepath.Join(empty, "nope")); code != 1 || !strings.Contains(errOut, "nope") {
		t.Errorf("missing folder: %d %q", code, errOut)
	}
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "config.json"), []byte(`{"architectures": ["LlamaForCausalLM"], "vocab_size": `), 0o644)
	if code, _, errOut := runCmd("inspect", broken); code != 1 || !strings.Contains(errOut, filepath.Join(broken, "config.json")) {
		t.Errorf("truncated config.json: %d %q", code, errOut)
	}
	if code, _, _ := runCmd("inspect"); code != 2 {
		t.Errorf("inspect with no folder should be a usage error, got %d", code)
	}
}

// modelFolder makes a complete model folder from the golden tiny Llama (weights made
// by transformers) with llamatest's byte-level tokenizer and chat template.
func modelFolder(t *testing.T) string {
	t.Helper()
	dir, err := llamatest.GoldenFolder(t.TempDir(), "llama32_tiny")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestGenerateCommand(t *testing.T) {
	dir := modelFolder(t)
	code, out, errOut := runCmd("generate", "--model", dir, "--prompt", "hello", "--max-tokens", "8")
	// "<t300>" + "user:hello" (10 bytes) + "<t301>": 12 prompt tokens through the template.
	if code != 0 || !strings.Contains(errOut, "[12 prompt tokens, 8 new, length]") || len(strings.TrimSpace(out)) == 0 {
		t.Fatalf("generate: code %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	code, out2, errOut := runCmd("generate", "--model", dir, "--prompt", "hello", "--max-tokens", "8")
	if code != 0 || out2 != out {
		t.Errorf("greedy generation is not repeatable: %q vs %q (%s)", out, out2, errOut)
	}
	code, _, errOut = runCmd("generate", "--model", dir, "--prompt", "hello", "--raw", "--max-tokens", "3")
	if code != 0 || !strings.Contains(errOut, "[5 prompt tokens, 3 new") {
		t.Errorf("raw prompt: code %d, %q", code, errOut)
	}
	code, out, errOut = runCmd("generate", "--model", dir, "--prompt", "hi", "--n", "3", "--temperature", "1", "--top-p", "0.9", "--seed", "4", "--max-tokens", "6")
	if code != 0 || strings.Count(out, "--- candidate") != 3 {
		t.Errorf("3 candidates: code %d\n%s\n%s", code, out, errOut)
	}
	os.Remove(filepath.Join(dir, "tokenizer.json"))
	code, _, errOut = runCmd("generate", "--model", dir, "--prompt", "hi")
	if code != 1 || !strings.Contains(errOut, "tokenizer.json") {
		t.Errorf("missing tokenizer: code %d, %q", code, errOut)
	}
	if code, _, _ := runCmd("generate", "--prompt", "hi"); code != 2 {
		t.Errorf("generate without --model must be a usage error, got %d", code)
	}
}

// TestBenchCommandRuns runs `seal bench --quick --skip-1b` for its output shape only:
// speed targets live in the figures it prints, never in a timed test.
func TestBenchCommandRuns(t *testing.T) {
	code, out, errOut := runCmd("bench", "--quick", "--skip-1b")
	if code != 0 {
		t.Fatalf("bench: code %d, %s", code, errOut)
	}
	for _, want := range []string{"matmul (GFLOP/s", "1024x1024x1024", "memory bandwidth", "decode batch 1", "decode batch 5", "LoRA training", "peak memory"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench output lacks %q:\n%s", want, out)
		}
	}
	// The decode figures against the best read of the whole run: never below the first read.
	first := regexp.MustCompile(`read ([0-9.]+) GB/s \(the decode bound`).FindStringSubmatch(out)
	last := regexp.MustCompile(`against the best read of the whole run \(([0-9.]+) GB/s, read once more at the end\): small model decode batch 1 [0-9]+% of its bound, batch 5 [0-9]+% of 5 times it`).FindStringSubmatch(out)
	if first == nil || last == nil {
		t.Fatalf("bench output lacks the first read or the bounds line at the end:\n%s", out)
	}
	a, _ := strconv.ParseFloat(first[1], 64)
	b, _ := strconv.ParseFloat(last[1], 64)
	if b < a {
		t.Errorf("the best read of the run (%s GB/s) is below the first read (%s)", last[1], first[1])
	}
	if code, _, _ := runCmd("bench", "--device", "tpu"); code != 2 {
		t.Errorf("unknown device must be a usage error, got %d", code)
	}
}

// TestBenchTorchFlags: a bad --torch-script or --torch-limit is a usage error naming the flag,
// before anything is measured.
func TestBenchTorchFlags(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "torchbench.py")
	for _, args := range [][]string{
		{"bench", "--compare-torch", "--torch-script", missing},
		{"bench", "--torch-script", missing},
	} {
		code, out, errOut := runCmd(args...)
		if code != 2 || !strings.Contains(errOut, "--torch-script") || out != "" {
			t.Errorf("%v: code %d, stdout %q, stderr %q; want 2 and an error naming --torch-script", args, code, out, errOut)
		}
	}
	if code, out, errOut := runCmd("bench", "--compare-torch", "--torch-limit", "-1m"); code != 2 || !strings.Contains(errOut, "--torch-limit -1m0s") || out != "" {
		t.Errorf("a negative --torch-limit: code %d, stdout %q, stderr %q; want 2 and an error naming it", code, out, errOut)
	}
}

// TestRunCommands drives the headless CLI: a run from a TOML file with a flag over it,
// then runs, show, compare, export and resume on the store it wrote.
func TestRunCommands(t *testing.T) {
	dir := t.TempDir()
	model, err := llamatest.Folder(filepath.Join(dir, "model"), 3)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data.json")
	os.WriteFile(data, []byte(`[{"title": "Varn", "context": "Varn is a town on the river Ossa.", "questions": [{"question": "Which river is Varn on?", "answer": "Ossa"}]},
		{"title": "Rask", "context": "Rask is a painter born in 1877.", "questions": [{"question": "When was Rask born?", "answer": "1877"}]}]`), 0o644)
	cfg := filepath.Join(dir, "run.toml")
	os.WriteFile(cfg, []byte(`model = "`+model+`"
data = "`+data+`"
tasks = 2
k = 2
rounds = 1
repeats = 1
edit_tokens = 16
qa_tokens = 4
[inner]
rank = 4
alpha = 8
targets = ["q_proj", "v_proj"]
lr = 0.001
epochs = 1
batch = 1
[policy]
rank = 4
alpha = 8
targets = ["q_proj"]
lr = 0.0003
epochs = 1
batch = 1
merge = true
`), 0o644)
	db := filepath.Join(dir, "seal.db")
	code, out, errOut := runCmd("run", "--db", db, "--config", cfg, "--name", "from-toml", "--k", "3")
	if code != 0 {
		t.Fatalf("run: %d\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var first, last map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	if first["type"] != "run_started" || last["type"] != "finished" || last["status"] != "done" {
		t.Errorf("events from %v to %v", first, last)
	}
	if !strings.Contains(errOut, "round0/self_edit") {
		t.Errorf("the run should end with its baseline table on stderr:\n%s", errOut)
	}
	code, out, _ = runCmd("show", "--db", db, "1")
	// The flag (--k 3) wins over the file (k = 2): 2 passages x 3 candidates.
	if code != 0 || strings.Count(out, " self_edit ") != 6 || !strings.Contains(out, `"name": "from-toml"`) {
		t.Errorf("show:\n%s", out)
	}
	if !strings.Contains(out, " GROUND ") {
		t.Errorf("show lacks the grounding column:\n%s", out)
	}
	runCmd("run", "--db", db, "--config", cfg, "--name", "second", "--lr", "0.01")
	code, out, _ = runCmd("runs", "--db", db)
	if code != 0 || !strings.Contains(out, "from-toml") || !strings.Contains(out, "second") {
		t.Errorf("runs:\n%s", out)
	}
	code, out, _ = runCmd("compare", "--db", db, "1", "2")
	if code != 0 || !strings.Contains(out, "inner.lr") || strings.Contains(out, "inner.rank") || !strings.Contains(out, "round0/base") {
		t.Errorf("compare should list only differing settings and the metrics:\n%s", out)
	}
	if !strings.Contains(out, "round0/grounding") {
		t.Errorf("compare should show each round's mean grounding share:\n%s", out)
	}
	if !strings.Contains(out, "paired: run 2 against run 1, over the 2 evaluation passages both runs scored") || !strings.Contains(out, "| train on the passage only |") {
		t.Errorf("compare should pair the two runs' tables passage by passage:\n%s", out)
	}
	// The workbench's pairing: every ordered pair, a run that does not read named in its pairs.
	if d, err := store.OpenReadOnly(db); err != nil {
		t.Error(err)
	} else {
		pairs := pairedRunsOf(d, []int64{1, 2, 99})
		d.Close()
		if n, _, _ := pairs[[2]int{1, 0}].Matched(); n != 2 || len(pairs) != 6 || !strings.Contains(pairs[[2]int{0, 2}].Reason, "99") || !strings.Contains(pairs[[2]int{2, 1}].Reason, "99") {
			t.Errorf("workbench pairs of runs 1, 2 and a missing 99: %+v", pairs)
		}
	}
	// Runs of other history files, named FILE:RUN (--db then names a file not read).
	code, out, errOut = runCmd("compare", "--db", filepath.Join(dir, "none.db"), db+":1", db+":2")
	if code != 0 || !strings.Contains(out, "paired: seal.db:2 against seal.db:1") {
		t.Errorf("compare FILE:RUN: %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runCmd("compare", "--db", db, "1", db+":x"); code != 2 || !strings.Contains(errOut, "FILE:RUN") {
		t.Errorf("compare with a bad run: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd("compare", "--db", db, "1", filepath.Join(dir, "gone.db")+":1"); code != 1 || !strings.Contains(errOut, "gone.db") {
		t.Errorf("compare with a missing file: %d %s", code, errOut)
	}
	code, out, _ = runCmd("export", "--db", db, "--format", "csv", "1")
	if code != 0 || !strings.HasPrefix(out, "id,round,task") || strings.Count(out, "\n") < 7 || !strings.Contains(strings.SplitN(out, "\n", 2)[0], ",grounding,") {
		t.Errorf("export csv:\n%s", out)
	}
	code, out, _ = runCmd("export", "--db", db, "1")
	if code != 0 || !strings.Contains(out, `"type":"candidate"`) || !strings.Contains(out, `"grounding":`) {
		t.Errorf("export jsonl:\n%.300s", out)
	}
	if code, _, errOut := runCmd("resume", "--db", db, "1"); code != 1 || !strings.Contains(errOut, "already done") {
		t.Errorf("resume of a finished run: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd("show", "--db", db, "99"); code != 1 || !strings.Contains(errOut, "99") {
		t.Errorf("show of a missing run: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd("run", "--db", db, "--model", model, "--data", filepath.Join(dir, "missing.json")); code != 1 || !strings.Contains(errOut, "missing.json") {
		t.Errorf("run with a missing data file: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd("runs", "--db", filepath.Join(dir, "none.db")); code != 1 || !strings.Contains(errOut, "none.db") {
		t.Errorf("runs on a missing store: %d %s", code, errOut)
	}
}

// tokenizerPretrain makes a model of two steps with the tokenizer flag given (its value
// last in the returned arguments, for the tests to change) and loads its tokenizer.
func tokenizerPretrain(t *testing.T, flag, value string) ([]string, *tokenizer.Tokenizer) {
	t.Helper()
	out := t.TempDir()
	args := []string{"pretrain", "--long-steps", "0", "--out", out, "--arc-docs", "10", "--arc-edit-docs", "10", "--chars", "100000", "--vocab", "400", "--hidden", "32",
		"--layers", "1", "--heads", "4", "--kv-heads", "2", "--intermediate", "64", "--steps", "2", "--batch", "1", "--seq", "32", flag, value}
	if code, _, errOut := runCmd(args...); code != 0 {
		t.Fatalf("pretrain %s %s: %d %s", flag, value, code, errOut)
	}
	tok, err := tokenizer.Load(filepath.Join(out, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	return args, tok
}

// TestPretrainDigits: --digits single trains a tokenizer that cuts numbers digit by digit, and
// the folder is not resumed with the other setting (its token ids would change under it).
func TestPretrainDigits(t *testing.T) {
	args, tok := tokenizerPretrain(t, "--digits", "single")
	if pre := tok.Summary().PreTokenizers; !slices.ContainsFunc(pre, func(s string) bool { return strings.Contains(s, "(qwen2 bare-words pattern,") }) {
		t.Errorf("--digits single: the tokenizer's pre-tokenizers are %q, not Qwen2's digit-by-digit split", pre)
	}
	args[len(args)-1] = "grouped"
	if code, _, errOut := runCmd(args...); code != 1 || !strings.Contains(errOut, "--digits") {
		t.Errorf("a single-digit folder resumed with --digits grouped: %d %s", code, errOut)
	}
}

// TestPretrainWords: --words bare trains a tokenizer whose words never take the space
// before them (a word at a line's start is the same tokens as inside a sentence), the
// folder is not resumed with glued words, and an unknown value is a usage error.
func TestPretrainWords(t *testing.T) {
	args, tok := tokenizerPretrain(t, "--words", "bare")
	// No token of its vocabulary glues a space (or a mark) to a letter, and a name is the
	// same tokens at a line's start as mid-sentence.
	glued := regexp.MustCompile(`[^\pL\pN'][\pL]`)
	for id := range tok.VocabSize() {
		if text, err := tok.Decode([]int{id}); err == nil && !tok.IsSpecial(id) && glued.MatchString(text) {
			t.Errorf("--words bare: token %d is %q, a word glued to what stands before it", id, text)
		}
	}
	line, mid := tok.Encode("Answer:\nAnbelby"), tok.Encode("took place in Anbelby in 1867.")
	if name := line[len(tok.Encode("Answer:\n")):]; !slices.Equal(mid[len(tok.Encode("took place in ")):][:len(name)], name) {
		t.Errorf("--words bare: %q is other tokens at a line's start (%v) than mid-sentence (%v)", "Anbelby", line, mid)
	}
	args[len(args)-1] = "glued"
	if code, _, errOut := runCmd(args...); code != 1 || !strings.Contains(errOut, "--words") {
		t.Errorf("a bare-words folder resumed with --words glued: %d %s", code, errOut)
	}
	args[len(args)-1] = "loose"
	if code, _, errOut := runCmd(args...); code != 2 || !strings.Contains(errOut, `--words must be glued or bare, not "loose"`) {
		t.Errorf("--words loose: %d %s", code, errOut)
	}
}

// TestPretrainCommand makes a very small model from the synthetic world, resumes it,
// and checks the folder is a complete, loadable model with its data splits.
func TestPretrainCommand(t *testing.T) {
	out, shipped := t.TempDir(), filepath.Join(t.TempDir(), "shipped")
	args := []string{"pretrain", "--long-steps", "5", "--long-seq", "64", "--long-batch", "1", "--out", out, "--ship", shipped, "--arc-docs", "20", "--chars", "300000", "--vocab", "400", "--hidden", "32", "--layers", "1",
		"--heads", "4", "--kv-heads", "2", "--intermediate", "64", "--steps", "20", "--batch", "2", "--seq", "32", "--checkpoint-every", "10"}
	code, stdout, errOut := runCmd(args...)
	if code != 0 || !strings.Contains(stdout, "step 25/25") { // 20 steps, then 5 on long windows
		t.Fatalf("pretrain: %d\n%s\n%s", code, stdout, errOut)
	}
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "data/train.json", "data/val.json", "data/test.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s missing: %v", f, err)
		}
	}
	code, _, errOut = runCmd("inspect", out)
	if code != 0 {
		t.Errorf("the pretrained folder does not inspect: %s", errOut)
	}
	// --ship wrote the bf16 copy that would be embedded.
	if code, info, errOut := runCmd("inspect", shipped); code != 0 || !strings.Contains(info, "BF16") {
		t.Errorf("the shipped folder: %d %s %s", code, info, errOut)
	}
	// Generation runs on it end to end (raw prompt, no chat template).
	if code, _, errOut := runCmd("generate", "--model", out, "--prompt", "Question:", "--max-tokens", "4"); code != 0 {
		t.Errorf("generate on the pretrained model: %s", errOut)
	}
	// The same command again finds the folder finished: no step is redone (the last round
	// checkpoint is at step 20 of 25).
	if code, stdout, errOut := runCmd(args...); code != 0 || strings.Contains(stdout, "step 25/25") {
		t.Errorf("pretrain again on a finished folder: %d\n%s\n%s", code, stdout, errOut)
	}
	// A longer run in the same folder resumes from its checkpoint instead of starting over.
	args[len(args)-7] = "30"
	args[len(args)-1] = "10"
	code, stdout, errOut = runCmd(args...)
	if code == 0 {
		t.Errorf("a finished folder with another recipe must not silently restart: %s", stdout)
	} else if !strings.Contains(errOut, "another recipe") {
		t.Errorf("error should say the recipe differs: %s", errOut)
	}
	if code, _, errOut := runCmd("pretrain", "--out", t.TempDir(), "--in-context-share", "2"); code != 2 || !strings.Contains(errOut, "[0, 1]") {
		t.Errorf("pretrain with a share above 1: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd("pretrain", "--out", t.TempDir(), "--digits", "some"); code != 2 || !strings.Contains(errOut, "grouped or single") {
		t.Errorf("pretrain with --digits some: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd("pretrain", "--out", t.TempDir(), "--fresh-worlds", "-1"); code != 2 || !strings.Contains(errOut, "--fresh-worlds lie in [0, 16]") {
		t.Errorf("pretrain with -1 fresh worlds: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd("pretrain", "--out", t.TempDir(), "--self-qa-share", "1.5"); code != 2 || !strings.Contains(errOut, "--self-qa-share must lie in [0, 1]") {
		t.Errorf("pretrain with a self-qa share of 1.5: %d %s", code, errOut)
	}
}
