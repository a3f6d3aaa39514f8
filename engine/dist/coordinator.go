package dist

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"seal/engine"
)

// Coordinator is an engine.Executor that sends inner-loop jobs to workers over
// JetStream and collects their results. Each job's first result counts; later ones
// (a job delivered twice) are counted in Duplicates and dropped.
type Coordinator struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	obs     jetstream.ObjectStore
	cfg     Config
	session string // with batches, makes message ids unique per publication: a job sent again (a resumed run) is not dropped as a duplicate
	// Every is how often a Workers event is sent while a batch runs.
	Every time.Duration
	// KeepModel leaves the base model out of the object store: every worker then needs
	// its own copy (--model), which saves uploading a large model once.
	KeepModel bool

	mu         sync.Mutex
	pending    map[string]*pendingJob // by job id
	bySeq      map[uint64]string      // jobs stream sequence -> job id, for dead letters
	workers    map[string]heartbeat
	duplicates int
	batches    int
	subs       []*nats.Subscription
	consumers  map[int64]jetstream.ConsumeContext
}

type pendingJob struct {
	job  engine.InnerJob
	data []byte
	res  *engine.InnerResult
	done chan struct{}
}

// heartbeat is what a worker says about itself every second.
type heartbeat struct {
	engine.WorkerInfo
	Started time.Time `json:"started"`
	seen    time.Time
}

// NewCoordinator sets up the streams and the workers' consumer with cfg, and listens
// for worker heartbeats and for jobs that exhausted their deliveries.
func NewCoordinator(ctx context.Context, nc *nats.Conn, cfg Config) (*Coordinator, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	obs, err := ensure(ctx, js, cfg)
	if err != nil {
		return nil, err
	}
	c := &Coordinator{nc: nc, js: js, obs: obs, cfg: cfg, session: nats.NewInbox()[len(nats.InboxPrefix):], Every: 2 * time.Second,
		pending: map[string]*pendingJob{}, bySeq: map[uint64]string{}, workers: map[string]heartbeat{}, consumers: map[int64]jetstream.ConsumeContext{}}
	hb, err := nc.Subscribe(heartbeats, c.onHeartbeat)
	if err != nil {
		return nil, err
	}
	adv, err := nc.Subscribe(fmt.Sprintf("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.%s.%s", JobsStream, WorkersName), c.onMaxDeliveries)
	if err != nil {
		hb.Unsubscribe()
		return nil, err
	}
	c.subs = []*nats.Subscription{hb, adv}
	return c, nil
}

// Close stops listening; the connection stays the caller's.
func (c *Coordinator) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.subs {
		s.Unsubscribe()
	}
	for _, cc := range c.consumers {
		cc.Stop()
	}
}

// Duplicates is how many results were dropped: a second result for a job, or one for
// a job of no batch in flight (an earlier, finished or cancelled batch).
func (c *Coordinator) Duplicates() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.duplicates
}

// PublishModel puts a base model folder in the object store under its hash (once), so
// workers without a local copy can fetch it.
func (c *Coordinator) PublishModel(ctx context.Context, hash, dir string) error {
	if c.KeepModel {
		return nil
	}
	return publishModel(ctx, c.obs, hash, dir)
}

// PublishAdapter puts a policy update in the object store under its hash (once).
func (c *Coordinator) PublishAdapter(ctx context.Context, hash, dir string) error {
	return putFolder(ctx, c.obs, "adapter/"+hash, dir, adapterFiles)
}

