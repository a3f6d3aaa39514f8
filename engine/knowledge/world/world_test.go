package world

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"seal/engine/knowledge"
)

func smallConfig(seed uint64) Config {
	return Config{Seed: seed, People: 300, Places: 120, Orgs: 150, Events: 120, HeldOut: 0.2, Drill: 0.5}
}

// grams returns the set of word 1-grams and 2-grams of texts (words are runs of letters
// and digits), the shapes every entity name has.
func grams(texts ...string) map[string]bool {
	set := map[string]bool{}
	for _, t := range texts {
		words := strings.FieldsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		for i, w := range words {
			set[w] = true
			if i+1 < len(words) {
				set[w+" "+words[i+1]] = true
			}
		}
	}
	return set
}

// texts is every string of a split's passages: titles, contexts, questions, answers and
// implications.
func texts(w *World, s Split) []string {
	var out []string
	for _, p := range w.Passages(s) {
		out = append(out, p.Title, p.Context)
		for _, q := range p.Questions {
			out = append(out, q.Question, q.Answer)
		}
		out = append(out, w.Implications(p)...)
	}
	return out
}

func TestDeterministic(t *testing.T) {
	a, b := Generate(smallConfig(7)), Generate(smallConfig(7))
	for _, s := range Splits() {
		if !reflect.DeepEqual(a.Passages(s), b.Passages(s)) || !reflect.DeepEqual(texts(a, s), texts(b, s)) {
			t.Fatalf("split %s differs between two generations with the same seed", s)
		}
		if !reflect.DeepEqual(a.Names(s), b.Names(s)) {
			t.Fatalf("names of %s differ", s)
		}
	}
	if !reflect.DeepEqual(a.Corpus(3, 0), b.Corpus(3, 0)) {
		t.Fatal("corpus differs between two worlds with the same seed")
	}
	if reflect.DeepEqual(a.Corpus(3, 0), a.Corpus(4, 0)) {
		t.Error("corpus seeds 3 and 4 give the same corpus")
	}
	c := Generate(smallConfig(8))
	for _, s := range Splits() {
		if reflect.DeepEqual(a.Passages(s), c.Passages(s)) {
			t.Errorf("seeds 7 and 8 give the same %s passages", s)
		}
	}
}

func TestSplitsShareNoEntities(t *testing.T) {
	w := Generate(smallConfig(1))
	owner := map[string]Split{}
	for _, s := range Splits() {
		for _, n := range w.Names(s) {
			if o, dup := owner[n]; dup {
				t.Fatalf("name %q is in %s and %s", n, o, s)
			}
			owner[n] = s
		}
	}
	for _, s := range Splits() {
		g := grams(texts(w, s)...)
		for n, o := range owner {
			if o != s && g[n] {
				t.Errorf("%s entity %q appears in the %s split", o, n, s)
			}
		}
		// Every passage title is a name of its own split.
		for _, p := range w.Passages(s) {
			if owner[p.Title] != s {
				t.Errorf("passage %q of %s: title owned by %q", p.Title, s, owner[p.Title])
			}
		}
	}
}

// sentences splits a context at ". " (names and numbers hold no periods).
func sentences(ctx string) []string {
	return strings.SplitAfter(strings.TrimSuffix(ctx, "."), ". ")
}

// questionWords do not count as rewording.
var questionWords = map[string]bool{"which": true, "what": true, "when": true, "where": true,
	"does": true, "that": true, "from": true, "with": true, "have": true, "the": true, "was": true,
	"did": true, "who": true, "how": true, "for": true, "and": true, "its": true, "his": true, "her": true}

