package dist

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"seal/engine"
	"seal/models/llama/llamatest"
	"seal/store"
)

// TestMain lets the test binary be a worker process (the cluster tests start copies of
// itself with SEAL_DIST_TEST_WORKER set) or a cache user (SEAL_DIST_TEST_CACHE).
func TestMain(m *testing.M) {
	if name := os.Getenv("SEAL_DIST_TEST_WORKER"); name != "" {
		os.Exit(workerProcess(name))
	}
	if mode := os.Getenv("SEAL_DIST_TEST_CACHE"); mode != "" {
		os.Exit(cacheProcess(mode))
	}
	os.Exit(m.Run())
}

// workerProcess is `seal worker` with a hold at the start of each job, so the test can
// kill a worker mid-job; "start JOB DELIVERY" lines on stdout say when.
func workerProcess(name string) int {
	hold, _ := strconv.Atoi(os.Getenv("SEAL_DIST_TEST_HOLD_MS"))
	nc, err := Connect(ConnOptions{URL: os.Getenv("SEAL_DIST_TEST_URL"), Name: name})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer nc.Close()
	w, err := NewWorker(nc, WorkerConfig{Backend: llamatest.Backend(), Name: name, Model: os.Getenv("SEAL_DIST_TEST_MODEL"), Cache: os.Getenv("SEAL_DIST_TEST_CACHE"), Log: os.Stderr,
		OnStart: func(job engine.InnerJob, delivery uint64) {
			fmt.Printf("start %s %d\n", job.ID, delivery)
			time.Sleep(time.Duration(hold) * time.Millisecond)
		}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer w.Close()
	// Every download says so ("download PREFIX"); with SEAL_DIST_TEST_FAIL_FETCH=KIND the
	// first download of that kind fails ("injected PREFIX"), as a dropped connection would.
	get, failKind := w.get, os.Getenv("SEAL_DIST_TEST_FAIL_FETCH")
	w.get = func(ctx context.Context, prefix, dir string) error {
		if failKind != "" && strings.HasPrefix(prefix, failKind+"/") {
			failKind = ""
			fmt.Printf("injected %s\n", prefix)
			return errors.New("injected: connection reset by peer")
		}
		fmt.Printf("download %s\n", prefix)
		return get(ctx, prefix, dir)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the test closes stdin to stop a worker that is still alive
		bufio.NewReader(os.Stdin).ReadByte()
		cancel()
	}()
	if err := w.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// A coordinator and three worker processes run a two-round ReST-EM run; one worker is
// killed (SIGKILL) in the middle of a job. Every job finishes exactly once, on another
// worker for the killed one, and the stored run equals an in-process run of the same
// seeds.
func TestClusterSurvivesAKilledWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	dir := t.TempDir()
	model := tinyModel(t, 11)
	data := writePassages(t, dir)
	spec := smallSpec(model, data)

	local := runSpec(t, filepath.Join(dir, "local.db"), spec, nil)

	s := startServer(t, nil)
	nc := connect(t, s)
	coord, err := NewCoordinator(context.Background(), nc, Config{AckWait: 1500 * time.Millisecond, MaxDeliver: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close()
	coord.Every = 300 * time.Millisecond

	type start struct {
		worker, job string
		delivery    int
	}
	var mu sync.Mutex
	var starts []start
	killed := ""
	procs := map[string]*exec.Cmd{}
	stdins := map[string]io.Closer{}
	var readers sync.WaitGroup
	for i := range 3 {
		name := fmt.Sprintf("w%d", i+1)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "SEAL_DIST_TEST_WORKER="+name, "SEAL_DIST_TEST_URL="+s.ClientURL(),
			"SEAL_DIST_TEST_HOLD_MS=1700", "SEAL_DIST_TEST_CACHE="+filepath.Join(dir, name),
			fmt.Sprintf("GOMAXPROCS=%d", runtime.GOMAXPROCS(0))) // the kernels split work by thread count
		if i > 0 {
			cmd.Env = append(cmd.Env, "SEAL_DIST_TEST_MODEL="+model) // w1 fetches the base model by hash
		}
		stdout, _ := cmd.StdoutPipe()
		stdin, _ := cmd.StdinPipe()
		stdins[name] = stdin
		stderr, _ := os.Create(filepath.Join(dir, name+".log"))
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[name] = cmd
		readers.Add(1)
		go func() {
			defer readers.Done()
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) != 3 || f[0] != "start" {
					continue
				}
				n, _ := strconv.Atoi(f[2])
				mu.Lock()
				starts = append(starts, start{name, f[1], n})
				first := killed == ""
				if first {
					killed = name
				}
				mu.Unlock()
				if first { // mid-job: after the job started, before its hold ends
					time.Sleep(400 * time.Millisecond)
					cmd.Process.Signal(syscall.SIGKILL)
				}
			}
		}()
	}
	defer func() { // on a failed test, no worker outlives it
		for _, c := range procs {
			c.Process.Kill()
		}
	}()

	var workerEvents []engine.Workers
	remote := runSpec(t, filepath.Join(dir, "remote.db"), spec, func(e *engine.Engine) { e.Executor = coord }, func(ev engine.Event) {
		if w, ok := ev.(engine.Workers); ok {
			workerEvents = append(workerEvents, w)
		}
	})
	for _, in := range stdins { // the live workers stop
		in.Close()
	}
	for name, c := range procs {
		err := c.Wait()
		mu.Lock()
		wasKilled := name == killed
		mu.Unlock()
		if !wasKilled && err != nil {
			t.Errorf("worker %s: %v (log in %s.log)", name, err, name)
		}
	}

	// The stored runs are the same, candidate by candidate.
	sameRuns(t, local, remote, 18) // with a step-matched baseline per passage
	if len(remote.rounds) != 2 || remote.rounds[0].PolicyHash == "" {
		t.Fatalf("rounds %+v: want two, the first with a policy update (so workers fetched an adapter)", remote.rounds)
	}

	// Every job has exactly one result in the results stream, and the killed worker's
	// job was finished by another worker.
	js, _ := jetstream.New(nc)
	results := map[string]engine.InnerResult{}
	for _, b := range readAll(t, js, ResultsStream, resultsSubject(remote.id)) {
		var r engine.InnerResult
		json.Unmarshal(b, &r)
		if _, dup := results[r.JobID]; dup {
			t.Errorf("job %s has two results", r.JobID)
		}
		if r.Err != "" {
			t.Errorf("job %s failed: %s", r.JobID, r.Err)
		}
		results[r.JobID] = r
	}
	if len(results) != 12 { // round 0: 2 passages x (passage baseline + step-matched baseline + 2 edits); round 1: 2 x 2 edits
		t.Errorf("%d results, want 12", len(results))
	}
	mu.Lock()
	defer mu.Unlock()
	killedJob := ""
	perJob := map[string]int{}
	for _, s := range starts {
		perJob[s.job]++
		if s.worker == killed {
			killedJob = s.job
		}
	}
	if killedJob == "" {
		t.Fatal("no worker was killed mid-job")
	}
	if r := results[killedJob]; r.Worker == killed || r.Worker == "" {
		t.Errorf("the killed worker's job %s: result from %q", killedJob, r.Worker)
	}
	for job, n := range perJob {
		// Jobs longer than the ack wait stay with their worker (in-progress acks); only
		// the killed worker's job is delivered again.
		if want := map[bool]int{true: 2, false: 1}[job == killedJob]; n != want {
			t.Errorf("job %s started %d times, want %d", job, n, want)
		}
	}
	t.Logf("killed %s during %s; %d results: %v; %d Workers events", killed, killedJob, len(results), resultWorkers(results), len(workerEvents))
	if coord.Duplicates() != 0 {
		t.Errorf("%d duplicate results", coord.Duplicates())
	}
	if len(workerEvents) == 0 {
		t.Error("no Workers events")
	} else if last := workerEvents[len(workerEvents)-1]; len(last.Workers) < 2 {
		t.Errorf("last Workers event %+v: want the two live workers", last)
	}
}

func resultWorkers(rs map[string]engine.InnerResult) map[string]int {
	out := map[string]int{}
	for _, r := range rs {
		out[r.Worker]++
	}
	return out
}

type storedRun struct {
	id     int64
	cands  []store.Candidate
	rounds []store.Round
}

// runSpec runs spec to the end in a fresh store and returns what was stored, with the
// times cleared so runs compare.
func runSpec(t *testing.T, dbPath string, spec engine.RunSpec, setup func(*engine.Engine), onEvent ...func(engine.Event)) storedRun {
	t.Helper()
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e := engine.New(db, llamatest.Backend())
	if setup != nil {
		setup(e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := e.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	for ev := range r.Events() {
		for _, f := range onEvent {
			f(ev)
		}
		if e, ok := ev.(engine.Error); ok {
			t.Errorf("run error: %s", e.Message)
		}
	}
	if err := r.Wait(); err != nil {
		t.Fatal(err)
	}
	return stored(t, db, r.ID)
}

// stored reads a run back with the times, ids and paths cleared so runs compare.
func stored(t *testing.T, db *store.DB, id int64) storedRun {
	t.Helper()
	var err error
	out := storedRun{id: id}
	if out.cands, err = db.Candidates(id, true); err != nil {
		t.Fatal(err)
	}
	if out.rounds, err = db.Rounds(id); err != nil {
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

func sameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// sameRuns checks that two stored runs hold the same candidates and rounds.
func sameRuns(t *testing.T, local, remote storedRun, want int) {
	t.Helper()
	if len(local.cands) != len(remote.cands) || len(local.cands) != want {
		t.Fatalf("%d candidates in process, %d on workers, want %d", len(local.cands), len(remote.cands), want)
	}
	for i, a := range local.cands {
		b := remote.cands[i]
		if a.Round != b.Round || a.Task != b.Task || a.Index != b.Index || a.Edit != b.Edit || a.Status != b.Status ||
			a.AdaptedScore != b.AdaptedScore || a.Reward != b.Reward || !sameJSON(a.Curve, b.Curve) || !sameJSON(a.Evals, b.Evals) {
			t.Errorf("candidate (round %d, task %d, index %d) differs:\nin process %+v\non workers %+v", a.Round, a.Task, a.Index, a, b)
		}
	}
	if !sameJSON(local.rounds, remote.rounds) {
		t.Errorf("rounds differ:\n%+v\n%+v", local.rounds, remote.rounds)
	}
}

// A run over NATS stopped after its first round resumes on a fresh server with a
// worker that has no model of its own: it fetches the base model and the first round's
// policy update by hash, and the run ends as an in-process run does.
func TestResumeOnAFreshServer(t *testing.T) {
	dir := t.TempDir()
	model := tinyModel(t, 5)
	spec := smallSpec(model, writePassages(t, dir))
	spec.Baselines = false
	local := runSpec(t, filepath.Join(dir, "local.db"), spec, nil)

	db, err := store.Open(filepath.Join(dir, "remote.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	attempt := func(workerModel string, run func(e *engine.Engine, ctx context.Context) (*engine.Run, error), stopAfterRound0 bool) (int64, error) {
		s := startServer(t, nil)
		defer s.Shutdown()
		c, err := NewCoordinator(context.Background(), connect(t, s), Config{AckWait: 5 * time.Second, MaxDeliver: 3})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		startWorker(t, connect(t, s), WorkerConfig{Backend: llamatest.Backend(), Name: "w", Model: workerModel})
		e := engine.New(db, llamatest.Backend())
		e.Executor = c
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r, err := run(e, ctx)
		if err != nil {
			t.Fatal(err)
		}
		for ev := range r.Events() {
			if rd, ok := ev.(engine.RoundDone); ok && rd.Round == 0 && stopAfterRound0 {
				cancel()
			}
		}
		return r.ID, r.Wait()
	}
	id, err := attempt(model, func(e *engine.Engine, ctx context.Context) (*engine.Run, error) { return e.Start(ctx, spec) }, true)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first attempt: %v, want it cancelled", err)
	}
	if _, err := attempt("", func(e *engine.Engine, ctx context.Context) (*engine.Run, error) { return e.Resume(ctx, id) }, false); err != nil {
		t.Fatalf("resume: %v", err)
	}
	sameRuns(t, local, stored(t, db, id), 12)
}
