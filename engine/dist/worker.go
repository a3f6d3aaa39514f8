package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"seal/engine"
	"seal/models/tensor"
)

// WorkerConfig sets up a worker.
type WorkerConfig struct {
	Name    string         // unique among the workers; reported in results and heartbeats
	Backend tensor.Backend // what it computes on; its name is reported as the worker's device
	Model   string         // a local model folder, checked by hash; empty: fetch the job's base model
	Cache   string         // where fetched models and adapters are kept
	Log     io.Writer
	// OnStart, if set, is called as a job starts (after its model is checked out).
	OnStart func(job engine.InnerJob, delivery uint64)
}

// Worker pulls jobs one at a time from the shared consumer and runs them.
type Worker struct {
	cfg   WorkerConfig
	nc    *nats.Conn
	js    jetstream.JetStream
	obs   jetstream.ObjectStore
	cache cache
	get   getter // downloads objects into the cache; a test wraps it to inject failures
	model *engine.JobModel

	mu       sync.Mutex
	jobs     int
	retried  int
	rejected int
	busy     bool
	started  time.Time
}

// NewWorker connects a worker; with cfg.Model set it loads and hashes that folder now.
func NewWorker(nc *nats.Conn, cfg WorkerConfig) (*Worker, error) {
	if cfg.Name == "" {
		return nil, fmt.Errorf("worker: no name")
	}
	if cfg.Backend == nil {
		return nil, fmt.Errorf("worker: no compute backend")
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		cfg.Cache = filepath.Join(base, "seal", "worker")
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	w := &Worker{cfg: cfg, nc: nc, js: js, cache: cache{dir: cfg.Cache}, started: time.Now()}
	w.get = func(ctx context.Context, prefix, dir string) error { return getFolder(ctx, w.obs, prefix, dir) }
	w.cache.sweepAll() // what workers killed mid-download left
	if cfg.Model != "" {
		if w.model, err = engine.OpenJobModel(cfg.Model, cfg.Backend); err != nil {
			return nil, err
		}
		fmt.Fprintf(cfg.Log, "worker %s: model %s is %s\n", cfg.Name, cfg.Model, w.model.Version())
	}
	return w, nil
}

// Close releases the model.
func (w *Worker) Close() {
	if w.model != nil {
		w.model.Close()
	}
}

// Run pulls and runs jobs until ctx ends. It waits for a coordinator to have created
// the workers' consumer.
func (w *Worker) Run(ctx context.Context) error {
	cons, err := w.consumer(ctx)
	if err != nil {
		return err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	ackWait, maxDeliver := info.Config.AckWait, uint64(info.Config.MaxDeliver)
	if w.obs, err = w.js.ObjectStore(ctx, ModelsBucket); err != nil {
		return fmt.Errorf("object store %s: %w", ModelsBucket, err)
	}
	go w.heartbeat(ctx)
	fmt.Fprintf(w.cfg.Log, "worker %s: pulling jobs (ack wait %v, %d deliveries)\n", w.cfg.Name, ackWait, maxDeliver)
	for ctx.Err() == nil {
		// A pull waits at most a few seconds for a job, and not at all once ctx ends.
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		batch, err := cons.Fetch(1, jetstream.FetchContext(fctx))
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(w.cfg.Log, "worker %s: fetch: %v\n", w.cfg.Name, err)
			time.Sleep(time.Second)
			continue
		}
		for m := range batch.Messages() {
			w.handle(ctx, m, ackWait, maxDeliver)
		}
		cancel()
	}
	return nil
}

func (w *Worker) consumer(ctx context.Context) (jetstream.Consumer, error) {
	said := false
	for {
		cons, err := w.js.Consumer(ctx, JobsStream, WorkersName)
		if err == nil {
			return cons, nil
		}
		if !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, fmt.Errorf("consumer %s: %w", WorkersName, err)
		}
		if !said {
			fmt.Fprintf(w.cfg.Log, "worker %s: waiting for a coordinator to create the job queue\n", w.cfg.Name)
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (w *Worker) heartbeat(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		w.mu.Lock()
		hb := heartbeat{WorkerInfo: engine.WorkerInfo{Name: w.cfg.Name, Device: w.cfg.Backend.Name(), Jobs: w.jobs, Busy: w.busy,
			JobsPerSec: float64(w.jobs) / time.Since(w.started).Seconds(), Retried: w.retried, Rejected: w.rejected}, Started: w.started}
		w.mu.Unlock()
		if b, err := json.Marshal(hb); err == nil {
			w.nc.Publish(heartbeats, b)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// permanent marks an error that no redelivery can mend: a job that fails validation,
// names another base model than the worker's own, or names content whose bytes hash
// to something else. Such a job is rejected at once: a dead letter, and its error is
// its result. Any other error (a download, the disk, the server) may mend on another
// try, so the job goes back to the queue.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// retryDelay is how long a failed job waits before its next delivery: one second,
// doubling with each delivery, at most half a minute.
func retryDelay(delivery uint64) time.Duration {
	return min(time.Second<<min(delivery-1, 5), 30*time.Second)
}

// handle runs one delivered job. The ack goes only after the result is stored by the
// server (PubAck), so a worker that dies at any point leaves the job to be redelivered.
func (w *Worker) handle(ctx context.Context, m jetstream.Msg, ackWait time.Duration, maxDeliver uint64) {
	meta, err := m.Metadata()
	if err != nil {
		m.TermWithReason("no JetStream metadata")
		return
	}
	var job engine.InnerJob
	if err := json.Unmarshal(m.Data(), &job); err != nil {
		w.failed(ctx, m, engine.InnerJob{}, permanent{fmt.Errorf("job is not valid JSON: %w", err)}, meta.NumDelivered, maxDeliver)
		return
	}
	w.setBusy(true)
	defer w.setBusy(false)
	// Progress reports keep the job ours while it runs longer than the ack wait.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(max(ackWait/3, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				m.InProgress()
			}
		}
	}()
	res, err := w.run(ctx, job, meta.NumDelivered)
	res.JobID, res.Worker, res.Device = job.ID, w.cfg.Name, w.cfg.Backend.Name()
	if err != nil {
		w.failed(ctx, m, job, err, meta.NumDelivered, maxDeliver)
		return
	}
	data, err := json.Marshal(res)
	if err != nil { // a NaN loss, say: the job ran but its result cannot travel
		w.failed(ctx, m, job, permanent{fmt.Errorf("result: %w", err)}, meta.NumDelivered, maxDeliver)
		return
	}
	if _, err := w.js.Publish(ctx, resultsSubject(job.Run), data, resultID(m)...); err != nil {
		fmt.Fprintf(w.cfg.Log, "worker %s: job %s: result not stored, will be redone: %v\n", w.cfg.Name, job.ID, err)
		m.Nak()
		return
	}
	if err := m.DoubleAck(ctx); err != nil {
		// The result is stored; a redelivery makes a duplicate the coordinator drops.
		fmt.Fprintf(w.cfg.Log, "worker %s: job %s: ack: %v\n", w.cfg.Name, job.ID, err)
	}
	w.mu.Lock()
	w.jobs++
	w.mu.Unlock()
	fmt.Fprintf(w.cfg.Log, "worker %s: job %s done in %v\n", w.cfg.Name, job.ID, res.Elapsed.Round(time.Millisecond))
}

// failed sorts a job's error by what can mend it: a permanent one, or any on the last
// delivery, makes the job a dead letter; any other sends it back to the queue, after a
// delay that grows with each delivery, for whichever worker is free then.
func (w *Worker) failed(ctx context.Context, m jetstream.Msg, job engine.InnerJob, err error, delivery, maxDeliver uint64) {
	var perm permanent
	switch {
	case ctx.Err() != nil:
		m.Nak() // shutting down: someone else takes it
	case errors.As(err, &perm):
		fmt.Fprintf(w.cfg.Log, "worker %s: job %s rejected (no other try can mend it): %v\n", w.cfg.Name, job.ID, err)
		w.count(&w.rejected)
		w.dead(ctx, m, job, fmt.Errorf("rejected: %w", err), delivery)
	case delivery >= maxDeliver:
		fmt.Fprintf(w.cfg.Log, "worker %s: job %s failed on its last delivery (%d of %d): %v\n", w.cfg.Name, job.ID, delivery, maxDeliver, err)
		w.count(&w.rejected)
		w.dead(ctx, m, job, fmt.Errorf("failed on all %d deliveries, the last: %w", delivery, err), delivery)
	default:
		d := retryDelay(delivery)
		fmt.Fprintf(w.cfg.Log, "worker %s: job %s failed (delivery %d of %d), retrying in %v on any worker: %v\n", w.cfg.Name, job.ID, delivery, maxDeliver, d, err)
		w.count(&w.retried)
		m.NakWithDelay(d)
	}
}

func (w *Worker) count(n *int) {
	w.mu.Lock()
	*n++
	w.mu.Unlock()
}

func (w *Worker) setBusy(b bool) {
	w.mu.Lock()
	w.busy = b
	w.mu.Unlock()
}

// run checks the job and its model out, then runs it.
func (w *Worker) run(ctx context.Context, job engine.InnerJob, delivery uint64) (engine.InnerResult, error) {
	if err := job.Validate(); err != nil {
		return engine.InnerResult{}, permanent{err}
	}
	if err := w.checkout(ctx, job.Model); err != nil {
		return engine.InnerResult{}, err
	}
	if w.cfg.OnStart != nil {
		w.cfg.OnStart(job, delivery)
	}
	return w.model.Run(ctx, job, w.sender(job.Run))
}

// sender forwards a job's live events to the coordinator: every graded answer, and
// training steps at most about 30 a second (the last step of an update always).
func (w *Worker) sender(run int64) func(engine.Event) {
	var last time.Time
	subject := eventsSubject(run)
	return func(ev engine.Event) {
		if st, ok := ev.(engine.TrainStep); ok {
			if time.Since(last) < 33*time.Millisecond && st.Step != st.Steps {
				return
			}
			last = time.Now()
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return // a NaN loss: the step is not shown, the result says the rest
		}
		w.nc.Publish(subject, mustJSON(wireEvent{Type: ev.EventType(), Event: b}))
	}
}

// checkout brings the worker's model to version v: the base must hash to v.Base (a
// local folder, or one fetched by hash), and each adapter is fetched and checked by
// its hash before it is merged. Errors are sorted as permanent says.
func (w *Worker) checkout(ctx context.Context, v engine.ModelVersion) error {
	if w.model == nil || w.model.Version().Base != v.Base {
		if w.cfg.Model != "" {
			return permanent{fmt.Errorf("job wants base model %s, this worker's %s is %s", v.Base, w.cfg.Model, w.model.Version().Base)}
		}
		dir, err := fetchModel(ctx, w.cache, w.get, v.Base)
		if err != nil {
			return err
		}
		m, err := engine.OpenJobModel(dir, w.cfg.Backend)
		if err != nil {
			return loadErr(err)
		}
		if w.model != nil {
			w.model.Close()
		}
		w.model = m
	}
	var fetchErr error
	err := w.model.Checkout(v, func(h string) (string, error) {
		dir, err := fetchAdapter(ctx, w.cache, w.get, h)
		fetchErr = err
		return dir, err
	})
	if err != nil && fetchErr == nil {
		return loadErr(err) // not the fetch: merging content that hashed right
	}
	return err
}

// loadErr sorts an error from loading content that hashed right: its bytes are the
// ones the job names, so another try cannot mend them, unless the file system failed.
func loadErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return permanent{err}
}

// dead terminates a job for good: a dead letter with the error, and an error result so
// the coordinator's batch ends instead of waiting.
func (w *Worker) dead(ctx context.Context, m jetstream.Msg, job engine.InnerJob, cause error, deliveries uint64) {
	run := job.Run
	if err := publishDead(ctx, w.js, run, deadLetter{JobID: job.ID, Job: m.Data(), Error: cause.Error(), Deliveries: deliveries, Worker: w.cfg.Name, At: time.Now()}); err != nil {
		fmt.Fprintf(w.cfg.Log, "worker %s: dead letter for %s not stored: %v\n", w.cfg.Name, job.ID, err)
		m.Nak()
		return
	}
	if job.ID != "" {
		res := engine.InnerResult{JobID: job.ID, Worker: w.cfg.Name, Device: w.cfg.Backend.Name(), Err: cause.Error()}
		if _, err := w.js.Publish(ctx, resultsSubject(run), mustJSON(res), resultID(m)...); err != nil {
			fmt.Fprintf(w.cfg.Log, "worker %s: error result for %s not stored: %v\n", w.cfg.Name, job.ID, err)
		}
	}
	m.TermWithReason(cause.Error())
}

// resultID names a result by the job message it answers (the coordinator's message ID,
// one per dispatch), so that when a slow worker and the one the job was redelivered to
// both finish, the results stream keeps the first and drops the second within its
// duplicate window. A job dispatched again (a resumed run) has a new message ID and so
// a result of its own.
func resultID(m jetstream.Msg) []jetstream.PublishOpt {
	if h := m.Headers(); h != nil {
		if id := h.Get(jetstream.MsgIDHeader); id != "" {
			return []jetstream.PublishOpt{jetstream.WithMsgID("result-" + id)}
		}
	}
	return nil
}