// listen starts the run's results consumer: new results only, since jobs are published
// after it starts, and a result from an earlier attempt may have been an error.
func (c *Coordinator) listen(ctx context.Context, run int64) error {
	c.mu.Lock()
	_, ok := c.consumers[run]
	c.mu.Unlock()
	if ok {
		return nil
	}
	cons, err := c.js.OrderedConsumer(ctx, ResultsStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{resultsSubject(run)}, DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		return fmt.Errorf("results consumer: %w", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { c.onResult(m.Data()) })
	if err != nil {
		return fmt.Errorf("results consumer: %w", err)
	}
	c.mu.Lock()
	c.consumers[run] = cc
	c.mu.Unlock()
	return nil
}

func (c *Coordinator) onResult(data []byte) {
	var r engine.InnerResult
	if json.Unmarshal(data, &r) != nil {
		return // not ours to judge: a result we cannot read counts as not arrived
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pending[r.JobID]
	switch {
	case !ok:
		// A result for a job of no batch in flight: an earlier batch's duplicate.
		c.duplicates++
	case p.res != nil:
		c.duplicates++
	default:
		p.res = &r
		close(p.done)
	}
}

// Run publishes the jobs and waits for every result; results come back in job order,
// and each goes to done (when set) as soon as it and those before it have arrived.
func (c *Coordinator) Run(ctx context.Context, jobs []engine.InnerJob, onEvent func(engine.Event), done func(int, engine.InnerResult) error) ([]engine.InnerResult, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	run := jobs[0].Run
	if err := c.listen(ctx, run); err != nil {
		return nil, err
	}
	// Live events come on a channel read here, so none reaches onEvent after Run returns.
	events := make(chan *nats.Msg, 1024)
	sub, err := c.nc.ChanSubscribe(eventsSubject(run), events)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	if err := c.nc.Flush(); err != nil { // the server knows of the subscription before any job runs
		return nil, err
	}
	ps := make([]*pendingJob, len(jobs))
	c.mu.Lock()
	c.batches++
	msgID := fmt.Sprintf("@%s-%d", c.session, c.batches)
	for i, j := range jobs {
		if _, dup := c.pending[j.ID]; dup {
			c.mu.Unlock()
			return nil, fmt.Errorf("job %s is already in flight", j.ID)
		}
		data, err := json.Marshal(j)
		if err != nil {
			c.mu.Unlock()
			return nil, fmt.Errorf("job %s: %w", j.ID, err)
		}
		ps[i] = &pendingJob{job: j, data: data, done: make(chan struct{})}
		c.pending[j.ID] = ps[i]
	}
	c.mu.Unlock()
	var seqs []uint64
	defer func() {
		c.mu.Lock()
		for _, j := range jobs {
			delete(c.pending, j.ID)
		}
		for _, s := range seqs {
			delete(c.bySeq, s)
		}
		c.mu.Unlock()
	}()
	for _, p := range ps {
		ack, err := c.js.Publish(ctx, jobsSubject(run), p.data, jetstream.WithMsgID(p.job.ID+msgID))
		if err != nil {
			return nil, fmt.Errorf("publish job %s: %w", p.job.ID, err)
		}
		c.mu.Lock()
		c.bySeq[ack.Sequence] = p.job.ID
		seqs = append(seqs, ack.Sequence)
		c.mu.Unlock()
	}
	tick := time.NewTicker(c.Every)
	defer tick.Stop()
	out := make([]engine.InnerResult, len(jobs))
	for i, p := range ps {
	wait:
		for {
			select {
			case <-p.done:
				break wait
			case m := <-events:
				if ev, ok := decodeEvent(m.Data); ok && onEvent != nil {
					onEvent(ev)
				}
			case <-tick.C:
				if onEvent != nil {
					onEvent(c.workersEvent(ctx, run))
				}
			case <-ctx.Done():
				c.drop(seqs)
				return nil, ctx.Err()
			}
		}
		c.mu.Lock()
		out[i] = *p.res
		c.mu.Unlock()
		if done != nil {
			if err := done(i, out[i]); err != nil {
				c.drop(seqs)
				return nil, err
			}
		}
	}
	if onEvent != nil {
		for drained := false; !drained; { // events that came before the last result
			select {
			case m := <-events:
				if ev, ok := decodeEvent(m.Data); ok {
					onEvent(ev)
				}
			default:
				drained = true
			}
		}
		onEvent(c.workersEvent(ctx, run))
	}
	return out, nil
}

// drop takes a cancelled batch's jobs that no worker finished out of the queue, so
// workers do not spend time on results nobody waits for.
func (c *Coordinator) drop(seqs []uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.js.Stream(ctx, JobsStream)
	if err != nil {
		return
	}
	for _, seq := range seqs {
		s.DeleteMsg(ctx, seq) // an acked job is gone already; that error means nothing
	}
}

func (c *Coordinator) onHeartbeat(m *nats.Msg) {
	var hb heartbeat
	if json.Unmarshal(m.Data, &hb) != nil || hb.Name == "" {
		return
	}
	hb.seen = time.Now()
	c.mu.Lock()
	c.workers[hb.Name] = hb
	c.mu.Unlock()
}

// workersEvent lists the workers heard from in the last ten seconds and the jobs
// waiting or in flight.
func (c *Coordinator) workersEvent(ctx context.Context, run int64) engine.Workers {
	ev := engine.Workers{Run: run}
	if cons, err := c.js.Consumer(ctx, JobsStream, WorkersName); err == nil {
		if info, err := cons.Info(ctx); err == nil {
			ev.QueueDepth = int(info.NumPending) + info.NumAckPending
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, hb := range c.workers {
		if time.Since(hb.seen) > 10*time.Second {
			delete(c.workers, name)
			continue
		}
		ev.Workers = append(ev.Workers, hb.WorkerInfo)
	}
	sort.Slice(ev.Workers, func(i, j int) bool { return ev.Workers[i].Name < ev.Workers[j].Name })
	return ev
}

// onMaxDeliveries handles a job whose every delivery timed out (its workers died or
// hung): it becomes a dead letter, and its batch gets an error result.
func (c *Coordinator) onMaxDeliveries(m *nats.Msg) {
	var adv struct {
		StreamSeq  uint64 `json:"stream_seq"`
		Deliveries uint64 `json:"deliveries"`
	}
	if json.Unmarshal(m.Data, &adv) != nil {
		return
	}
	c.mu.Lock()
	id, ok := c.bySeq[adv.StreamSeq]
	p := c.pending[id]
	c.mu.Unlock()
	if !ok || p == nil {
		return // another coordinator's job
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg := fmt.Sprintf("no worker finished it in %d deliveries (each within the ack wait of %v)", adv.Deliveries, c.cfg.AckWait)
	if err := publishDead(ctx, c.js, p.job.Run, deadLetter{JobID: id, Job: p.data, Error: msg, Deliveries: adv.Deliveries, At: time.Now()}); err != nil {
		msg += "; the dead letter was not stored: " + err.Error()
	}
	if s, err := c.js.Stream(ctx, JobsStream); err == nil {
		s.DeleteMsg(ctx, adv.StreamSeq) // the work queue keeps an unacked job; it will not run again
	}
	c.onResult(mustJSON(engine.InnerResult{JobID: id, Err: "dead letter: " + msg}))
}

func publishDead(ctx context.Context, js jetstream.JetStream, run int64, d deadLetter) error {
	_, err := js.Publish(ctx, deadSubject(run), mustJSON(d), jetstream.WithMsgID("dead-"+d.JobID+"-"+strings.ReplaceAll(d.At.Format(time.RFC3339Nano), ":", "")))
	return err
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own plain structs go here
	}
	return b
}
