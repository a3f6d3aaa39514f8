package ui

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"seal/engine"
	"seal/store"
)

// storeWithVerdicts is one finished run of two rounds on passage 0 whose verdicts
// disagree with the rewards twice: an approval of a negative reward and a rejection
// of a positive one.
func storeWithVerdicts(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	spec := engine.DefaultSpec()
	spec.Rounds, spec.ReviewGate = 2, true
	cfg, _ := json.Marshal(spec)
	run, err := db.CreateRun(store.Run{Name: "reviewed", Domain: "knowledge", Status: store.StatusDone, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		round, index int
		edit         string
		reward       float64
		verdict      string
		reason       string
	}{
		{0, 0, "The Veda Summer lasted four days.", -0.25, store.VerdictApprove, ""},
		{0, 1, "Kesa was born in 1880.", 0.5, store.VerdictReject, "copies the title"},
		{0, 2, "Unreviewed round zero edit.", 0, "", ""},
		{1, 0, "Kesa, born 1880 in Veostwick, wrote the Veda.", 0.75, store.VerdictApprove, ""},
		{1, 1, "Veostwick lies on the coast.", 0, store.VerdictReject, "off the topic"},
	} {
		cand := store.Candidate{RunID: run, Round: c.round, Index: c.index, Kind: store.KindSelfEdit, Edit: c.edit,
			Status: store.CandidateDone, Reward: c.reward, Sampling: []byte("{}")}
		id, err := db.SaveCandidate(&cand)
		if err != nil {
			t.Fatal(err)
		}
		if c.verdict != "" {
			if _, err := db.SaveReview(store.Review{CandidateID: id, Verdict: c.verdict, Reason: c.reason}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return db
}

func TestRunDetailShowsVerdictsAgainstRewards(t *testing.T) {
	text, err := runDetail(storeWithVerdicts(t), 1, 120)
	if err != nil {
		t.Fatal(err)
	}
	section, _, _ := strings.Cut(text[strings.Index(text, "verdicts against rewards"):], "\ncandidates")
	for _, want := range []string{
		"< 0               1        0      100%",
		"= 0               0        1        0%",
		"(0, 0.1]          0        0         –",
		"> 0.1             1        1       50%",
		"approved with a negative reward\n  #1 r0 p0 c0 reward -0.250\n    The Veda Summer lasted four days.",
		"rejected with a positive reward\n  #2 r0 p0 c1 reward +0.500  (copies the title)",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("the verdict table lacks %q:\n%s", want, section)
		}
	}
	if strings.Contains(section, "off the topic") {
		t.Errorf("a rejection of a zero reward is listed as a disagreement:\n%s", section)
	}
}

// t on the run's detail shows the passage's round-0 self-edits beside the last
// round's, with their rewards and verdicts, above the run's detail.
func TestDetailTaskViewShowsRoundOverRound(t *testing.T) {
	a := testApp(t, restemSpec(), &clock{t0})
	a.o.DB = storeWithVerdicts(t)
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	loaded(t, a, press(a, "h"))
	loaded(t, a, press(a, "enter"))
	loaded(t, a, press(a, "t"))
	view := a.View()
	for _, want := range []string{
		"passage 0: round 0 beside round 1",
		"c0 reward -0.250 approve",
		"c0 reward +0.750 approve",
		"The Veda Summer lasted four days.",
		"Kesa, born 1880 in Veostwick, wrote the Veda.",
	} {
		if !strings.Contains(view, want) {
			t.Errorf("the task view lacks %q:\n%s", want, view)
		}
	}
	for _, line := range strings.Split(view, "\n") {
		if strings.Contains(line, "The Veda Summer") && !strings.Contains(line, "Kesa, born 1880") {
			t.Errorf("round 0's edit is not beside round 1's: %q", line)
		}
	}
}

// Settings stored damaged are shown as unreadable, with the parser's error and the
// stored text, not as "null".
func TestRunDetailShowsUnreadableSettings(t *testing.T) {
	db := storeWithVerdicts(t)
	raw, err := sql.Open("sqlite3", db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE runs SET config = '{"k": 3' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	text, err := runDetail(db, 1, 120)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "the stored settings cannot be read: unexpected end of JSON input") || !strings.Contains(text, `{"k": 3`) ||
		strings.Contains(text, "config\nnull") {
		t.Errorf("damaged settings in the detail:\n%s", text)
	}
}

// A passage with no ReST-EM self-edits (a continual run's) says so; a run of one
// round shows round 0 and says there is nothing to compare yet.
func TestRoundOverRoundWithoutRounds(t *testing.T) {
	none := roundOverRoundSection(store.RoundOverRoundOf([]store.Candidate{{Kind: store.KindContinual, Edit: "x"}}, 0), nil, 80)
	if !strings.Contains(none, "no ReST-EM self-edits of this passage") {
		t.Errorf("continual passage:\n%s", none)
	}
	one := roundOverRoundSection(store.RoundOverRoundOf([]store.Candidate{{Kind: store.KindSelfEdit, Edit: "Kesa was born in 1880."}}, 0), nil, 80)
	if !strings.Contains(one, "one round of self-edits") || !strings.Contains(one, "Kesa was born in 1880.") {
		t.Errorf("one round:\n%s", one)
	}
}