func TestPassagesAndQuestions(t *testing.T) {
	w := Generate(smallConfig(2))
	for _, s := range Splits() {
		ps := w.Passages(s)
		if len(ps) == 0 {
			t.Fatalf("split %s is empty", s)
		}
		for _, p := range ps {
			if err := p.Validate(); err != nil {
				t.Fatalf("%s %q: %v", s, p.Title, err)
			}
			sents := sentences(p.Context)
			if len(sents) < 3 || len(sents) > 5 {
				t.Errorf("%q: %d sentences: %s", p.Title, len(sents), p.Context)
			}
			if strings.Contains(sents[1], p.Title) {
				t.Errorf("%q: the second sentence names the subject in full: %s", p.Title, sents[1])
			}
			if n := len(p.Questions); n < 3 || n > 5 {
				t.Errorf("%q: %d questions", p.Title, n)
			}
			ctxWords := map[string]bool{}
			for w := range grams(strings.ToLower(p.Context)) {
				ctxWords[w] = true
			}
			for _, q := range p.Questions {
				if !knowledge.Contains(p.Context, q.Answer) {
					t.Errorf("%q: answer %q of %q is not in the passage", p.Title, q.Answer, q.Question)
				}
				if knowledge.Contains(q.Question, q.Answer) {
					t.Errorf("%q: question %q gives its answer away", p.Title, q.Question)
				}
				if strings.Contains(knowledge.Normalize(p.Context), knowledge.Normalize(strings.TrimSuffix(q.Question, "?"))) {
					t.Errorf("%q: question %q is worded as the passage", p.Title, q.Question)
				}
				// Some content word of the question is not in the passage: it asks in
				// other words than the passage states the fact.
				fresh := false
				for _, word := range strings.Fields(strings.ToLower(strings.TrimSuffix(q.Question, "?"))) {
					if len(word) >= 3 && !questionWords[word] && !ctxWords[word] && !strings.Contains(strings.ToLower(p.Title), word) {
						fresh = true
					}
				}
				if !fresh {
					t.Errorf("%q: question %q uses only the passage's words", p.Title, q.Question)
				}
			}
		}
	}
}

func TestImplications(t *testing.T) {
	w := Generate(smallConfig(3))
	for _, s := range Splits() {
		for _, p := range w.Passages(s) {
			imps := w.Implications(p)
			if len(imps) < 4 {
				t.Errorf("%q: %d implications", p.Title, len(imps))
			}
			for _, l := range imps {
				if !strings.Contains(l, p.Title) || strings.ContainsAny(l, "\n\r") || !strings.HasSuffix(l, ".") {
					t.Errorf("%q: implication %q does not name the subject in full on one line", p.Title, l)
				}
			}
			// As a self-edit, the implications become one training sequence each.
			seqs := knowledge.TrainSequences(NumberedList(imps), p, true)
			if len(seqs) != len(imps)+1 {
				t.Errorf("%q: %d sequences from %d implications", p.Title, len(seqs), len(imps))
			}
		}
	}
	if w.Implications(knowledge.Passage{Title: "Nobody"}) != nil {
		t.Error("implications of an unknown passage")
	}
}

