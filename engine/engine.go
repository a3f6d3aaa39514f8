package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"seal/engine/redact"
	"seal/models/tensor"
	"seal/store"
)

// Engine starts and resumes runs; every finished candidate is committed to the store
// before the next one starts.
type Engine struct {
	DB *store.DB
	// Dir holds adapters saved by runs (policy updates, continual steps), by run id.
	// It belongs to one database: two databases never share it (AdapterDir).
	Dir string
	// Executor runs the inner loops of self-edits and baselines; nil runs them
	// in-process on the run's own model.
	Executor Executor
	// LeaseTTL is how long a run's owner lease holds without a heartbeat; the runner
	// renews it every LeaseTTL/4. A run whose lease lapsed reads as interrupted and can
	// be resumed by another process.
	LeaseTTL time.Duration
	// Backend is where every model of the engine computes; the caller chooses it
	// (tensor.Open), the engine never builds one.
	Backend tensor.Backend
}

// DefaultLeaseTTL is the owner lease's length unless $SEAL_LEASE_TTL (a Go duration,
// e.g. "2s") says otherwise.
const DefaultLeaseTTL = 20 * time.Second

func leaseTTL() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("SEAL_LEASE_TTL")); err == nil && d > 0 {
		return d
	}
	return DefaultLeaseTTL
}

// New makes an engine over a store that computes on b; adapters go in the database's
// own folder beside it (AdapterDir).
func New(db *store.DB, b tensor.Backend) *Engine {
	return &Engine{DB: db, Dir: AdapterDir(db.Path()), LeaseTTL: leaseTTL(), Backend: b}
}

// AdapterDir is the folder of a database's saved adapters: "<db file>.adapters", so
// two databases in one folder never share (and overwrite) run 1's adapters. It is
// absolute, since the store records adapter paths and a run may be resumed from any
// folder. Runs saved before used "adapters" beside the database; their recorded paths
// are read as stored.
func AdapterDir(dbPath string) string {
	if abs, err := filepath.Abs(dbPath); err == nil {
		dbPath = abs
	}
	return dbPath + ".adapters"
}

// Run is a started run: its events, and the controls a person has over it.
type Run struct {
	ID     int64
	Spec   RunSpec
	events chan Event
	cancel context.CancelFunc
	done   chan struct{}
	err    error

	mu      sync.Mutex
	paused  bool
	resume  chan struct{}
	reviews chan review
}

type review struct {
	store.Review
	reply chan error
}

// Events delivers the run's events; the channel closes after Finished. Token and
// training-step events are dropped when the reader falls behind; the others always
// arrive.
func (r *Run) Events() <-chan Event { return r.events }

// Wait blocks until the run ends and returns its error, if any.
func (r *Run) Wait() error {
	<-r.done
	return r.err
}

// Cancel stops the run; what was committed stays, and it can be resumed.
func (r *Run) Cancel() { r.cancel() }

// Pause holds the run at the next candidate boundary; Resume lets it go on.
func (r *Run) Pause() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.paused {
		r.paused = true
		r.resume = make(chan struct{})
	}
}

func (r *Run) Resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused {
		r.paused = false
		close(r.resume)
	}
}

// Review records a person's verdict on a candidate ("approve" or "reject", a reject
// needs a reason; edited is the text of an edit-then-approve). It is data: stored
// beside the reward, and it changes what ReST-EM trains on.
func (r *Run) Review(candidateID int64, verdict, reason, edited string) error {
	if verdict != "approve" && verdict != "reject" {
		return fmt.Errorf("verdict %q is not approve or reject", verdict)
	}
	if verdict == "reject" && reason == "" {
		return fmt.Errorf("a rejection needs a reason")
	}
	rv := review{Review: store.Review{CandidateID: candidateID, Verdict: verdict, Reason: reason, Source: "human", Edited: edited, At: time.Now()}, reply: make(chan error, 1)}
	select {
	case r.reviews <- rv:
		return <-rv.reply
	case <-r.done:
		return fmt.Errorf("run %d has ended", r.ID)
	}
}

// Start creates a run in the store and runs it in the background.
func (e *Engine) Start(ctx context.Context, spec RunSpec) (*Run, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := e.recordDevice(&spec); err != nil {
		return nil, err
	}
	// Paths are stored absolute so `seal resume` works from any folder.
	for _, p := range []*string{&spec.Model, &spec.Data, &spec.Solutions, &spec.Guard.ProbeData} {
		if abs, err := filepath.Abs(*p); err == nil && *p != "" {
			*p = abs
		}
	}
	var err error
	if spec.InputHashes, err = hashInputs(spec); err != nil { // inputs.go
		return nil, err
	}
	if spec.Name == "" {
		spec.Name = fmt.Sprintf("%s %s %s", spec.Mode, filepath.Base(spec.Model), time.Now().Format("2006-01-02 15:04"))
	}
	cfg, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	return e.create(ctx, store.Run{Name: spec.Name, Domain: spec.Domain, Model: spec.Model, Config: cfg}, spec)
}

