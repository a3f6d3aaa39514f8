package ui

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"seal/engine"
	"seal/engine/knowledge/world"
	"seal/store"
)

// reviewSpec is the setting of the recording testdata/review-events.jsonl (seal run
// --passages 2 --k 2 --rounds 1 --repeats 2 --edit-tokens 64 --qa-tokens 8 --epochs 10,
// the embedded model on the default world's val split).
func reviewSpec() engine.RunSpec {
	s := engine.DefaultSpec()
	s.Tasks, s.K, s.Rounds, s.Repeats, s.EditTokens, s.QATokens, s.Inner.Epochs = 2, 2, 1, 2, 64, 8, 10
	return s
}

// recordedReview rebuilds from a recording what the store holds for a review: for
// each self-edit of passage task, its NeedsReview and its source (the passage from the
// world the run read, its questions in the order asked, and the candidates' graded
// answers and rewards from the events).
func recordedReview(t *testing.T, evs []engine.Event, task int) ([]engine.NeedsReview, map[int64]reviewSource) {
	t.Helper()
	cands := map[int]*store.Candidate{} // by slot: -3 base, -1 passage-only, 0.. self-edits
	qindex := map[string]int{}
	var questions []store.QA
	edits := map[int]string{}
	slot := func(cand int) *store.Candidate {
		if cands[cand] == nil {
			cands[cand] = &store.Candidate{RunID: 1, Task: task, Index: cand}
		}
		return cands[cand]
	}
	for _, ev := range evs {
		switch e := ev.(type) {
		case engine.EditDone:
			if e.Task == task {
				edits[e.Cand] = e.Edit
			}
		case engine.EvalItem:
			if e.Task != task || (e.Phase != "base" && e.Phase != "adapted" && e.Phase != "baseline_passage") {
				continue
			}
			q, ok := qindex[e.Question]
			if !ok {
				q = len(questions)
				qindex[e.Question] = q
				questions = append(questions, store.QA{Question: e.Question, Answer: e.Gold})
			}
			c := slot(e.Cand)
			c.Evals = append(c.Evals, store.EvalItem{Repeat: e.Repeat, Question: q, Text: e.Answer, Gold: e.Gold, Correct: e.Correct})
		case engine.Reward:
			if e.Task != task {
				continue
			}
			c := slot(e.Cand)
			c.ID, c.Kind, c.Status, c.BaseScore, c.AdaptedScore, c.Reward, c.RewardStd = e.CandidateID, e.Kind, e.Status, e.Base, e.Adapted, e.Reward, e.Std
			c.Repeats = 2
		}
	}
	st := store.Task{RunID: 1, Index: task, Questions: questions}
	for _, p := range world.Generate(world.DefaultConfig()).Passages(world.Val) {
		if len(p.Questions) > 0 && p.Questions[0].Question == questions[0].Question {
			st.Key, st.Title, st.Context = p.Title, p.Title, p.Context
		}
	}
	if st.Context == "" {
		t.Fatalf("the world has no passage asking %q: the recording is of another world version", questions[0].Question)
	}
	var nrs []engine.NeedsReview
	srcs := map[int64]reviewSource{}
	for i := 0; cands[i] != nil; i++ {
		c := *cands[i]
		c.Edit = edits[i]
		nrs = append(nrs, engine.NeedsReview{Where: engine.Where{Run: 1, Task: task, Cand: i}, CandidateID: c.ID, Edit: c.Edit, Reward: c.Reward})
		srcs[c.ID] = reviewSource{cand: c, task: st, base: cands[-3], passage: cands[-1]}
	}
	return nrs, srcs
}

// reviewingApp is the live view of the recording with passage 0's two self-edits
// waiting, their sources loaded, past the grace period.
func reviewingApp(t *testing.T, w, h int) (*App, *clock) {
	evs := readRecorded(t, "review-events.jsonl")
	nrs, srcs := recordedReview(t, evs, 0)
	last := 0
	for i, ev := range evs { // up to the reward of passage 0's last self-edit
		if r, ok := ev.(engine.Reward); ok && r.CandidateID == nrs[len(nrs)-1].CandidateID {
			last = i
		}
	}
	c := &clock{t0}
	a := liveApp(t, reviewSpec(), c, w, h)
	feed(a, evs[:last+1]...)
	for _, nr := range nrs {
		feed(a, nr)
		a.Update(sourceMsg{id: nr.CandidateID, src: srcs[nr.CandidateID]})
	}
	c.t = t0.Add(95 * time.Second)
	return a, c
}

