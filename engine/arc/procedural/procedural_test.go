package procedural

import (
	"reflect"
	"strings"
	"testing"

	"seal/engine/arc"
)

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := ARC(Generate(7, 40)), ARC(Generate(7, 40))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave different tasks")
	}
	if reflect.DeepEqual(a, ARC(Generate(8, 40))) {
		t.Fatal("different seeds gave the same tasks")
	}
	// A prefix of a longer run is the shorter run.
	if !reflect.DeepEqual(ARC(Generate(7, 10)), a[:10]) {
		t.Fatal("Generate(seed, 10) is not the start of Generate(seed, 40)")
	}
}

func TestGeneratedTasksAreSolvableByTheirRule(t *testing.T) {
	families := map[string]bool{}
	for _, task := range Generate(1, 300) {
		if n := len(task.Train); n < 3 || n > 4 || len(task.Test) != 1 {
			t.Fatalf("%s: %d demonstrations and %d tests", task.ID, n, len(task.Test))
		}
		pairs := append(append([]arc.Pair(nil), task.Train...), task.Test...)
		for i, p := range pairs {
			for _, g := range []arc.Grid{p.Input, p.Output} {
				if err := g.Check(); err != nil || g.Rows() < 3 || g.Cols() < 3 || g.Rows() > 10 || g.Cols() > 10 {
					t.Fatalf("%s pair %d: a %dx%d grid (%v)", task.ID, i, g.Rows(), g.Cols(), err)
				}
			}
			if !task.Rule.Apply(p.Input).Equal(p.Output) {
				t.Fatalf("%s pair %d: the rule does not give the output", task.ID, i)
			}
			if p.Input.Equal(p.Output) {
				t.Fatalf("%s pair %d: the output equals the input", task.ID, i)
			}
			for _, q := range pairs[:i] {
				if q.Input.Equal(p.Input) {
					t.Fatalf("%s: repeated input", task.ID)
				}
			}
		}
		name := task.Rule.Name
		for _, param := range []string{"recolour-", "fill-background-"} {
			if strings.HasPrefix(name, param) {
				name = param
			}
		}
		families[name] = true
	}
	if len(families) != len(rules) {
		t.Fatalf("300 tasks used %d rule families of %d: %v", len(families), len(rules), families)
	}
}

func TestGravity(t *testing.T) {
	in := arc.Grid{{1, 0, 2}, {0, 0, 0}, {3, 4, 0}}
	if got := Gravity(in); !got.Equal(arc.Grid{{0, 0, 0}, {1, 0, 0}, {3, 4, 2}}) {
		t.Fatalf("gravity gave %v", got)
	}
}

func TestWriteFilesLoadsBack(t *testing.T) {
	ts := Generate(3, 12)
	c, s, err := WriteFiles(t.TempDir(), "procedural", ts)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := arc.Load(c, s)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded, ARC(ts)) {
		t.Fatal("the written tasks load back different")
	}
}

func TestCorpusDocs(t *testing.T) {
	docs := CorpusDocs(1, 50)
	if len(docs) != 50 || !reflect.DeepEqual(docs, CorpusDocs(1, 50)) {
		t.Fatal("CorpusDocs must give n documents, the same for the same seed")
	}
	held := map[string]bool{}
	for _, task := range Generate(1, 50) {
		held[arc.Format(task.Test[0].Input)] = true
	}
	for i, d := range docs {
		if !strings.HasSuffix(d, "#") || strings.Count(d, " -> ") < 4 {
			t.Fatalf("doc %d is not in the prompt format:\n%s", i, d)
		}
		// The answer after the last arrow is the rule's output for the last input.
		cut := strings.LastIndex(d, " -> ")
		answer, err := arc.ParseAnswer(d[cut+4:])
		if err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		input, err := arc.ParseAnswer(d[strings.LastIndex(d[:cut], "#\n")+2 : cut])
		if err != nil {
			t.Fatalf("doc %d input: %v", i, err)
		}
		if answer.Rows() < 3 || input.Rows() < 3 {
			t.Fatalf("doc %d: grids too small", i)
		}
		if held[arc.Format(input)] {
			t.Fatalf("doc %d holds a test input of Generate(1, 50)", i)
		}
	}
	// The corpus starts with the plain-text query prompt the embedded model sees.
	q, _ := arc.Prompter{}.Query(nil, arc.Grid{{1}})
	if !strings.HasPrefix(docs[0], q[:strings.Index(q, "[[")]) {
		t.Fatal("docs do not start with the query instruction")
	}
}

func TestSetsAreDisjoint(t *testing.T) {
	train, eval := Sets(2, 30, 20)
	if len(train) != 30 || len(eval) != 20 {
		t.Fatalf("%d and %d tasks", len(train), len(eval))
	}
	seen := map[string]bool{}
	for _, task := range train {
		seen[arc.Format(task.Test[0].Input)] = true
		seen[task.ID] = true
	}
	for _, task := range eval {
		if seen[arc.Format(task.Test[0].Input)] || seen[task.ID] {
			t.Fatalf("eval task %s also in the training set", task.ID)
		}
	}
}

