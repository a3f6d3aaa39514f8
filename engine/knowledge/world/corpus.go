package world

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"seal/engine/knowledge"
)

// Mix is the make-up of the corpus beyond the passages and their closed-book questions:
// the shares of train subjects that get a self-edit document and an in-context question,
// and how many in-context questions each drill passage gets (each its own document; every
// drill subject also gets a self-edit document). The drill's in-context questions are
// where the model learns to read an answer from the prompt rather than recall it.
type Mix struct {
	SelfEditShare, InContextShare float64
	DrillInContext                int
	// DrillTogether puts a drill passage's in-context questions in one document (the
	// passage once, then each question and its answer in turn) instead of one document
	// each: as many questions read from the prompt, without repeating the passage until
	// its facts are memorised (a drill subject must stay unknown but for the prompt).
	DrillTogether bool
	// FreshWorlds adds the subjects of this many further worlds (the same sizes, other
	// seeds) as drill subjects: each passage in one self-edit document and DrillInContext
	// in-context questions, and nowhere else. A drill subject of the world itself is seen
	// in every epoch of pretraining, so its facts end up memorised; fresh subjects are
	// many enough that reading the prompt stays the only way to their facts. A fraction
	// takes that share of the last world's subjects.
	FreshWorlds float64
	// SelfQAShare writes that share of the self-edit documents (train, drill and fresh
	// subjects alike) in the self-qa style instead (SelfQADocument): every fact the
	// passage states as a question and its answer, the closed-book form the edit is
	// judged in. Which documents, and each question's wording, come from a random stream
	// of their own, so the rest of the corpus is the same with or without them.
	SelfQAShare float64
}

// DefaultMix is the corpus of the world itself, the one Corpus gives.
func DefaultMix() Mix { return Mix{SelfEditShare: 0.5, InContextShare: 0.3, DrillInContext: 1} }

// EmbeddedMix is the embedded model's corpus: DefaultMix with a second world's subjects
// as drill. Measured on val against DefaultMix's model (README): it reads its prompt far
// better and its own self-edits teach more, the passage learned as well.
func EmbeddedMix() Mix {
	m := DefaultMix()
	m.FreshWorlds = 1
	return m
}

// Corpus returns the pretraining documents, from the train split only, shuffled: each
// string is one document (the trainer separates documents, for instance with EOS). It
// holds, per train passage p:
//
//   - the passage, title line first ("title\ncontext"), as the inner loop trains on it,
//     and Retellings further renderings of it in other words (knowledge augmentation);
//   - for a share of the subjects (Mix.SelfEditShare, half by default), knowledge.SelfEditPrompt(StyleImplications, p) for
//     one of its renderings, that rendering's implications as a numbered list
//     ("1. ...\n2. ...\n") and a blank line ("\n");
//   - for every question, knowledge.QAPrompt(p, q) followed by the answer (closed book);
//   - for a share of subjects (Mix.InContextShare, 30% by default), one question in context: knowledge.InContextPrompt(p, q)
//     followed by the answer;
//
// and per drill passage (the Drill split: facts seen nowhere else) its self-edit document
// and Mix.DrillInContext in-context questions (one by default), so that both skills must be
// learned by reading the prompt.
// The feasibility run showed recitation: a model whose implications documents were all
// about subjects it had memorised wrote fluent implications with wrong facts for new ones.
//
// Documents are taken in shuffled order while their total length in bytes (characters:
// the text is ASCII) stays within maxChars; maxChars ≤ 0 means no limit. The choice and
// order depend only on the world and seed.
func (w *World) Corpus(seed uint64, maxChars int) []string {
	return w.CorpusMix(seed, maxChars, DefaultMix())
}