// TestGoldenReviewBeside renders the review panel from the recording: the passage
// beside the self-edit, and under it each question before and after the update.
func TestGoldenReviewBeside(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		a, _ := reviewingApp(t, size[0], size[1])
		got := a.View()
		checkFits(t, "review beside", got, size[0], size[1])
		golden(t, "live-review-beside-"+sizeName(size), got)
	}
}

// The panel shows the passage text, the edit and what it did: the questions with a
// mark per repeat before and after, the reward's spread and the passage-only baseline.
func TestReviewShowsSourceAndEffect(t *testing.T) {
	a, _ := reviewingApp(t, 160, 48)
	got := a.View()
	for _, want := range []string{
		"The Veda Summer took place in Anbelby in 1867.", // the passage
		"what this edit did",
		"~ 2. The Veda Summer [happened] in [1917].", // grounding: the year the passage does not state
		"✓ 3. The Veda Summer was a revolt.",
		"grounding 0.73: 3 ✓ 3 ~ 0 ✗",
		"✗ → ✗ ✗  Q1 Where did the Veda Summer happen?",       // one mark before (no repeats), two after
		"✗ → ✓ ✓  Q4 How many days did the Veda Summer last?", // a question the edit taught
		"reward +0.200 ± 0.000 over 2 repeats",                // candidate 4
		"passage-only baseline +0.200 (score 0.200)",          // the baseline to beat
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the review panel lacks %q:\n%s", want, got)
		}
	}
	press(a, "]")
	got = a.View()
	if !strings.Contains(got, "reward +0.100 ± 0.141 over 2 repeats") || !strings.Contains(got, "2 of 2 waiting") {
		t.Errorf("] did not step to the second candidate:\n%s", got)
	}
}

// Stepping keeps each candidate's place: scrolled sides stay scrolled when the
// reviewer steps away and back, and a verdict goes to the candidate shown.
func TestReviewStepKeepsPlace(t *testing.T) {
	a, _ := reviewingApp(t, 80, 24)
	first, _ := a.live.rv.head()
	press(a, "j", "j", "J", "J") // the passage fits: only the edit side moves
	scrolled := a.View()
	press(a, "]")
	if it, _ := a.live.rv.head(); it.ID == first.ID {
		t.Fatal("] did not move to the next candidate")
	}
	press(a, "[")
	if got := a.View(); got != scrolled {
		t.Errorf("stepping back lost the place:\nwas\n%s\nnow\n%s", scrolled, got)
	}
	if sc := *a.live.scroll[first.ID]; sc != [2]int{0, 2} {
		t.Errorf("scroll of #%d is %v, want [0 2]", first.ID, sc)
	}
	press(a, "]", "a")
	if a.live.rv.staged == nil || a.live.rv.staged.item.ID == first.ID {
		t.Errorf("a approved %+v, want the second candidate", a.live.rv.staged)
	}
	if it, ok := a.live.rv.head(); !ok || it.ID != first.ID {
		t.Errorf("after the verdict the panel shows %+v, want #%d", it, first.ID)
	}
}

// v cycles both sides, the source alone and the edit alone.
func TestReviewSidesToggle(t *testing.T) {
	a, _ := reviewingApp(t, 80, 24)
	both := a.View()
	press(a, "v")
	src := a.View()
	press(a, "v")
	edit := a.View()
	press(a, "v")
	if a.View() != both {
		t.Error("three v's did not come back to both sides")
	}
	if !strings.Contains(src, "The Veda Summer") || strings.Contains(src, "what this edit did") {
		t.Errorf("source alone:\n%s", src)
	}
	if strings.Contains(edit, "source ·") || !strings.Contains(edit, "under review") {
		t.Errorf("edit alone:\n%s", edit)
	}
}

