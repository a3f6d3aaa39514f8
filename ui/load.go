package ui

import (
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"seal/store"
)

// Every read of the store happens in a command, off the UI goroutine: its message
// carries the data or the error, and the screen it is for shows either (an error in
// its status line, never dropped).

// runsMsg is the history's list of runs.
type runsMsg struct {
	runs []store.RunSummary
	err  error
}

// loadRuns reads the runs that match a filter ("status:done model:tiny"). A model
// filter matches the folder's name as well as its full path.
func loadRuns(db *store.DB, filter string) tea.Cmd {
	return func() tea.Msg {
		f, err := parseFilter(filter)
		if err != nil {
			return runsMsg{err: err}
		}
		model := f.Model
		f.Model = ""
		all, err := db.Runs(f)
		if err != nil {
			return runsMsg{err: err}
		}
		runs := []store.RunSummary{}
		for _, r := range all {
			if model == "" || r.Model == model || strings.Contains(r.Model, model) {
				runs = append(runs, r)
			}
		}
		return runsMsg{runs: runs}
	}
}

// detailMsg is one run in full, as text w cells wide.
type detailMsg struct {
	id   int64
	text string
	err  error
}

func loadDetail(db *store.DB, id int64, w int) tea.Cmd {
	return func() tea.Msg {
		text, err := runDetail(db, id, w)
		return detailMsg{id: id, text: text, err: err}
	}
}

// versionsMsg is the version tree of a run's family.
type versionsMsg struct {
	v   versionsView
	err error
}

func loadVersionTree(db *store.DB, run int64) tea.Cmd {
	return func() tea.Msg {
		v, err := loadVersions(db, run)
		return versionsMsg{v: v, err: err}
	}
}

// compareMsg is two or more runs side by side.
type compareMsg struct {
	cv  compareView
	err error
}

func loadComparison(db *store.DB, ids []int64, paired pairFunc) tea.Cmd {
	return func() tea.Msg {
		cv, err := loadCompare(db, ids, paired)
		return compareMsg{cv: cv, err: err}
	}
}

// whatIfLoadedMsg is a stored run rebuilt for a what-if on one passage: its live
// state, the passage's best self-edit of the last round and, when the editor is not
// opened yet, the passage's round-over-round view and the run's detail to show
// under the passage's name.
type whatIfLoadedMsg struct {
	run  int64
	task int // wrapped to the run's passages
	open bool
	st   *liveState
	edit string
	text string
	err  error
}

func loadWhatIf(db *store.DB, run int64, task int, open bool, w int, now time.Time) tea.Cmd {
	return func() tea.Msg {
		m := whatIfLoadedMsg{run: run, open: open}
		m.st, m.err = storedState(db, run, now)
		if m.err != nil {
			return m
		}
		m.task = task % max(1, m.st.tasks)
		cands, err := db.Candidates(run, false)
		if err != nil {
			m.err = err
			return m
		}
		m.edit = bestEdit(cands, m.task)
		if !open {
			m.text, m.err = passageDetail(db, run, m.task, cands, w)
		}
		return m
	}
}

// passageDetail is the run's detail under one passage's round-over-round view.
func passageDetail(db *store.DB, run int64, task int, cands []store.Candidate, w int) (string, error) {
	reviews, err := db.LatestReviews(run)
	if err != nil {
		return "", err
	}
	text, err := runDetail(db, run, w)
	if err != nil {
		return "", err
	}
	return roundOverRoundSection(store.RoundOverRoundOf(cands, task), reviews, w) + "\n" + text, nil
}