// Every self-edit document is the task's plain-text self-edit prompt followed by a
// config that parses and validates; the configs vary; the same seed gives the same docs.
func TestSelfEditDocs(t *testing.T) {
	docs := SelfEditDocs(1, 200)
	if len(docs) != 200 || !reflect.DeepEqual(docs, SelfEditDocs(1, 200)) {
		t.Fatal("SelfEditDocs must give n documents, the same for the same seed")
	}
	configs := map[string]bool{}
	for _, d := range docs {
		i := strings.LastIndex(d, "\n{")
		if i < 0 || !strings.HasSuffix(d, "}\n") {
			t.Fatalf("document does not end in a JSON config line: %q", d)
		}
		prompt, edit := d[:i+1], d[i+1:]
		if !strings.HasPrefix(prompt, "You are a helpful assistant") || !strings.Contains(prompt, "Input:\n") ||
			!strings.HasSuffix(prompt, "\"num_train_epochs\": ...}}\n") {
			t.Fatalf("document does not start with the self-edit prompt: %q", prompt)
		}
		cfg, err := arc.ParseEdit(edit)
		if err != nil {
			t.Fatalf("config %q: %v", edit, err)
		}
		if err := cfg.Validate(arc.Limits{}); err != nil {
			t.Fatalf("config %q: %v", edit, err)
		}
		configs[edit] = true
	}
	if len(configs) < 50 {
		t.Errorf("%d distinct configs in 200 documents, want varied ones", len(configs))
	}
}

// The RL tasks share no grid pair with the evaluation set or the pretraining corpus's
// tasks, which their own stream alone would not ensure; the same seed gives the same
// tasks, and a prefix of a longer draw is the shorter one.
func TestRLTasksApartFromEvalAndCorpus(t *testing.T) {
	_, eval := Sets(1, 0, 32)
	corpus, edits := CorpusTasks(1, PretrainCorpusDocs), SelfEditTasks(1, PretrainSelfEditDocs)
	rl := RLTasks(1, 256, eval, corpus, edits)
	if len(rl) != 256 || !reflect.DeepEqual(ARC(rl), ARC(RLTasks(1, 256, eval, corpus, edits))) {
		t.Fatalf("RLTasks gave %d tasks, or different ones for the same seed", len(rl))
	}
	if !reflect.DeepEqual(ARC(rl[:16]), ARC(RLTasks(1, 16, eval, corpus, edits))) {
		t.Fatal("RLTasks(1, 16) is not the start of RLTasks(1, 256)")
	}
	held := map[string]string{}
	for _, set := range [][]Task{eval, corpus, edits} {
		for _, task := range set {
			for _, p := range pairsOf(task) {
				held[pairKey(p)] = task.ID
			}
		}
	}
	ids := map[string]bool{}
	for _, task := range rl {
		if !strings.HasPrefix(task.ID, "train-") || ids[task.ID] {
			t.Fatalf("RL task id %q: want a unique train-<rule>-<index>", task.ID)
		}
		ids[task.ID] = true
		for _, p := range pairsOf(task) {
			if other, ok := held[pairKey(p)]; ok {
				t.Fatalf("RL task %s shares a grid pair with %s", task.ID, other)
			}
		}
	}
	// The filter is needed: the stream unfiltered draws pairs the held sets have.
	shared := 0
	for _, task := range RLTasks(1, 256) {
		for _, p := range pairsOf(task) {
			if _, ok := held[pairKey(p)]; ok {
				shared++
			}
		}
	}
	if shared == 0 {
		t.Error("the unfiltered RL stream shares no pair with the held sets: the filter is untested")
	}
	t.Logf("unfiltered, RLTasks(1, 256) shares %d grid pairs with the eval set and the corpus", shared)
}

// CorpusTasks and SelfEditTasks are the tasks the corpus documents are made of.
func TestCorpusTasksAreTheCorpusDocs(t *testing.T) {
	for i, task := range CorpusTasks(1, 20) {
		_, full, _ := arc.Prompter{}.Training(task.Train, task.Test[0])
		if CorpusDocs(1, 20)[i] != full {
			t.Fatalf("CorpusTasks(1, 20)[%d] is not CorpusDocs' document %d", i, i)
		}
	}
	docs := SelfEditDocs(1, 20)
	for i, task := range SelfEditTasks(1, 20) {
		prompt, _ := arc.Prompter{}.SelfEditPrompt(task.Task)
		if !strings.HasPrefix(docs[i], prompt) {
			t.Fatalf("SelfEditTasks(1, 20)[%d] is not SelfEditDocs' document %d", i, i)
		}
	}
}
