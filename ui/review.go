package ui

import (
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"seal/engine"
)

// The review gate, shaped after crush's permission dialogs: single keys, and a grace
// period after a prompt appears during which keys are ignored, so a key typed for
// something else a moment earlier cannot approve anything. A verdict waits out an
// undo window before it is sent; after that, undo asks again and the new verdict is
// stored as a follow-up (the store keeps every review, the latest counts).

type reviewItem struct {
	engine.Where
	ID       int64
	Edit     string
	Reward   float64
	Reason   string // why the guard held the change ("" for the review gate's routine ask)
	FollowUp bool   // asked again after a verdict was sent
}

type verdict struct {
	item                    reviewItem
	verdict, reason, edited string
	seq                     int
}

type reviewer struct {
	queue   []reviewItem
	cur     int       // the candidate shown, an index into queue (next/previous move it)
	shownAt time.Time // when the head of the queue appeared
	staged  *verdict  // within its undo window
	sent    []verdict // sent, newest last
	seq     int
	note    string // the last outcome, shown on the prompt line
}

// Messages of the review flow.
type (
	graceOverMsg   struct{}
	sendVerdictMsg struct{ seq int }
	verdictSentMsg struct {
		v   verdict
		err error
	}
)

// add queues a candidate; a new head starts its grace period.
func (rv *reviewer) add(it reviewItem, now time.Time, grace time.Duration) tea.Cmd {
	for _, q := range rv.queue {
		if q.ID == it.ID {
			return nil
		}
	}
	rv.queue = append(rv.queue, it)
	if len(rv.queue) == 1 {
		return rv.show(now, grace)
	}
	return nil
}

func (rv *reviewer) show(now time.Time, grace time.Duration) tea.Cmd {
	rv.shownAt = now
	return tea.Tick(grace, func(time.Time) tea.Msg { return graceOverMsg{} })
}

// head is the candidate the prompt asks about, if any: the one the cursor is on.
func (rv *reviewer) head() (reviewItem, bool) {
	if len(rv.queue) == 0 {
		return reviewItem{}, false
	}
	rv.cur = max(0, min(rv.cur, len(rv.queue)-1))
	return rv.queue[rv.cur], true
}

// step moves the cursor to the next (d=1) or previous (d=-1) waiting candidate,
// round the queue. A person's own step opens no grace period: the key that follows
// is meant for what it shows.
func (rv *reviewer) step(d int) bool {
	if len(rv.queue) < 2 {
		return false
	}
	rv.cur = (rv.cur + d + len(rv.queue)) % len(rv.queue)
	return true
}

// open says whether the prompt accepts keys now.
func (rv *reviewer) open(now time.Time, grace time.Duration) bool {
	return len(rv.queue) > 0 && !now.Before(rv.shownAt.Add(grace))
}

// decide stages a verdict on the head; an earlier staged verdict is sent at once.
func (rv *reviewer) decide(v, reason, edited string, now time.Time, grace, undo time.Duration, send func(verdict) tea.Cmd) tea.Cmd {
	it, ok := rv.head()
	if !ok {
		return nil
	}
	var cmds []tea.Cmd
	if rv.staged != nil {
		cmds = append(cmds, send(*rv.staged))
	}
	rv.seq++
	rv.staged = &verdict{item: it, verdict: v, reason: reason, edited: edited, seq: rv.seq}
	rv.note = ""
	rv.queue = append(rv.queue[:rv.cur:rv.cur], rv.queue[rv.cur+1:]...)
	if len(rv.queue) > 0 {
		cmds = append(cmds, rv.show(now, grace))
	}
	seq := rv.seq
	cmds = append(cmds, tea.Tick(undo, func(time.Time) tea.Msg { return sendVerdictMsg{seq} }))
	return tea.Batch(cmds...)
}

// undo takes back the staged verdict, or asks again about the last one sent.
func (rv *reviewer) undo(now time.Time, grace time.Duration) tea.Cmd {
	var it reviewItem
	switch {
	case rv.staged != nil:
		it = rv.staged.item
		rv.staged = nil
		rv.note = fmt.Sprintf("verdict on #%d taken back", it.ID)
	case len(rv.sent) > 0:
		it = rv.sent[len(rv.sent)-1].item
		it.FollowUp = true
		rv.sent = rv.sent[:len(rv.sent)-1]
		rv.note = fmt.Sprintf("#%d: give a new verdict", it.ID)
	default:
		rv.note = "nothing to undo"
		return nil
	}
	rv.queue, rv.cur = append([]reviewItem{it}, rv.queue...), 0
	return rv.show(now, grace)
}

// due returns the staged verdict when its undo window (tick seq) has passed.
func (rv *reviewer) due(seq int) (verdict, bool) {
	if rv.staged == nil || rv.staged.seq != seq {
		return verdict{}, false
	}
	v := *rv.staged
	rv.staged = nil
	return v, true
}

func (rv *reviewer) sentDone(m verdictSentMsg) {
	if m.err != nil {
		rv.note = fmt.Sprintf("verdict on #%d not recorded: %v", m.v.item.ID, m.err)
		rv.queue, rv.cur = append([]reviewItem{m.v.item}, rv.queue...), 0
		return
	}
	rv.sent = append(rv.sent, m.v)
	rv.note = fmt.Sprintf("%s #%d recorded", pastTense(m.v.verdict), m.v.item.ID)
}

func pastTense(v string) string {
	if v == "reject" {
		return "rejected"
	}
	return "approved"
}