// create stores a new run, owned by this process, and runs it in the background.
func (e *Engine) create(ctx context.Context, rec store.Run, spec RunSpec) (*Run, error) {
	rec.Status = store.StatusRunning
	id, err := e.DB.CreateRun(rec)
	if err != nil {
		return nil, err
	}
	owner := store.NewOwner()
	if err := e.DB.ClaimRun(id, owner, e.ttl()); err != nil {
		return nil, err
	}
	return e.launch(ctx, id, spec, owner, false), nil
}

func (e *Engine) ttl() time.Duration {
	if e.LeaseTTL > 0 {
		return e.LeaseTTL
	}
	return DefaultLeaseTTL
}

// recordDevice writes the engine's backend into the spec that is stored with a run.
func (e *Engine) recordDevice(spec *RunSpec) error {
	if e.Backend == nil {
		return fmt.Errorf("engine: no compute backend given")
	}
	spec.Device = e.Backend.Name()
	return nil
}

// storedSpec reads a run's record and the settings it was started with.
func (e *Engine) storedSpec(id int64) (store.Run, RunSpec, error) {
	var spec RunSpec
	rec, err := e.DB.Run(id)
	if err != nil {
		return rec, spec, err
	}
	if err := json.Unmarshal(rec.Config, &spec); err != nil {
		return rec, spec, fmt.Errorf("run %d: stored config: %w", id, err)
	}
	return rec, spec, nil
}

// Resume continues a stored run: committed candidates are kept and skipped, the policy
// is rebuilt from the updates saved by finished rounds.
func (e *Engine) Resume(ctx context.Context, id int64) (*Run, error) {
	rec, spec, err := e.storedSpec(id)
	if err != nil {
		return nil, err
	}
	if rec.Status == store.StatusDone {
		return nil, fmt.Errorf("run %d is already done", id)
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("run %d: %w", id, err)
	}
	// The claim refuses a run that a live process still executes, and makes this
	// process the owner of an interrupted one.
	owner := store.NewOwner()
	if err := e.DB.ClaimRun(id, owner, e.ttl()); err != nil {
		return nil, err
	}
	return e.launch(ctx, id, spec, owner, true), nil
}

func (e *Engine) launch(ctx context.Context, id int64, spec RunSpec, owner store.Owner, resumed bool) *Run {
	ctx, cancel := context.WithCancelCause(ctx)
	r := &Run{ID: id, Spec: spec, events: make(chan Event, 1024), cancel: func() { cancel(context.Canceled) }, done: make(chan struct{}), reviews: make(chan review)}
	go func() {
		defer close(r.done)
		defer close(r.events)
		defer cancel(nil)
		beat := e.heartbeat(ctx, id, owner, cancel)
		x := &runner{e: e, r: r, ctx: ctx, spec: spec, resumed: resumed}
		err := redact.Error(x.run()) // no secret goes into runs.error, the Error event or Wait
		cancel(nil)
		<-beat
		if cause := context.Cause(ctx); errors.Is(cause, store.ErrLeaseLost) && !errors.Is(err, store.ErrLeaseLost) {
			err = cause
		}
		status := store.StatusDone
		msg := ""
		switch {
		case errors.Is(err, store.ErrLeaseLost):
			// Another process took the run over: its results and status are its own.
			// Nothing more is written here, not even a status.
			r.err = fmt.Errorf("run %d: stopped without writing: %w", id, err)
			r.send(Error{Run: id, Message: r.err.Error()})
			r.send(Finished{Run: id, Status: store.StatusInterrupted})
			return
		case errors.Is(err, context.Canceled):
			status = store.StatusCancelled
		case err != nil:
			status, msg = store.StatusFailed, err.Error()
			r.send(Error{Run: id, Message: msg})
		}
		if serr := e.DB.SetRunStatus(id, status, msg); serr != nil && err == nil {
			err = serr
		}
		r.err = err
		r.send(Finished{Run: id, Status: status})
	}()
	return r
}

// heartbeat renews the run's lease until ctx ends; when another process has taken the
// run over it cancels the run with store.ErrLeaseLost. The channel closes when it stops.
func (e *Engine) heartbeat(ctx context.Context, id int64, owner store.Owner, cancel context.CancelCauseFunc) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(e.ttl() / 4)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := e.DB.Heartbeat(id, owner, e.ttl()); errors.Is(err, store.ErrLeaseLost) {
					cancel(err)
					return
				}
				// Other errors (a busy file) are retried at the next beat; the lease
				// is long enough to miss a few.
			}
		}
	}()
	return done
}

// send delivers an event; streams that may be coalesced are dropped when the reader is
// behind, so engine work never waits on a slow UI.
func (r *Run) send(ev Event) {
	switch ev.(type) {
	case Token, TrainStep, Workers:
		select {
		case r.events <- ev:
		default:
		}
	default:
		r.events <- ev
	}
}

// adapterDir is where a run keeps a saved adapter.
func (e *Engine) adapterDir(run int64, name string) string {
	return filepath.Join(e.Dir, fmt.Sprint(run), name)
}