func TestCorpus(t *testing.T) {
	w := Generate(smallConfig(4))
	docs := w.Corpus(9, 0)
	train := map[string]knowledge.Passage{}
	for _, p := range w.Passages(Train) {
		train[p.Title] = p
	}
	// Drill subjects may appear only in self-edit and in-context documents.
	drill, readable := map[string]knowledge.Passage{}, map[string]knowledge.Passage{}
	for _, p := range w.passages[Drill] {
		drill[p.Title], readable[p.Title] = p, p
	}
	if len(drill) < len(train)/3 {
		t.Fatalf("%d drill passages for %d train passages, want about half", len(drill), len(train))
	}
	for title, p := range train {
		readable[title] = p
	}
	held := map[string]bool{}
	for _, s := range []Split{Val, Test} {
		for _, n := range w.Names(s) {
			held[n] = true
		}
	}
	// Every telling of a train passage: the passage and its retellings, with their implications.
	tellings := map[string]map[string]bool{}
	for title, p := range train {
		tellings[title] = map[string]bool{p.Context: true}
		for _, r := range w.retold[title] {
			tellings[title][r.passage.Context] = true
		}
	}
	kinds := map[string]int{}
	selfEdit := map[string]bool{}
	for _, d := range docs {
		for _, r := range d {
			if r > unicode.MaxASCII {
				t.Fatalf("non-ASCII document %q", d)
			}
		}
		for g := range grams(strings.Split(d, "\n")...) { // line by line: a title and the text after it are no name
			if held[g] {
				t.Fatalf("held-out entity %q in the corpus: %q", g, d)
			}
		}
		switch {
		case strings.HasPrefix(d, "Let us read"):
			kinds["self-edit"]++
			title := strings.SplitN(d, "\n", 5)[3]
			p, ok := readable[title]
			if !ok {
				t.Fatalf("self-edit document about %q, not a train or drill passage", title)
			}
			if _, ok := drill[title]; ok {
				kinds["drill self-edit"]++
			} else {
				selfEdit[title] = true
			}
			want := knowledge.SelfEditPrompt(knowledge.StyleImplications, p) + NumberedList(w.Implications(p)) + "\n"
			for _, r := range w.retold[title] {
				if told := SelfEditDocument(r.passage, r.implications); d == told {
					want = told
				}
			}
			if d != want || !strings.HasSuffix(d, ".\n\n") {
				t.Fatalf("self-edit document:\n%q\nwant\n%q", d, want)
			}
		case strings.HasPrefix(d, "Passage:\n"):
			kinds["in-context"]++
			if !matchesQA(d, readable, knowledge.InContextPrompt) {
				t.Fatalf("in-context document not in InContextPrompt format: %q", d)
			}
		case strings.HasPrefix(d, "Answer the following"):
			kinds["closed-book"]++
			if !matchesQA(d, train, knowledge.QAPrompt) {
				t.Fatalf("closed-book document not in QAPrompt format: %q", d)
			}
		default:
			kinds["passage"]++
			title, ctx, _ := strings.Cut(d, "\n")
			if _, ok := tellings[title][ctx]; !ok {
				t.Fatalf("passage document %q is not a telling of a train passage", d)
			}
		}
	}
	if kinds["passage"] != (1+Retellings)*len(train) {
		t.Errorf("%d passage documents for %d train passages told %d times", kinds["passage"], len(train), 1+Retellings)
	}
	share := float64(len(selfEdit)) / float64(len(train))
	if share < 0.4 || share > 0.6 || kinds["self-edit"] != len(selfEdit)+len(drill) || kinds["drill self-edit"] != len(drill) {
		t.Errorf("self-edit documents for %.2f of train subjects and %d of %d drill subjects (%d documents), want about 0.5 and all",
			share, kinds["drill self-edit"], len(drill), kinds["self-edit"])
	}
	if kinds["closed-book"] < 3*len(train) || kinds["in-context"] < len(train)/5+len(drill) {
		t.Errorf("document kinds %v", kinds)
	}

	total := 0
	for _, d := range docs {
		total += len(d)
	}
	for _, limit := range []int{1, 1000, 50_000, total - 1, total, total + 1} {
		got := w.Corpus(9, limit)
		n := 0
		for _, d := range got {
			n += len(d)
		}
		if n > limit || !reflect.DeepEqual(got, docs[:len(got)]) {
			t.Errorf("maxChars %d: %d characters in %d documents", limit, n, len(got))
		}
		if limit >= total && len(got) != len(docs) {
			t.Errorf("maxChars %d: %d of %d documents", limit, len(got), len(docs))
		}
	}
}

// matchesQA reports whether d is prompt(p, q) + answer for a question of a train passage.
func matchesQA(d string, train map[string]knowledge.Passage, prompt func(knowledge.Passage, knowledge.Question) string) bool {
	for _, p := range train {
		if !strings.Contains(d, "Topic: "+p.Title+"\n") {
			continue
		}
		for _, q := range p.Questions {
			if d == prompt(p, q)+q.Answer {
				return true
			}
		}
	}
	return false
}

