package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"seal/engine"
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
	return follow(r, d, stdout, stderr)
}

// follow writes a run's events as JSON lines and, on a terminal, a progress line.
func follow(r *engine.Run, d *store.DB, stdout, stderr io.Writer) int {
	enc := json.NewEncoder(termsafe.JSONWriter(stdout)) // strings stay exact, C1 and bidi as \u escapes
	tty := isTerminal(stderr)
	clear := "" // on a terminal, each line first erases the progress line
	if tty {
		clear = "\r\033[K"
	}
	done, total := 0, 0
	for ev := range r.Events() {
		b, _ := json.Marshal(ev)
		line := fmt.Sprintf(`{"type":%q`, ev.EventType())
		if len(b) > 2 {
			line += "," + string(b[1:])
		} else {
			line += "}"
		}
		enc.Encode(json.RawMessage(line))
		switch e := ev.(type) {
		case engine.RunStarted:
			total = e.Tasks
			fmt.Fprintf(stderr, "run %d: %s (%d passages)\n", e.Run, termsafe.Line(e.Name), e.Tasks)
		case engine.Reward:
			done++
			if tty {
				fmt.Fprintf(stderr, "%sround %d  passage %d/%d  candidate %d  %s  reward %+.3f (±%.3f)", clear, e.Round, e.Task+1, total, e.Cand, termsafe.Line(e.Kind), e.Reward, e.Std)
			}
		case engine.RoundDone:
			fmt.Fprintf(stderr, "%sround %d done: mean reward %+.3f ± %.3f, %d edits kept\n", clear, e.Round, e.MeanReward, e.StdReward, e.Kept)
		case engine.Workers:
			fmt.Fprintf(stderr, "%s%s\n", clear, workersLine(e))
		case engine.GuardVerdict:
			for _, w := range e.Warnings { // what the guard could not check is never silent
				fmt.Fprintf(stderr, "%sguard (%s %d, %s): %s\n", clear, e.Kind, e.Step, e.Verdict, w)
			}
		case engine.Error:
			fmt.Fprintf(stderr, "\nerror: %s\n", termsafe.Line(e.Message))
		case engine.Finished:
			fmt.Fprintf(stderr, "%srun %d %s (%d results committed)\n", clear, e.Run, termsafe.Line(e.Status), done)
		}
	}
	if err := r.Wait(); err != nil {
		return 1
	}
	printMetrics(stderr, d, r.ID)
	return 0
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
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
