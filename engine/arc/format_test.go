package arc

import (
	"path/filepath"
	"strings"
	"testing"

	"seal/internal/shareddata"
	"seal/models/tiny"
	"seal/models/tokenizer"
)

func TestFormatMatchesNumPy(t *testing.T) {
	// The method's example (§2.2b), a 1×1 grid, and a single row.
	for _, c := range []struct {
		g    Grid
		want string
	}{
		{Grid{{0, 1, 2}, {3, 4, 5}}, "[[0 1 2]\n [3 4 5]]"},
		{Grid{{7}}, "[[7]]"},
		{Grid{{1, 0, 9, 9}}, "[[1 0 9 9]]"},
		{Grid{{1}, {2}, {3}}, "[[1]\n [2]\n [3]]"},
	} {
		if got := Format(c.g); got != c.want {
			t.Errorf("Format(%v) = %q, want %q", [][]int(c.g), got, c.want)
		}
	}
	if got := FormatExample(Pair{Grid{{1, 2}}, Grid{{3}, {4}}}); got != "[[1 2]] -> [[3]\n [4]]#" {
		t.Errorf("FormatExample = %q", got)
	}
	// A 30-wide row is 63 characters, as NumPy prints it unwrapped.
	if n := len(Format(New(1, 30))); n != 63 {
		t.Errorf("a 1×30 grid prints in %d characters, want 63", n)
	}
}

var demoTask = Task{ID: "demo",
	Train: []Pair{{Grid{{1, 2}, {3, 4}}, Grid{{4, 3}, {2, 1}}}, {Grid{{5, 0}}, Grid{{0, 5}}}},
	Test:  []Pair{{Grid{{6, 7}}, Grid{{7, 6}}}}}

func TestPlainTextPrompts(t *testing.T) {
	var p Prompter
	sys := queryInstruction + "\n" + queryArrays + "\n" +
		"[[1 2]\n [3 4]] -> [[4 3]\n [2 1]]#\n" +
		"[[5 0]] -> [[0 5]]#\n"
	q, err := p.Query(demoTask.Train, demoTask.Test[0].Input)
	if err != nil {
		t.Fatal(err)
	}
	if want := sys + "[[6 7]] ->"; q != want {
		t.Errorf("query:\n%q\nwant\n%q", q, want)
	}
	prompt, full, err := p.Training(demoTask.Train, demoTask.Test[0])
	if err != nil {
		t.Fatal(err)
	}
	if prompt != q || full != q+" [[7 6]]#" {
		t.Errorf("training text %q (prompt %q)", full, prompt)
	}
	se, err := p.SelfEditPrompt(demoTask)
	if err != nil {
		t.Fatal(err)
	}
	wantStart := selfEditSystem + "\n\nInput:\n1 2\n3 4\n\nOutput:\n4 3\n2 1\n\nInput:\n5 0\n\nOutput:\n0 5\n\n------\n\n"
	if !strings.HasPrefix(se, wantStart) || !strings.HasSuffix(se, `"num_train_epochs": ...}}`+"\n") {
		t.Errorf("self-edit prompt:\n%s", se)
	}
	if strings.Contains(se, "6 7") {
		t.Error("the self-edit prompt must not show the test input")
	}
	// The skeleton in the instructions names exactly the fields ParseEdit requires.
	for _, key := range []string{"use_basic_augmentations", "use_size_augmentations", "use_chain_augmentations",
		"use_repeat_augmentations", "strategy", "learning_rate", "num_train_epochs", string(AllTokens), string(OutputTokens)} {
		if !strings.Contains(se, key) {
			t.Errorf("self-edit prompt does not mention %s", key)
		}
	}
}

