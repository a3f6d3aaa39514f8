package dist

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"seal/engine"
)

// Names of the JetStream pieces. Jobs, results and dead letters are per run:
// seal.jobs.RUN, seal.results.RUN, seal.dead.RUN.
const (
	JobsStream    = "SEAL_JOBS"    // work queue: a job is removed once a worker acks it
	ResultsStream = "SEAL_RESULTS" // every result published, kept for a day
	DeadStream    = "SEAL_DEAD"    // jobs that exhausted their deliveries, with the error
	WorkersName   = "seal-workers" // the durable pull consumer every worker shares
	ModelsBucket  = "seal-models"  // object store: base/HASH/FILE and adapter/HASH/FILE
	heartbeats    = "seal.workers.heartbeat"
)

func jobsSubject(run int64) string    { return fmt.Sprintf("seal.jobs.%d", run) }
func resultsSubject(run int64) string { return fmt.Sprintf("seal.results.%d", run) }
func deadSubject(run int64) string    { return fmt.Sprintf("seal.dead.%d", run) }

// eventsSubject carries a run's live training steps and graded answers from the
// workers (core NATS: nothing is lost that the results do not hold).
func eventsSubject(run int64) string { return fmt.Sprintf("seal.events.%d", run) }

// Config is the delivery policy, set by the coordinator: a job not acked within AckWait
// (a worker died, or stopped reporting progress) goes to another worker, at most
// MaxDeliver times in all; then it is a dead letter.
type Config struct {
	AckWait    time.Duration
	MaxDeliver int
}

// DefaultConfig gives a worker 30 s between progress reports and five tries per job.
func DefaultConfig() Config { return Config{AckWait: 30 * time.Second, MaxDeliver: 5} }

// ensure creates (or updates) the streams, the workers' consumer and the object store.
func ensure(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.ObjectStore, error) {
	if cfg.AckWait <= 0 || cfg.MaxDeliver < 1 {
		return nil, fmt.Errorf("dist: ack wait %v and max deliver %d must be positive", cfg.AckWait, cfg.MaxDeliver)
	}
	streams := []jetstream.StreamConfig{
		{Name: JobsStream, Subjects: []string{"seal.jobs.>"}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute},
		{Name: ResultsStream, Subjects: []string{"seal.results.>"}, Storage: jetstream.FileStorage, MaxAge: 24 * time.Hour, Duplicates: 2 * time.Minute},
		{Name: DeadStream, Subjects: []string{"seal.dead.>"}, Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute},
	}
	for _, sc := range streams {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return nil, fmt.Errorf("stream %s: %w", sc.Name, err)
		}
	}
	_, err := js.CreateOrUpdateConsumer(ctx, JobsStream, jetstream.ConsumerConfig{Durable: WorkersName,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: cfg.AckWait, MaxDeliver: cfg.MaxDeliver, MaxAckPending: 1000})
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", WorkersName, err)
	}
	obs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: ModelsBucket, Storage: jetstream.FileStorage})
	if err != nil {
		return nil, fmt.Errorf("object store %s: %w", ModelsBucket, err)
	}
	return obs, nil
}

// deadLetter is a job that will not be run again, and why.
type deadLetter struct {
	JobID      string    `json:"job_id"`
	Job        []byte    `json:"job"` // the job as published
	Error      string    `json:"error"`
	Deliveries uint64    `json:"deliveries"`
	Worker     string    `json:"worker,omitempty"`
	At         time.Time `json:"at"`
}

// wireEvent is a job's live event on the wire.
type wireEvent struct {
	Type  string          `json:"type"`
	Event json.RawMessage `json:"event"`
}

// decodeEvent reads the event kinds a job sends; others are ignored.
func decodeEvent(data []byte) (engine.Event, bool) {
	var w wireEvent
	if json.Unmarshal(data, &w) != nil {
		return nil, false
	}
	switch w.Type {
	case engine.TrainStep{}.EventType():
		var e engine.TrainStep
		return e, json.Unmarshal(w.Event, &e) == nil
	case engine.EvalItem{}.EventType():
		var e engine.EvalItem
		return e, json.Unmarshal(w.Event, &e) == nil
	}
	return nil, false
}