// A source that cannot be read says why in its place.
func TestReviewSourceErrorShown(t *testing.T) {
	c := &clock{t0}
	a := liveApp(t, reviewSpec(), c, 100, 30)
	feed(a, needsReview(11, 0))
	a.Update(sourceMsg{id: 11, err: errString("read candidate 11: no such candidate")})
	if got := a.View(); !strings.Contains(got, "source not loaded: read candidate 11") {
		t.Errorf("the error is not shown:\n%s", got)
	}
	var _ tea.Msg = sourceMsg{}
}

type errString string

func (e errString) Error() string { return string(e) }

// storeWithReview is a stored run with one passage, its baselines and a self-edit
// that learned one of its two questions.
func storeWithReview(t *testing.T) *store.DB {
	t.Helper()
	db := storeWithRuns(t) // runs 1 and 2, without tasks
	cfg, _ := json.Marshal(engine.DefaultSpec())
	id, err := db.CreateRun(store.Run{Name: "reviewed", Domain: "knowledge", Model: "/m/tiny", Status: store.StatusDone, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	task := store.Task{Index: 0, Key: "kesa", Title: "Kesa Orbra", Context: "Kesa Orbra was born in Veostwick in 1880.",
		Questions: []store.QA{{Question: "Where was Kesa Orbra born?", Answer: "Veostwick"}, {Question: "When was Kesa Orbra born?", Answer: "1880"}}}
	if err := db.SaveTasks(id, []store.Task{task}); err != nil {
		t.Fatal(err)
	}
	answers := func(q0, q1 []bool) []store.EvalItem { // one per repeat
		var out []store.EvalItem
		for r := range q0 {
			out = append(out, store.EvalItem{Repeat: r, Question: 0, Correct: q0[r]}, store.EvalItem{Repeat: r, Question: 1, Correct: q1[r]})
		}
		return out
	}
	for _, c := range []store.Candidate{
		{Index: -3, Kind: store.KindBaselineBase, Repeats: 1, Evals: answers([]bool{false}, []bool{false})},
		{Index: -1, Kind: store.KindBaselinePassage, Repeats: 2, AdaptedScore: 0.25, Reward: 0.25, Evals: answers([]bool{true, false}, []bool{false, false})},
		{Index: 0, Kind: store.KindSelfEdit, Edit: "Kesa Orbra was born in Veostwick.", Repeats: 2, AdaptedScore: 0.5, Reward: 0.5, Evals: answers([]bool{true, true}, []bool{false, false})},
	} {
		c.RunID, c.Status, c.Sampling = id, store.CandidateDone, []byte("{}")
		cid, err := db.SaveCandidate(&c)
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind == store.KindSelfEdit {
			if _, err := db.SaveReview(store.Review{CandidateID: cid, Verdict: store.VerdictReject, Reason: "says nothing new", Source: "human", At: t0}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return db
}

// The source of a stored candidate is its run's task and the baselines of its round
// and passage, read through one command.
func TestReadSourceFindsTheBaselines(t *testing.T) {
	db := storeWithReview(t)
	cands, err := db.Candidates(3, false)
	if err != nil {
		t.Fatal(err)
	}
	edit := cands[len(cands)-1]
	m := loadSource(db, 3, edit.ID, false)().(sourceMsg)
	if m.err != nil || m.src.base == nil || m.src.passage == nil {
		t.Fatalf("source of #%d: %+v", edit.ID, m)
	}
	got := m.src.effectText(80)
	for _, want := range []string{"✗ → ✓ ✓  Q1 Where was Kesa Orbra born?", "✗ → ✗ ✗  Q2 When was Kesa Orbra born?",
		"reward +0.500 ± 0.000 over 2 repeats", "passage-only baseline +0.250 (score 0.250): this edit beats it"} {
		if !strings.Contains(got, want) {
			t.Errorf("effect lacks %q:\n%s", want, got)
		}
	}
	if m := loadSource(db, 1, edit.ID, false)().(sourceMsg); m.err == nil || !strings.Contains(m.err.Error(), "belongs to run 3") {
		t.Errorf("a candidate of another run: %v", m.err)
	}
}

// Run detail: s shows the run's self-edits one at a time beside their passage; a run
// without stored tasks says so.
func TestDetailShowsASelfEditBesideItsSource(t *testing.T) {
	for _, w := range []int{120, 80} {
		a := testApp(t, restemSpec(), &clock{t0})
		a.o.DB = storeWithReview(t)
		a.Update(tea.WindowSizeMsg{Width: w, Height: 40})
		loaded(t, a, press(a, "h"))
		loaded(t, a, press(a, "enter")) // the newest run: 3
		if a.detail.run != 3 {
			t.Fatalf("detail of run %d, want 3", a.detail.run)
		}
		loaded(t, a, press(a, "s"))
		got := a.View()
		for _, want := range []string{"self-edit 1 of 1 beside its source", "Kesa Orbra was born in Veostwick in 1880.", "rejected: says nothing new", "✗ → ✓ ✓  Q1 Where was Kesa Orbra born?"} {
			if !strings.Contains(got, want) {
				t.Errorf("%d wide: detail lacks %q:\n%s", w, want, got)
			}
		}
	}
	a := testApp(t, restemSpec(), &clock{t0})
	a.o.DB = storeWithReview(t)
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	loaded(t, a, press(a, "h"))
	loaded(t, a, press(a, "j", "j", "enter")) // run 1: no tasks stored
	loaded(t, a, press(a, "s"))
	if got := a.View(); !strings.Contains(got, "has no task 0 stored") {
		t.Errorf("run %d without tasks:\n%s", a.detail.run, got)
	}
}

// An ARC candidate is reviewed beside its task's demonstrations, drawn as grids, and
// its questions are the task's tests.
func TestARCSourceIsTheDemonstrations(t *testing.T) {
	db := arcStore(t)
	text, _, err := candidateSource(db, 1, 0, 120)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"demo 0 input 2×2", "output 2×2", "1 2 ", "what this edit did", "test 0"} {
		if !strings.Contains(text, want) {
			t.Errorf("ARC source lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Input:") {
		t.Errorf("the demonstrations are shown as the prompt's text, not as grids:\n%s", text)
	}
}

// With colours on, a word the passage lacks is underlined in the warning colour, not
// bracketed; with them off (the goldens) it is bracketed.
func TestGroundingHighlightFollowsColours(t *testing.T) {
	src := reviewSource{task: store.Task{Title: "Veda Summer", Context: "The Veda Summer took place in 1867."}}
	plain := src.groundedEdit("1. The Veda Summer happened in 1917.", 80)
	if !strings.Contains(plain, "~ 1. The Veda Summer [happened] in [1917].") {
		t.Errorf("without colours:\n%s", plain)
	}
	withColours(t)
	coloured := src.groundedEdit("1. The Veda Summer happened in 1917.", 80)
	if strings.Contains(coloured, "[1917]") || !strings.Contains(coloured, styleNewWord.Render("1917")) || !strings.Contains(coloured, "\x1b[4") {
		t.Errorf("with colours the new words are not underlined: %q", coloured)
	}
}

// A new word is highlighted where it stands, not inside an earlier word that holds
// its letters: "car" after "carpet".
func TestGroundingHighlightsTheWordItself(t *testing.T) {
	src := reviewSource{task: store.Task{Title: "Rugs", Context: "The carpet was red."}}
	got := src.groundedEdit("The carpet, a car.", 80)
	if !strings.Contains(got, "The carpet, a [car].") {
		t.Errorf("the highlight is not on the word itself:\n%s", got)
	}
}

// The review panel fits every size exactly, the stacked and the column layouts and
// each side alone, and a tiny terminal does not panic.
func TestReviewPanelFits(t *testing.T) {
	for _, size := range [][2]int{{60, 16}, {99, 30}, {100, 30}, {200, 60}} {
		a, _ := reviewingApp(t, size[0], size[1])
		for range numLayouts {
			press(a, "J", "J", "J", "j")
			checkFits(t, fmt.Sprintf("review %dx%d layout %d", size[0], size[1], a.live.layout), a.View(), size[0], size[1])
			press(a, "v")
		}
	}
	for _, size := range [][2]int{{20, 6}, {8, 3}, {1, 1}} {
		a, _ := reviewingApp(t, size[0], size[1])
		_ = a.View()
	}
}