// llama3 loads the Llama 3 tokenizer and its chat template from the shared data.
func llama3(t *testing.T) (*tokenizer.Tokenizer, *tokenizer.ChatTemplate) {
	t.Helper()
	dir := shareddata.PathOrSkip(t, "data", "tokenizers", "llama3")
	tok, err := tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := PrompterFor(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Template == nil {
		t.Fatal("the Llama 3 folder has a chat template")
	}
	return tok, p.Template
}

func TestChatTemplatePromptsAndOutputMask(t *testing.T) {
	tok, tmpl := llama3(t)
	p := Prompter{Template: tmpl}
	sys := queryInstruction + "\n" + queryArrays + "\n[[1 2]\n [3 4]] -> [[4 3]\n [2 1]]#\n[[5 0]] -> [[0 5]]#"
	head := func(role string) string { return "<|start_header_id|>" + role + "<|end_header_id|>\n\n" }
	wantQuery := "<|begin_of_text|>" + head("system") + sys + "<|eot_id|>" + head("user") + "[[6 7]] -><|eot_id|>" + head("assistant")
	prompt, full, err := p.Training(demoTask.Train, demoTask.Test[0])
	if err != nil {
		t.Fatal(err)
	}
	if prompt != wantQuery {
		t.Errorf("query:\n%q\nwant\n%q", prompt, wantQuery)
	}
	// The reference renders the training text with the generation prompt on, so an
	// empty assistant header trails the answer (§2.2b).
	if want := wantQuery + "[[7 6]]#<|eot_id|>" + head("assistant"); full != want {
		t.Errorf("training text:\n%q\nwant\n%q", full, want)
	}

	eot := int32(128009)
	c := codec{tok: tok, eos: []int32{eot}}
	exs, err := trainingExamples([]Task{demoTask}, p, c, OutputTokens, 8192)
	if err != nil || len(exs) != 1 {
		t.Fatal(len(exs), err)
	}
	ex := exs[0]
	if ex.Tokens[0] != 128000 || ex.Tokens[1] == 128000 {
		t.Fatalf("want exactly one BOS, got %v", ex.Tokens[:2])
	}
	// The loss starts right after the "\n\n" that follows the third <|end_header_id|>
	// (the real assistant header) and runs to the end (§2.5).
	headers, start := 0, -1
	for i, id := range ex.Tokens {
		if id == 128007 {
			headers++
			if headers == 3 {
				start = i + 2
			}
		}
	}
	if headers != 4 || ex.Tokens[start-1] != 271 {
		t.Fatalf("%d headers, token before the answer %d", headers, ex.Tokens[start-1])
	}
	for i, in := range ex.LossMask {
		if in != (i >= start) {
			t.Fatalf("loss mask at %d is %v; the answer starts at %d", i, in, start)
		}
	}
	if ex.Tokens[len(ex.Tokens)-1] != eot {
		t.Fatal("the example must end in EOS")
	}
	answer := c.decode(ex.Tokens[start : len(ex.Tokens)-1])
	if !strings.HasPrefix(answer, "[[7 6]]#") {
		t.Fatalf("loss covers %q", answer)
	}
	all, err := trainingExamples([]Task{demoTask}, p, c, AllTokens, 8192)
	if err != nil || all[0].LossMask != nil {
		t.Fatalf("all-tokens examples have no mask: %v %v", all[0].LossMask, err)
	}
	if short, _ := trainingExamples([]Task{demoTask}, p, c, AllTokens, len(ex.Tokens)); len(short) != 0 {
		t.Fatal("an example of maxTokens tokens must be dropped")
	}
}

func TestPrompterPassesTheDate(t *testing.T) {
	tmpl, err := tokenizer.CompileChatTemplate(`{{ date_string | default("none") }}|{% for m in messages %}{{ m.content }}{% endfor %}`, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Prompter{Template: tmpl, Date: "26 Jul 2024"}.SelfEditPrompt(demoTask)
	if err != nil || !strings.HasPrefix(got, "26 Jul 2024|"+selfEditSystem) {
		t.Fatalf("%q %v", got[:min(40, len(got))], err)
	}
}

func TestParseAnswer(t *testing.T) {
	good := []struct {
		text string
		want Grid
	}{
		{"[[1 2]\n [3 4]]#", Grid{{1, 2}, {3, 4}}},
		{" [[1 2]\n [3 4]]# and then some chatter [[9]]", Grid{{1, 2}, {3, 4}}},
		{"[[1  2]\n [3 4]]", Grid{{1, 2}, {3, 4}}}, // double spaces, no terminator
		{"[[5]] -> [[6]]", Grid{{5}}},              // no '#': cut after the first ]]
		{"[[0 0 0]]#\n", Grid{{0, 0, 0}}},
	}
	for _, c := range good {
		g, err := ParseAnswer(c.text)
		if err != nil || !g.Equal(c.want) {
			t.Errorf("ParseAnswer(%q) = %v, %v; want %v", c.text, g, err, c.want)
		}
	}
	bad := []struct{ text, why string }{
		{"", "no grid"},
		{"#", "no grid"},
		{"[[1 2]\n [3]]#", "ragged"},
		{"[[1 2]\n\n [3 4]]#", "row 1 is empty"},
		{"[[1 12]]#", `"12"`},
		{"[[a b]]#", `"a"`},
		{"[[-1]]#", `"-1"`},
		{"[[" + strings.Repeat("1 ", 31) + "]]#", "31 columns"},
	}
	for _, c := range bad {
		if g, err := ParseAnswer(c.text); err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("ParseAnswer(%q) = %v, %v; want an error about %s", c.text, g, err, c.why)
		}
	}
	// Every grid survives printing and parsing.
	for _, g := range randomGrids(200, 1) {
		back, err := ParseAnswer(Format(g) + "#")
		if err != nil || !back.Equal(g) {
			t.Fatalf("round trip of %v: %v %v", g, back, err)
		}
	}
}

func FuzzParseAnswer(f *testing.F) {
	f.Add("[[1 2]\n [3 4]]#")
	f.Add("[[1 2]\n [3]]")
	f.Add("]]#[[")
	f.Fuzz(func(t *testing.T, text string) {
		g, err := ParseAnswer(text)
		if err != nil {
			return
		}
		if err := g.Check(); err != nil {
			t.Fatalf("accepted an invalid grid: %v", err)
		}
		if back, err := ParseAnswer(Format(g)); err != nil || !back.Equal(g) {
			t.Fatalf("re-parse: %v %v", back, err)
		}
	})
}

// The embedded model has no chat template: its output-only loss must start exactly at
// the answer, so the prompt's tokens must be a prefix of the training text's.
func TestPlainTextOutputMaskOnTheEmbeddedTokenizer(t *testing.T) {
	dir, err := tiny.Dir()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := PrompterFor(dir)
	if err != nil || p.Template != nil {
		t.Fatalf("the embedded model has no chat template (%v)", err)
	}
	c := codec{tok: tok, eos: []int32{4095}}
	exs, err := trainingExamples([]Task{demoTask}, p, c, OutputTokens, 2048)
	if err != nil || len(exs) != 1 {
		t.Fatal(err)
	}
	ex := exs[0]
	prompt, _, _ := p.Training(demoTask.Train, demoTask.Test[0])
	n := len(c.encode(prompt))
	for i, in := range ex.LossMask {
		if in != (i >= n) {
			t.Fatalf("loss mask at %d is %v; the prompt has %d tokens", i, in, n)
		}
	}
	if got := c.decode(ex.Tokens[n : len(ex.Tokens)-1]); got != " [[7 6]]#" {
		t.Fatalf("the loss covers %q", got)
	}
}
