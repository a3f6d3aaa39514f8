package dist

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"seal/engine"
	"seal/models/llama/llamatest"
)

// syncBuffer is a log the worker goroutine writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startWorker runs an in-process worker until the test ends.
func startWorker(t *testing.T, nc *nats.Conn, cfg WorkerConfig) *syncBuffer {
	t.Helper()
	return startWorkerWith(t, nc, cfg, nil)
}

// startWorkerWith is startWorker with setup called on the worker before it runs.
func startWorkerWith(t *testing.T, nc *nats.Conn, cfg WorkerConfig, setup func(*Worker)) *syncBuffer {
	t.Helper()
	log := &syncBuffer{}
	cfg.Log = log
	if cfg.Cache == "" {
		cfg.Cache = t.TempDir()
	}
	w, err := NewWorker(nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(w)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	return log
}

func runOne(t *testing.T, c *Coordinator, job engine.InnerJob) engine.InnerResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := c.Run(ctx, []engine.InnerJob{job}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

func TestWorkerRunsAJobLikeTheEngine(t *testing.T) {
	s := startServer(t, nil)
	nc := connect(t, s)
	c, err := NewCoordinator(context.Background(), nc, Config{AckWait: 5 * time.Second, MaxDeliver: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := tinyModel(t, 1)
	startWorker(t, connect(t, s), WorkerConfig{Backend: llamatest.Backend(), Name: "w1", Model: dir})
	job := testJob(t, dir, 1, 0)
	var steps, evals []engine.Event
	res, err := c.Run(context.Background(), []engine.InnerJob{job}, func(ev engine.Event) {
		switch e := ev.(type) {
		case engine.TrainStep:
			if e.Run == job.Run && e.Cand == job.Cand && e.Phase == "inner" {
				steps = append(steps, ev)
			}
		case engine.EvalItem:
			evals = append(evals, ev)
		}
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) == 0 {
		t.Error("no training steps came from the worker")
	}
	t.Logf("%d training steps and %d graded answers forwarded", len(steps), len(evals))
	if res := res[0]; res.Err != "" || res.Worker != "w1" || len(res.Accs) != 1 || len(res.Curve) == 0 || len(res.Evals) != 1 {
		t.Fatalf("result %+v", res)
	}
	// The same job on a JobModel in this process gives the same numbers.
	m, err := engine.OpenJobModel(dir, llamatest.Backend())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want, err := m.Run(context.Background(), job, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sameResult(res[0], want) {
		t.Errorf("remote %+v\nlocal %+v", res[0], want)
	}
}

func sameResult(a, b engine.InnerResult) bool {
	ja, _ := json.Marshal([]any{a.Accs, a.Curve, a.Evals})
	jb, _ := json.Marshal([]any{b.Accs, b.Curve, b.Evals})
	return bytes.Equal(ja, jb)
}

func TestWorkerRejectsAJobForAnotherModel(t *testing.T) {
	s := startServer(t, nil)
	nc := connect(t, s)
	c, err := NewCoordinator(context.Background(), nc, Config{AckWait: 5 * time.Second, MaxDeliver: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mine, other := tinyModel(t, 1), tinyModel(t, 2)
	log := startWorker(t, connect(t, s), WorkerConfig{Backend: llamatest.Backend(), Name: "w1", Model: mine})

	res := runOne(t, c, testJob(t, other, 1, 0))
	if !strings.Contains(res.Err, "job wants base model") || res.Worker != "w1" {
		t.Fatalf("a job for another base model: result %+v", res)
	}
	// An adapter whose bytes do not hash to the name it was published under is refused.
	job := testJob(t, mine, 1, 1)
	adapter := filepath.Join(t.TempDir(), "adapter")
	os.MkdirAll(adapter, 0o755)
	os.WriteFile(filepath.Join(adapter, "adapter_config.json"), []byte(`{}`), 0o644)
	os.WriteFile(filepath.Join(adapter, "adapter_model.safetensors"), []byte("not the adapter you want"), 0o644)
	fake := strings.Repeat("ab", 32)
	if err := c.PublishAdapter(context.Background(), fake, adapter); err != nil {
		t.Fatal(err)
	}
	job.Model = job.Model.With(fake)
	res = runOne(t, c, job)
	if !strings.Contains(res.Err, "has hash") {
		t.Fatalf("a tampered adapter: result %+v", res)
	}
	// Both went to the dead letters at their first delivery (no other try can mend
	// them), terminated: nothing is left in the queue.
	js, _ := jetstream.New(nc)
	dead := readAll(t, js, DeadStream, deadSubject(1))
	if len(dead) != 2 {
		t.Fatalf("%d dead letters, want 2", len(dead))
	}
	for _, b := range dead {
		var d deadLetter
		if json.Unmarshal(b, &d) != nil || d.Deliveries != 1 || !strings.HasPrefix(d.Error, "rejected: ") {
			t.Errorf("dead letter %s: want it rejected at its first delivery", b)
		}
	}
	waitQueueEmpty(t, js)
	if !strings.Contains(log.String(), "rejected") {
		t.Errorf("worker log does not say it rejected the jobs:\n%s", log)
	}
}

func waitQueueEmpty(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := js.Stream(context.Background(), JobsStream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job queue still holds %d jobs", info.State.Msgs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A job whose every delivery times out (its worker dies each time) becomes a dead
// letter after MaxDeliver deliveries, and its batch gets an error result.
func TestDeadLetterAfterMaxDeliver(t *testing.T) {
	s := startServer(t, nil)
	nc := connect(t, s)
	c, err := NewCoordinator(context.Background(), nc, Config{AckWait: 200 * time.Millisecond, MaxDeliver: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	js, _ := jetstream.New(nc)
	cons, err := js.Consumer(context.Background(), JobsStream, WorkersName)
	if err != nil {
		t.Fatal(err)
	}
	// A "worker" that takes each delivery and never answers.
	deliveries := make(chan uint64, 10)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		meta, _ := m.Metadata()
		deliveries <- meta.NumDelivered
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Stop()
	job := testJob(t, tinyModel(t, 1), 5, 0)
	res := runOne(t, c, job)
	if !strings.Contains(res.Err, "dead letter") || !strings.Contains(res.Err, "2 deliveries") {
		t.Fatalf("result %+v", res)
	}
	if n := len(deliveries); n != 2 {
		t.Errorf("%d deliveries, want 2", n)
	}
	dead := readAll(t, js, DeadStream, deadSubject(5))
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dead))
	}
	var d deadLetter
	if err := json.Unmarshal(dead[0], &d); err != nil {
		t.Fatal(err)
	}
	var back engine.InnerJob
	json.Unmarshal(d.Job, &back)
	if d.JobID != job.ID || back.ID != job.ID || d.Deliveries != 2 || d.Error == "" {
		t.Errorf("dead letter %+v", d)
	}
	waitQueueEmpty(t, js)
}

// A second result for a job (a job delivered twice) is dropped: the batch gets the first.
func TestDuplicateResultIgnored(t *testing.T) {
	s := startServer(t, nil)
	nc := connect(t, s)
	c, err := NewCoordinator(context.Background(), nc, Config{AckWait: 5 * time.Second, MaxDeliver: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	js, _ := jetstream.New(nc)
	cons, err := js.Consumer(context.Background(), JobsStream, WorkersName)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		var j engine.InnerJob
		json.Unmarshal(m.Data(), &j)
		for i, acc := range []float64{0.25, 0.75} { // two workers finished the same job
			b, _ := json.Marshal(engine.InnerResult{JobID: j.ID, Accs: []float64{acc}, Worker: []string{"a", "b"}[i]})
			js.Publish(context.Background(), resultsSubject(j.Run), b)
		}
		m.DoubleAck(context.Background())
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Stop()
	res := runOne(t, c, testJob(t, tinyModel(t, 1), 2, 0))
	if res.Worker != "a" || res.Accs[0] != 0.25 {
		t.Fatalf("result %+v, want the first one", res)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Duplicates() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d duplicates counted, want 1", c.Duplicates())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A job that fails on every try (here its LoRA targets match no projection of the
// model) is retried, and after its last delivery the worker makes it a dead letter.
func TestWorkerDeadLettersAJobThatKeepsFailing(t *testing.T) {
	s := startServer(t, nil)
	nc := connect(t, s)
	c, err := NewCoordinator(context.Background(), nc, Config{AckWait: 5 * time.Second, MaxDeliver: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := tinyModel(t, 1)
	log := startWorker(t, connect(t, s), WorkerConfig{Backend: llamatest.Backend(), Name: "w1", Model: dir})
	job := testJob(t, dir, 4, 0)
	job.Inner.Targets = []string{"no_such_proj"}
	res := runOne(t, c, job)
	if !strings.Contains(res.Err, "match no projection") {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(log.String(), "retrying") || !strings.Contains(log.String(), "failed on its last delivery") {
		t.Errorf("worker log:\n%s", log)
	}
	js, _ := jetstream.New(nc)
	dead := readAll(t, js, DeadStream, deadSubject(4))
	var d deadLetter
	if len(dead) != 1 || json.Unmarshal(dead[0], &d) != nil || d.Deliveries != 2 || d.Worker != "w1" || !strings.Contains(d.Error, "match no projection") {
		t.Fatalf("dead letters %s", dead)
	}
	waitQueueEmpty(t, js)
}

// A download that fails on every try (the server keeps dropping the connection) is not
// a rejection: the job is retried, and only after its last delivery is it a dead letter
// whose error says so.
func TestWorkerRetriesAFailingDownloadUntilItsLastDelivery(t *testing.T) {
	s := startServer(t, nil)
	nc := connect(t, s)
	c, err := NewCoordinator(context.Background(), nc, Config{AckWait: 5 * time.Second, MaxDeliver: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := tinyModel(t, 1)
	if err := c.PublishModel(context.Background(), testJob(t, dir, 6, 0).Model.Base, dir); err != nil {
		t.Fatal(err)
	}
	var tries atomic.Int32
	log := startWorkerWith(t, connect(t, s), WorkerConfig{Backend: llamatest.Backend(), Name: "w1"}, func(w *Worker) {
		w.get = func(ctx context.Context, prefix, dir string) error {
			tries.Add(1)
			return errors.New("injected: connection reset by peer")
		}
	})
	res := runOne(t, c, testJob(t, dir, 6, 0))
	if !strings.Contains(res.Err, "failed on all 2 deliveries") || !strings.Contains(res.Err, "connection reset") {
		t.Fatalf("result %+v", res)
	}
	if n := tries.Load(); n != 2 {
		t.Errorf("%d downloads tried, want one per delivery", n)
	}
	if !strings.Contains(log.String(), "retrying in 1s on any worker") || !strings.Contains(log.String(), "failed on its last delivery (2 of 2)") {
		t.Errorf("worker log:\n%s", log)
	}
	js, _ := jetstream.New(nc)
	dead := readAll(t, js, DeadStream, deadSubject(6))
	var d deadLetter
	if len(dead) != 1 || json.Unmarshal(dead[0], &d) != nil || d.Deliveries != 2 {
		t.Fatalf("dead letters %s", dead)
	}
	waitQueueEmpty(t, js)
}