// CorpusMix is Corpus made up as m says (DefaultMix gives Corpus's documents exactly).
func (w *World) CorpusMix(seed uint64, maxChars int, m Mix) []string {
	r := rand.New(rand.NewPCG(w.cfg.Seed^0xc0b905, seed))
	edits := editWriter{qaShare: m.SelfQAShare, r: rand.New(rand.NewPCG(w.cfg.Seed^0x5e1f0a, seed))}
	var docs []string
	for _, p := range w.passages[Train] {
		tellings := append([]rendering{w.telling(p)}, w.retold[p.Title]...)
		for _, t := range tellings {
			docs = append(docs, t.passage.Title+"\n"+t.passage.Context)
		}
		if r.Float64() < m.SelfEditShare {
			docs = append(docs, edits.document(tellings[r.IntN(len(tellings))]))
		}
		for _, q := range p.Questions {
			docs = append(docs, knowledge.QAPrompt(p, q)+q.Answer)
		}
		if r.Float64() < m.InContextShare {
			q := p.Questions[r.IntN(len(p.Questions))]
			docs = append(docs, knowledge.InContextPrompt(p, q)+q.Answer)
		}
	}
	for _, p := range w.passages[Drill] {
		docs = append(docs, drillDocuments(r, edits, w.telling(p), m)...)
	}
	for i, fresh := range w.freshWorlds(int(math.Ceil(m.FreshWorlds))) {
		ps := fresh.passages
		if part := m.FreshWorlds - float64(i); part < 1 {
			ps = ps[:int(math.Round(part*float64(len(ps))))]
		}
		for _, p := range ps {
			docs = append(docs, drillDocuments(r, edits, fresh.world.telling(p), m)...)
		}
	}
	r.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
	if maxChars <= 0 {
		return docs
	}
	total := 0
	for i, d := range docs {
		if total+len(d) > maxChars {
			return docs[:i:i]
		}
		total += len(d)
	}
	return docs
}

// drillDocuments are a drill subject's documents: its self-edit document, then its
// in-context questions as m says.
func drillDocuments(r *rand.Rand, edits editWriter, t rendering, m Mix) []string {
	p := t.passage
	docs := []string{edits.document(t)}
	qs := drillQuestions(r, p.Questions, m.DrillInContext)
	if m.DrillTogether && len(qs) > 0 {
		return append(docs, inContextDocument(p, qs))
	}
	for _, q := range qs {
		docs = append(docs, knowledge.InContextPrompt(p, q)+q.Answer)
	}
	return docs
}

// freshSubjects are the passages of another world.
type freshSubjects struct {
	passages []knowledge.Passage
	world    *World
}

// freshWorlds generates n further worlds (w's sizes, other seeds), each one's names kept
// apart from w's and the earlier ones' (a name two worlds used would carry two sets of
// facts), and gives the passages of their train and drill splits.
func (w *World) freshWorlds(n int) []freshSubjects {
	taken := map[string]bool{}
	reserve := func(o *World) {
		for _, names := range o.names {
			for _, name := range names {
				taken[name] = true
			}
		}
	}
	reserve(w)
	var out []freshSubjects
	for k := 1; k <= n; k++ {
		cfg := w.cfg
		cfg.Seed = w.cfg.Seed + uint64(k)*0x9e3779b97f4a7c15
		o := generate(cfg, taken)
		reserve(o)
		out = append(out, freshSubjects{passages: append(o.passages[Train], o.passages[Drill]...), world: o})
	}
	return out
}

// SelfEditDocument is the self-edit prompt for p in the implications style followed by
// the implications as a numbered list and a blank line: the document that teaches the
// self-edit skill with the project's real prompt.
func SelfEditDocument(p knowledge.Passage, implications []string) string {
	var b strings.Builder
	b.WriteString(knowledge.SelfEditPrompt(knowledge.StyleImplications, p))
	b.WriteString(NumberedList(implications))
	b.WriteString("\n")
	return b.String()
}

// editWriter writes subjects' self-edit documents: in the implications style, or a share
// (Mix.SelfQAShare) in the self-qa style, drawn from its own random stream.
type editWriter struct {
	qaShare float64
	r       *rand.Rand
}

func (e editWriter) document(t rendering) string {
	if e.qaShare > 0 && e.r.Float64() < e.qaShare {
		return SelfQADocument(t.passage, selfQAPairs(e.r, t.facts))
	}
	return SelfEditDocument(t.passage, t.implications)
}

// telling is the passage's own rendering (not a retelling) with what the world wrote for it.
func (w *World) telling(p knowledge.Passage) rendering {
	return rendering{p, w.implics[p.Title], w.facts[p.Title]}
}