func TestWriteSQuADRoundTrip(t *testing.T) {
	w := Generate(smallConfig(5))
	path := filepath.Join(t.TempDir(), "val.json")
	want := w.Passages(Val)
	if err := WriteSQuAD(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := knowledge.LoadSQuAD(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("passages do not round-trip through WriteSQuAD and LoadSQuAD")
	}
	if err := WriteSQuAD(path, []knowledge.Passage{{Title: "T", Context: " "}}); err == nil {
		t.Error("an empty context was written")
	}
	empty := filepath.Join(t.TempDir(), "empty.json")
	if err := WriteSQuAD(empty, nil); err != nil {
		t.Fatal(err)
	}
	if ps, err := knowledge.LoadSQuAD(empty); err != nil || len(ps) != 0 {
		t.Errorf("empty file: %v, %d passages", err, len(ps))
	}
}

func TestDefaultSizes(t *testing.T) {
	w := Generate(DefaultConfig())
	for _, s := range []Split{Val, Test} {
		if n := len(w.Passages(s)); n < 150 {
			t.Errorf("%s has %d passages, want at least 150", s, n)
		}
	}
	n := 0
	for _, d := range w.Corpus(1, 0) {
		n += len(d)
	}
	if n < 15_000_000 || n > 17_000_000 {
		t.Errorf("default corpus is %d characters, want about 16 M", n)
	}
	t.Logf("passages train/val/test %d/%d/%d, corpus %d characters",
		len(w.Passages(Train)), len(w.Passages(Val)), len(w.Passages(Test)), n)
}

// Names never read as the template's own words (a river called "Have" would).
func TestNamesAreNotTemplateWords(t *testing.T) {
	w := Generate(smallConfig(6))
	var all []string
	for _, s := range Splits() {
		all = append(all, texts(w, s)...)
	}
	all = append(all, w.Corpus(1, 0)...)
	vocab := map[string]bool{}
	for g := range grams(all...) {
		if !strings.Contains(g, " ") && unicode.IsLower(rune(g[0])) {
			vocab[g] = true
		}
	}
	nm := newNamer(rand.New(rand.NewPCG(1, 2)))
	for _, pool := range [][]string{nm.rivers, nm.regions, nm.firsts, nm.stems} {
		for _, n := range pool {
			if vocab[strings.ToLower(n)] {
				t.Errorf("name %q is also a template word", n)
			}
		}
	}
}

func TestSmallAndOddConfigs(t *testing.T) {
	for _, c := range []Config{
		{},
		{People: 1},
		{Orgs: 3, HeldOut: 0.9},
		{Events: 2, HeldOut: 1},
		{People: 5, Places: 0, Orgs: 9, Events: 4, HeldOut: 0.5},
		{People: -3, Places: 2, HeldOut: -1},
	} {
		w := Generate(c)
		for _, s := range Splits() {
			for _, p := range w.Passages(s) {
				if err := p.Validate(); err != nil {
					t.Errorf("%+v: %s %q: %v", c, s, p.Title, err)
				}
			}
		}
		_ = w.Corpus(1, 100)
	}
}

// A retelling states the same subject's facts in other words: each of its questions is
// answered in its own text, the subject is named, and most retellings differ from the
// passage. The splits' passages do not depend on the retellings.
func TestRetellings(t *testing.T) {
	w := Generate(smallConfig(4))
	differ, n := 0, 0
	for _, p := range w.Passages(Train) {
		rs := w.retold[p.Title]
		if len(rs) != Retellings {
			t.Fatalf("%q told %d more times, want %d", p.Title, len(rs), Retellings)
		}
		for _, r := range rs {
			n++
			if r.passage.Title != p.Title || !strings.Contains(r.passage.Context, strings.TrimPrefix(p.Title, "the ")) {
				t.Fatalf("retelling of %q names another subject: %q", p.Title, r.passage.Context)
			}
			for _, q := range r.passage.Questions {
				if !strings.Contains(r.passage.Context, q.Answer) {
					t.Fatalf("retelling %q does not state the answer %q", r.passage.Context, q.Answer)
				}
			}
			if r.passage.Context != p.Context {
				differ++
			}
		}
	}
	if differ < n*3/4 {
		t.Errorf("%d of %d retellings differ from their passage, want most", differ, n)
	}
	for _, s := range []Split{Val, Test, Drill} {
		for _, p := range w.passages[s] {
			if _, ok := w.retold[p.Title]; ok {
				t.Fatalf("%s passage %q has retellings; only train passages are retold", s, p.Title)
			}
		}
	}
}

// TestCorpusMix: the mix sets how many self-edit and in-context documents the train
// subjects get and how many in-context questions each drill passage gets, every question
// of a passage at most once.
func TestCorpusMix(t *testing.T) {
	w := Generate(smallConfig(4))
	drill, questions := map[string]bool{}, 0
	for _, p := range w.passages[Drill] {
		drill[p.Title] = true
		questions += len(p.Questions)
	}
	count := func(m Mix) (selfEdits, trainInContext, drillInContext int, perDrill map[string]map[string]bool) {
		perDrill = map[string]map[string]bool{}
		for _, d := range w.CorpusMix(9, 0, m) {
			switch {
			case strings.HasPrefix(d, "Let us read"):
				if !drill[strings.SplitN(d, "\n", 5)[3]] {
					selfEdits++
				}
			case strings.HasPrefix(d, "Passage:\n"):
				title := strings.SplitN(d, "\n", 3)[1]
				if !drill[title] {
					trainInContext++
					continue
				}
				drillInContext++
				if perDrill[title] == nil {
					perDrill[title] = map[string]bool{}
				}
				if perDrill[title][d] {
					t.Errorf("mix %+v: one in-context question twice: %q", m, d)
				}
				perDrill[title][d] = true
			}
		}
		return
	}
	s, c, d, _ := count(Mix{})
	if s != 0 || c != 0 || d != 0 {
		t.Errorf("an empty mix has %d self-edit, %d train in-context and %d drill in-context documents", s, c, d)
	}
	s, c, d, per := count(Mix{SelfEditShare: 1, InContextShare: 1, DrillInContext: 2})
	if train := len(w.Passages(Train)); s != train || c != train || d != 2*len(drill) || len(per) != len(drill) {
		t.Errorf("full shares: %d self-edit and %d in-context documents for %d train subjects, %d drill in-context for %d drill passages",
			s, c, train, d, len(drill))
	}
	if _, _, d, _ := count(Mix{DrillInContext: 99}); d != questions {
		t.Errorf("every drill question in context: %d documents for %d questions", d, questions)
	}
	// Together: one document per drill passage, the passage once, every question after it.
	asked := 0
	_, _, d, per = count(Mix{DrillInContext: 99, DrillTogether: true})
	for _, p := range w.passages[Drill] {
		for doc := range per[p.Title] {
			if strings.Count(doc, p.Context) != 1 {
				t.Fatalf("the passage %d times in %q", strings.Count(doc, p.Context), doc)
			}
			for _, q := range p.Questions {
				if strings.Contains(doc, knowledge.QAPrompt(p, q)+q.Answer) {
					asked++
				}
			}
		}
	}
	if d != len(drill) || asked != questions {
		t.Errorf("together: %d documents for %d drill passages, %d of %d questions asked", d, len(drill), asked, questions)
	}
}

// TestCorpusFreshWorlds: FreshWorlds adds the passages of further worlds as drill subjects, each
// in its self-edit document and its in-context questions only, every one about a subject the world
// does not have and naming none of the world's entities; the world's own documents stay as they were.
func TestCorpusFreshWorlds(t *testing.T) {
	w := Generate(smallConfig(4))
	m := Mix{SelfEditShare: 0.5, InContextShare: 0.3, DrillInContext: 1}
	base := map[string]int{}
	for _, d := range w.CorpusMix(9, 0, m) {
		base[d]++
	}
	m.FreshWorlds = 2
	docs := w.CorpusMix(9, 0, m)
	if again := w.CorpusMix(9, 0, m); !slices.Equal(docs, again) {
		t.Fatal("the same mix and seed gave two corpora")
	}
	ours := map[string]bool{}
	for _, s := range append(Splits(), Drill) {
		for _, n := range w.Names(s) {
			ours[n] = true
		}
	}
	selfEdits, inContext := map[string]bool{}, map[string]bool{}
	for _, d := range docs {
		if base[d] > 0 {
			base[d]--
			continue
		}
		switch {
		case strings.HasPrefix(d, "Let us read"):
			selfEdits[strings.SplitN(d, "\n", 5)[3]] = true
		case strings.HasPrefix(d, "Passage:\n"):
			inContext[strings.SplitN(d, "\n", 3)[1]] = true
		default:
			t.Fatalf("a fresh document that is neither a self-edit nor an in-context question: %q", d)
		}
		for g := range grams(strings.Split(d, "\n")...) { // line by line: a title and the text after it are no name
			if ours[g] {
				t.Fatalf("a fresh document names %q, an entity of the world: %q", g, d)
			}
		}
	}
	for d, n := range base {
		if n > 0 {
			t.Fatalf("the world's document %q is missing with fresh worlds", d)
		}
	}
	want := 0
	for _, f := range w.freshWorlds(2) {
		want += len(f.passages)
	}
	if want == 0 || len(selfEdits) != want || len(inContext) != want {
		t.Errorf("%d fresh passages, %d with a self-edit document and %d with an in-context question", want, len(selfEdits), len(inContext))
	}
	if one := len(w.freshWorlds(1)[0].passages); one != len(w.Passages(Train))+len(w.Passages(Drill)) {
		t.Errorf("a fresh world gave %d passages, the world has %d train and %d drill", one, len(w.Passages(Train)), len(w.Passages(Drill)))
	}
	// Half a world: half the subjects of one.
	m.FreshWorlds = 0.5
	half := len(w.CorpusMix(9, 0, m)) - len(w.CorpusMix(9, 0, Mix{SelfEditShare: 0.5, InContextShare: 0.3, DrillInContext: 1}))
	if one := len(w.freshWorlds(1)[0].passages); half != 2*int(math.Round(float64(one)/2)) {
		t.Errorf("half a fresh world added %d documents, for %d subjects in a whole one (a self-edit and an in-context document each)", half, one)
	}
}

// TestCorpusSelfQA: Mix.SelfQAShare turns that share of the self-edit documents into
// self-qa ones (the self-qa prompt, then every fact of the passage asked once and
// answered with the passage's own words) and changes nothing else.
func TestCorpusSelfQA(t *testing.T) {
	w := Generate(smallConfig(4))
	m := Mix{SelfEditShare: 0.5, InContextShare: 0.3, DrillInContext: 1}
	base := w.CorpusMix(9, 0, m)
	m.SelfQAShare = 0.5
	docs := w.CorpusMix(9, 0, m)
	if again := w.CorpusMix(9, 0, m); !slices.Equal(docs, again) {
		t.Fatal("the same mix and seed gave two corpora")
	}
	if len(docs) != len(base) {
		t.Fatalf("%d documents with self-qa ones, %d without: they replace self-edit documents", len(docs), len(base))
	}
	qaPrompt := knowledge.SelfEditPrompt(knowledge.StyleSelfQA, knowledge.Passage{Title: "T", Context: "C"})
	qaInstruction := qaPrompt[:strings.Index(qaPrompt, "\n")]
	implications, selfQA := 0, 0
	for i, d := range docs {
		if !strings.HasPrefix(d, qaInstruction) {
			if strings.HasPrefix(d, "Let us read") {
				implications++
			}
			if d != base[i] {
				t.Fatalf("document %d changed with self-qa documents though it is not one: %q, was %q", i, d, base[i])
			}
			continue
		}
		selfQA++
		if !strings.HasPrefix(base[i], "Let us read") {
			t.Fatalf("self-qa document %d took the place of %q, not of a self-edit document", i, base[i])
		}
		head, pairs, _ := strings.Cut(d, "\n\nQuestion 1: ")
		context := strings.SplitN(head, "\n", 5)[4]
		n := 0
		for _, line := range strings.Split(strings.TrimSpace(pairs), "\n") {
			if a, ok := strings.CutPrefix(line, "Answer: "); ok {
				n++
				if !strings.Contains(context, a) {
					t.Fatalf("a self-qa answer %q the passage does not state: %q", a, d)
				}
			} else if n > 0 && !strings.HasPrefix(line, "Question "+strconv.Itoa(n+1)+": ") {
				t.Fatalf("line %q of %q is neither an answer nor question %d", line, d, n+1)
			}
		}
		if n < 3 {
			t.Fatalf("a self-qa document with %d pairs, want every fact of its passage (at least 3): %q", n, d)
		}
	}
	if total := implications + selfQA; selfQA < total/3 || selfQA > 2*total/3 {
		t.Errorf("%d self-qa documents of %d self-edit documents, want about half", selfQA, total)
	}
}
