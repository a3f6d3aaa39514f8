package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"seal/engine"
	"seal/engine/arc"
	"seal/engine/redact"
	"seal/store"
	"seal/store/termsafe"
)

// startAndFollow opens the store, starts (or resumes) a run that Ctrl-C cancels
// cleanly, and follows it to the end; with --nats its inner loops go to workers.
func startAndFollow(cmd, db string, device *deviceFlag, nf *natsFlags, stdout, stderr io.Writer, start func(*engine.Engine, context.Context) (*engine.Run, error)) int {
	b, err := device.open(cmd, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return 2
	}
	d, err := openDB(db, true)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return 1
	}
	defer d.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := engine.New(d, b)
	coord, closeNATS, err := nf.coordinator(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return 1
	}
	defer closeNATS()
	if coord != nil {
		e.Executor = coord
	}
	r, err := start(e, ctx)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", cmd, termsafe.Line(redact.Secrets(err.Error())))
		return 1
	}
	return follow(r, d, stdout, stderr, followOptions{})
}

// followOptions are the progress line's clock and plain-line interval; the zero value
// is the wall clock and plainEvery (tests give their own).
type followOptions struct {
	now   func() time.Time
	every time.Duration
}

// follow writes a run's events as JSON lines on stdout and its progress on stderr: a
// line redrawn in place on a terminal, a plain line every few seconds elsewhere.
func follow(r *engine.Run, d *store.DB, stdout, stderr io.Writer, o followOptions) int {
	enc := json.NewEncoder(termsafe.JSONWriter(stdout)) // strings stay exact, C1 and bidi as \u escapes
	rp := runProgress{p: newProgressLine(stderr, "", o.now, o.every), spec: r.Spec, d: d}
	// The ticker redraws a quiet terminal line (its ETA moves) and writes a due plain line.
	tick := time.NewTicker(min(max(rp.p.every, redrawEvery), time.Second))
	defer tick.Stop()
	done := 0 // results committed while this process followed
	events := r.Events()
	for events != nil {
		var ev engine.Event
		select {
		case <-tick.C:
			rp.p.tick(false)
			continue
		case e, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			ev = e
		}
		b, _ := json.Marshal(ev)
		line := fmt.Sprintf(`{"type":%q`, ev.EventType())
		if len(b) > 2 {
			line += "," + string(b[1:])
		} else {
			line += "}"
		}
		enc.Encode(json.RawMessage(line))
		if _, ok := ev.(engine.Reward); ok {
			done++
		}
		rp.observe(ev, stderr, done)
	}
	rp.p.clear()
	if err := r.Wait(); err != nil {
		return 1
	}
	printMetrics(stderr, d, r.ID)
	return 0
}

// runProgress turns a run's events into its progress line: the candidates (or
// continual steps) done of the run's total, and where the run is.
type runProgress struct {
	p    *progressLine
	spec engine.RunSpec
	d    *store.DB
	n    int    // counted results
	noun string // the domain's word for a task
	at   engine.Where
	what string // what the run does now
	// tried counts the ARC oracle's configs tried on the task it searches, so its
	// training steps read "oracle config 3/12, step 5/8".
	tried   int
	triedAt engine.Where
}

// firstStep is where a branch's run goes on: the step after its version's, when that
// version is of the run's own kind (engine's runner starts there too).
func (rp *runProgress) firstStep() int {
	if rp.spec.FromVersion == 0 {
		return 0
	}
	e, err := rp.d.LedgerEntryByID(rp.spec.FromVersion)
	if err != nil {
		return 0 // the count is a display; the run itself reports store errors
	}
	kind := store.LedgerPolicy
	if rp.spec.Mode == "continual" {
		kind = store.LedgerContinual
	}
	if e.Kind == kind {
		return e.Step + 1
	}
	return 0
}