// SelfQADocument is the self-edit prompt for p in the self-qa style (which ends with the
// primed "Question 1: ") followed by qs as SelfQAList writes them and a blank line.
func SelfQADocument(p knowledge.Passage, qs []knowledge.Question) string {
	return knowledge.SelfEditPrompt(knowledge.StyleSelfQA, p) + SelfQAList(qs) + "\n"
}

// SelfQAList writes question and answer pairs as a self-qa edit continues its primed
// prompt: "q1\nAnswer: a1\nQuestion 2: q2\nAnswer: a2\n" (the prompt already wrote
// "Question 1: ").
func SelfQAList(qs []knowledge.Question) string {
	var b strings.Builder
	for i, q := range qs {
		if i > 0 {
			b.WriteString("Question " + strconv.Itoa(i+1) + ": ")
		}
		b.WriteString(q.Question + "\nAnswer: " + q.Answer + "\n")
	}
	return b.String()
}

// selfQAPairs asks every fact once, in a wording drawn at random from its wordings.
func selfQAPairs(r *rand.Rand, facts []fact) []knowledge.Question {
	out := make([]knowledge.Question, len(facts))
	for i, f := range facts {
		out[i] = knowledge.Question{Question: one(r, f.questions...), Answer: f.answer}
	}
	return out
}

// SelfQA is the world's self-qa edit of one of its passages (found by its title): every
// fact the passage states, asked once in one of the world's wordings and answered. The
// wordings are drawn from a stream seeded by the title, so the same passage always gets
// the same pairs. A title the world does not know gives nil.
func (w *World) SelfQA(p knowledge.Passage) []knowledge.Question {
	facts, ok := w.facts[p.Title]
	if !ok {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte(p.Title))
	return selfQAPairs(rand.New(rand.NewPCG(w.cfg.Seed, h.Sum64())), facts)
}

// NumberedList writes lines as "1. a\n2. b\n".
func NumberedList(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(". ")
		b.WriteString(l)
		b.WriteString("\n")
	}
	return b.String()
}

// WriteSQuAD writes passages as the SQuAD-format JSON array the engine reads
// (knowledge.LoadSQuAD): [{title, context, questions: [{question, answer}]}]. A passage
// that LoadSQuAD would reject (an empty title, context, question or answer) is an error
// and nothing is written; a passage without questions is written with an empty list.
func WriteSQuAD(path string, ps []knowledge.Passage) error {
	out := make([]knowledge.Passage, len(ps))
	for i, p := range ps {
		if err := p.Validate(); err != nil && !errors.Is(err, knowledge.ErrNoQuestions) {
			return fmt.Errorf("%s: passage %d (%q): %w", path, i, p.Title, err)
		}
		if p.Questions == nil {
			p.Questions = []knowledge.Question{}
		}
		out[i] = p
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// drillQuestions picks n of a drill passage's questions for in-context documents: one drawn
// at random for n = 1 (the draw DefaultMix's corpus has always made), n distinct ones in
// random order below the count, every one from it.
func drillQuestions(r *rand.Rand, qs []knowledge.Question, n int) []knowledge.Question {
	switch {
	case n <= 0 || len(qs) == 0:
		return nil
	case n == 1:
		return []knowledge.Question{qs[r.IntN(len(qs))]}
	case n >= len(qs):
		return qs
	}
	out := make([]knowledge.Question, n)
	for i, j := range r.Perm(len(qs))[:n] {
		out[i] = qs[j]
	}
	return out
}

// inContextDocument is knowledge.InContextPrompt for the first question and its answer, then
// for each further one a blank line, knowledge.QAPrompt and its answer: the passage read
// once for them all.
func inContextDocument(p knowledge.Passage, qs []knowledge.Question) string {
	var b strings.Builder
	b.WriteString(knowledge.InContextPrompt(p, qs[0]) + qs[0].Answer)
	for _, q := range qs[1:] {
		b.WriteString("\n\n" + knowledge.QAPrompt(p, q) + q.Answer)
	}
	return b.String()
}
