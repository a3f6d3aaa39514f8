package domaintest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"seal/engine"
	"seal/engine/dist"
	"seal/models/llama/llamatest"
	"seal/store"
	"seal/ui"
)

// arithSpec is a two-round ReST-EM run on two facts, cut to seconds on the test model.
func arithSpec(t *testing.T, dir string) engine.RunSpec {
	t.Helper()
	model, err := llamatest.Folder(filepath.Join(dir, "model"), 3)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "facts.json")
	if err := os.WriteFile(data, []byte(`[[7, 5], [3, 4], [2, 2]]`), 0o644); err != nil {
		t.Fatal(err)
	}
	s := engine.DefaultSpec()
	s.Domain, s.Style = "arith", ""
	s.Model, s.Data, s.Tasks, s.K, s.Rounds, s.Repeats = model, data, 2, 2, 2, 1
	s.EditTokens, s.QATokens = 12, 4
	s.Inner.Epochs, s.Inner.Rank, s.Inner.Alpha = 2, 4, 8
	s.Policy.Epochs, s.Policy.Rank, s.Policy.Alpha = 1, 4, 8
	return s
}

// recorded is one run: what the store holds and the events as `seal run` writes them.
type recorded struct {
	id     int64
	tasks  []store.Task
	cands  []store.Candidate
	rounds []store.Round
	lines  string
}

func runSpec(t *testing.T, dbPath string, spec engine.RunSpec, exec engine.Executor) recorded {
	t.Helper()
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e := engine.New(db, llamatest.Backend())
	e.Executor = exec
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := e.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	var lines strings.Builder
	for ev := range r.Events() {
		j, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&lines, "{\"type\":%q,%s\n", ev.EventType(), j[1:])
		if e, ok := ev.(engine.Error); ok {
			t.Errorf("run error: %s", e.Message)
		}
	}
	if err := r.Wait(); err != nil {
		t.Fatal(err)
	}
	out := recorded{id: r.ID, lines: lines.String()}
	if out.tasks, err = db.Tasks(r.ID); err != nil {
		t.Fatal(err)
	}
	if out.cands, err = db.Candidates(r.ID, true); err != nil {
		t.Fatal(err)
	}
	if out.rounds, err = db.Rounds(r.ID); err != nil {
		t.Fatal(err)
	}
	for i := range out.cands {
		out.cands[i].ID, out.cands[i].CreatedAt, out.cands[i].RunID = 0, time.Time{}, 0
	}
	for i := range out.rounds {
		out.rounds[i].At, out.rounds[i].RunID, out.rounds[i].PolicyAdapterPath = time.Time{}, 0, ""
	}
	return out
}

// A third domain, registered by one line, runs through ReST-EM in-process; its tasks
// and candidates are stored; the same run on a worker over NATS stores the same
// results; and the recorded events replay in the live view with the domain's noun.
func TestThirdDomainRunsThroughEverything(t *testing.T) {
	dir := t.TempDir()
	spec := arithSpec(t, dir)
	if err := spec.Validate(); err != nil {
		t.Fatalf("the arith domain's spec: %v", err)
	}
	local := runSpec(t, filepath.Join(dir, "local.db"), spec, nil)

	// The store: the domain's rows, and 2 rounds × 2 facts × (base + 2 candidates)
	// plus round 0's two baselines per fact.
	if len(local.tasks) != 2 || local.tasks[0].Key != "7+5" || local.tasks[1].Questions[0].Answer != "7" {
		t.Errorf("stored tasks %+v, want the facts 7+5 and 3+4 with their questions", local.tasks)
	}
	if len(local.cands) != 16 {
		t.Fatalf("%d candidates stored, want 16", len(local.cands))
	}
	kinds := map[string]int{}
	for _, c := range local.cands {
		kinds[c.Kind]++
		if c.Kind == "self_edit" && c.Status == "done" && (len(c.Evals) == 0 || len(c.Curve) == 0) {
			t.Errorf("candidate (round %d, task %d, index %d) stored without its answers or curve", c.Round, c.Task, c.Index)
		}
	}
	if kinds["self_edit"] != 8 || kinds["baseline_base"] != 4 || kinds["baseline_fact"] != 2 || kinds["baseline_context"] != 2 {
		t.Errorf("candidate kinds %v, want 8 self_edit, 4 baseline_base, 2 baseline_fact, 2 baseline_context", kinds)
	}
	if len(local.rounds) != 2 {
		t.Fatalf("%d rounds stored, want 2", len(local.rounds))
	}

	// The job path on a worker: the same results, candidate by candidate.
	var ran atomic.Int64 // jobs the worker started
	remote := runSpec(t, filepath.Join(dir, "remote.db"), spec, startCluster(t, spec.Model, &ran))
	jobs := int64(0) // the candidates that go through the job path: baseline_fact and non-empty self-edits
	for _, c := range remote.cands {
		if c.Kind == "baseline_fact" || c.Kind == "self_edit" && c.Edit != "" {
			jobs++
		}
	}
	if ran.Load() != jobs || jobs == 0 {
		t.Errorf("the worker started %d jobs, want %d", ran.Load(), jobs)
	}
	if len(remote.cands) != len(local.cands) {
		t.Fatalf("%d candidates on the worker, %d in process", len(remote.cands), len(local.cands))
	}
	for i, a := range local.cands {
		if b := remote.cands[i]; !sameJSON(a, b) {
			t.Errorf("candidate %d differs:\nin process %+v\non a worker %+v", i, a, b)
		}
	}
	if !sameJSON(local.rounds, remote.rounds) {
		t.Errorf("rounds differ:\n%+v\n%+v", local.rounds, remote.rounds)
	}

	// The live view's replay of the recorded events.
	evs, err := ui.ReadEvents(strings.NewReader(local.lines))
	if err != nil {
		t.Fatal(err)
	}
	view := ui.ReplayLive(spec, evs, time.Now(), 120, 40)
	for _, want := range []string{"fact 2/2", "round 2/2", "What is 3 plus 4?"} {
		if !strings.Contains(view, want) {
			t.Errorf("the replayed live view lacks %q:\n%s", want, view)
		}
	}
}

// startCluster starts an embedded NATS server, a coordinator and one in-process worker
// holding the model, counting the jobs it starts in ran, and returns the coordinator
// as the run's executor.
func startCluster(t *testing.T, model string, ran *atomic.Int64) engine.Executor {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server did not start")
	}
	t.Cleanup(s.Shutdown)
	connect := func(name string) *nats.Conn {
		nc, err := dist.Connect(dist.ConnOptions{URL: s.ClientURL(), Name: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	coord, err := dist.NewCoordinator(context.Background(), connect("coordinator"), dist.Config{AckWait: 5 * time.Second, MaxDeliver: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(coord.Close)
	w, err := dist.NewWorker(connect("w1"), dist.WorkerConfig{Backend: llamatest.Backend(), Name: "w1", Model: model, Cache: t.TempDir(), Log: io.Discard,
		OnStart: func(engine.InnerJob, uint64) { ran.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	return coord
}

func sameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