// observe folds one event into the line and writes the lines that always show (a
// round's summary, errors, the end), erasing the progress line first.
func (rp *runProgress) observe(ev engine.Event, stderr io.Writer, done int) {
	p := rp.p
	switch e := ev.(type) {
	case engine.RunStarted:
		rp.noun = engine.DomainInfoOf(rp.spec.Domain).Noun
		fmt.Fprintf(stderr, "run %d: %s (%d %ss)\n", e.Run, termsafe.Line(e.Name), e.Tasks, rp.noun)
		total, unit := engine.ProgressTotal(rp.spec, e.Tasks, rp.firstStep())
		p.unit = unit
		if e.Resumed {
			rp.n = rp.finished(e.Run)
		}
		p.begin(rp.n, total)
		rp.what = "starting"
	case engine.Token, engine.EditDone:
		rp.at, rp.what = whereOf(ev), "writing self-edits"
	case engine.TrainStep:
		rp.at, rp.what = e.Where, fmt.Sprintf("training (%s %d/%d)", e.Phase, e.Step, e.Steps)
		if e.Phase == "oracle" {
			if rp.triedAt != e.Where {
				rp.tried, rp.triedAt = 0, e.Where
			}
			rp.what = fmt.Sprintf("oracle (config %d/%d, step %d/%d)", rp.tried+1, len(arc.SearchSpace()), e.Step, e.Steps)
		}
		if e.Phase == "policy" { // the policy update is the round's, no task's
			rp.at.Task, rp.what = -1, fmt.Sprintf("policy update (step %d/%d)", e.Step, e.Steps)
		}
	case engine.EvalItem:
		rp.at, rp.what = e.Where, "answering ("+e.Phase+")"
	case engine.OracleTry:
		rp.at, rp.tried, rp.triedAt = e.Where, e.Try, e.Where
		rp.what = fmt.Sprintf("oracle (config %d/%d tried, %d/%d right)", e.Try, e.Of, e.Correct, e.Tests)
		if e.Cached {
			rp.what = fmt.Sprintf("oracle (cached: %d/%d right)", e.Correct, e.Tests)
		}
	case engine.Reward:
		rp.at = e.Where
		if engine.CountsTowardProgress(e.Kind) {
			rp.n++
		}
	case engine.NeedsReview:
		if e.Reason != "" { // the guard held a change: the run waits for a person's verdict on it
			p.clear()
			fmt.Fprintf(stderr, "candidate %d held by the guard (%s): waiting for a verdict\n", e.CandidateID, termsafe.Line(e.Reason))
			rp.what = "waiting for a verdict"
		}
	case engine.RoundDone:
		p.clear()
		fmt.Fprintf(stderr, "round %d done: mean reward %+.3f ± %.3f, %d edits kept\n", e.Round, e.MeanReward, e.StdReward, e.Kept)
	case engine.Workers:
		p.clear()
		fmt.Fprintln(stderr, workersLine(e))
	case engine.GuardVerdict:
		for _, w := range e.Warnings { // what the guard could not check is never silent
			p.clear()
			fmt.Fprintf(stderr, "guard (%s %d, %s): %s\n", e.Kind, e.Step, e.Verdict, w)
		}
	case engine.Error:
		p.clear()
		fmt.Fprintf(stderr, "error: %s\n", termsafe.Line(e.Message))
		return
	case engine.Finished:
		p.clear()
		fmt.Fprintf(stderr, "run %d %s (%d results committed)\n", e.Run, termsafe.Line(e.Status), done)
		p.started = false // nothing is drawn after the end
		return
	}
	p.set(rp.phase(), rp.n)
}

// phase says where the run is: round, task and what it does.
func (rp *runProgress) phase() string {
	var parts []string
	if rp.spec.Mode != "continual" && rp.spec.Mode != "cpt" && rp.spec.Rounds > 0 {
		parts = append(parts, fmt.Sprintf("round %d/%d", rp.at.Round+1, rp.spec.Rounds))
	}
	if rp.noun != "" && rp.p.total > 0 && rp.at.Task >= 0 {
		parts = append(parts, fmt.Sprintf("%s %d", rp.noun, rp.at.Task+1))
	}
	if rp.what != "" {
		parts = append(parts, termsafe.Line(rp.what))
	}
	return strings.Join(parts, " · ")
}

// finished counts a resumed run's results committed before this process.
func (rp *runProgress) finished(run int64) int {
	cs, err := rp.d.Candidates(run, false)
	if err != nil {
		return 0 // the count is a display; the run itself reports store errors
	}
	n := 0
	for _, c := range cs {
		if engine.CountsTowardProgress(c.Kind) {
			n++
		}
	}
	return n
}

// whereOf is the position of a token or edit event.
func whereOf(ev engine.Event) engine.Where {
	switch e := ev.(type) {
	case engine.Token:
		return e.Where
	case engine.EditDone:
		return e.Where
	}
	return engine.Where{}
}

func printMetrics(w io.Writer, d *store.DB, id int64) {
	ms, err := d.Metrics(id)
	if err != nil || len(ms) == 0 {
		return
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	fmt.Fprintf(w, "\n%-28s %s\n", "metric (macro over passages)", "value")
	for _, m := range ms {
		fmt.Fprintf(w, "%-28s %.3f\n", termsafe.Line(m.Name), m.Value)
	}
}
