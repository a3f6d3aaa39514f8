package ui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"seal/engine"
)

// ReadEvents reads the JSON lines `seal run` writes back into engine events, so a
// recorded run can be shown in the live view again (the golden renders use this).
// Blank lines are skipped; anything else that is not a known event is an error that
// names the line.
func ReadEvents(r io.Reader) ([]engine.Event, error) {
	var out []engine.Event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		ev, err := decodeEvent(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, ev)
	}
	return out, sc.Err()
}

// ReplayLive draws the live view of a run with spec after its recorded events, in w×h
// cells, as it stood at now, with its status line (its help bar is the app's): a
// recorded run seen again.
func ReplayLive(spec engine.RunSpec, evs []engine.Event, now time.Time, w, h int) string {
	v := newLiveView()
	v.now = func() time.Time { return now }
	v.st = newLiveState(spec, now)
	for _, ev := range evs {
		v.st.apply(ev)
	}
	return v.render(w, h, statusLine(v.st, w, now, "cpu", 0))
}

// decodeEvent turns one JSON line with a "type" field into its event value.
func decodeEvent(line []byte) (engine.Event, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		return nil, fmt.Errorf("not a JSON event: %v", err)
	}
	var ev engine.Event
	var err error
	switch head.Type {
	case "run_started":
		ev, err = decodeAs[engine.RunStarted](line)
	case "token":
		ev, err = decodeAs[engine.Token](line)
	case "edit_done":
		ev, err = decodeAs[engine.EditDone](line)
	case "train_step":
		ev, err = decodeAs[engine.TrainStep](line)
	case "eval_item":
		ev, err = decodeAs[engine.EvalItem](line)
	case "reward":
		ev, err = decodeAs[engine.Reward](line)
	case "needs_review":
		ev, err = decodeAs[engine.NeedsReview](line)
	case "reviewed":
		ev, err = decodeAs[engine.Reviewed](line)
	case "round_done":
		ev, err = decodeAs[engine.RoundDone](line)
	case "retention":
		ev, err = decodeAs[engine.RetentionPoint](line)
	case "metric":
		ev, err = decodeAs[engine.Metric](line)
	case "status":
		ev, err = decodeAs[engine.Status](line)
	case "error":
		ev, err = decodeAs[engine.Error](line)
	case "guard_verdict":
		ev, err = decodeAs[engine.GuardVerdict](line)
	case "version_committed":
		ev, err = decodeAs[engine.VersionCommitted](line)
	case "workers":
		ev, err = decodeAs[engine.Workers](line)
	case "finished":
		ev, err = decodeAs[engine.Finished](line)
	case "oracle_try":
		ev, err = decodeAs[engine.OracleTry](line)
	case "":
		return nil, fmt.Errorf("no \"type\" field")
	default:
		return nil, fmt.Errorf("unknown event type %q", head.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s event: %v", head.Type, err)
	}
	return ev, nil
}

func decodeAs[T engine.Event](line []byte) (engine.Event, error) {
	var v T
	err := json.Unmarshal(line, &v)
	return v, err
}
