package dist

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"seal/engine"
)

// workerProc is a worker process (the test binary as workerProcess) and what it said
// on stdout.
type workerProc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.Closer
	done  chan struct{} // stdout read to the end

	mu    sync.Mutex
	lines []string
}

// startWorkerProc starts a worker process against s; env adds SEAL_DIST_TEST_*
// settings. Its log goes to dir/NAME.log; onLine, if set, sees each stdout line.
func startWorkerProc(t *testing.T, s *server.Server, dir, name string, onLine func(string), env ...string) *workerProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SEAL_DIST_TEST_WORKER="+name, "SEAL_DIST_TEST_URL="+s.ClientURL(),
		fmt.Sprintf("GOMAXPROCS=%d", runtime.GOMAXPROCS(0))) // the kernels split work by thread count
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &workerProc{name: name, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			if onLine != nil {
				onLine(sc.Text())
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill() }) // on a failed test, no worker outlives it
	return p
}

// stop closes the worker's stdin (it finishes and exits) and waits for it.
func (p *workerProc) stop(t *testing.T) {
	t.Helper()
	p.stdin.Close()
	<-p.done
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("worker %s: %v (log in %s.log)", p.name, err, p.name)
	}
}

// said returns the stdout lines that start with word, without it.
func (p *workerProc) said(word string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, l := range p.lines {
		if rest, ok := strings.CutPrefix(l, word+" "); ok {
			out = append(out, rest)
		}
	}
	return out
}

func readLog(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkResults checks that every job of run has exactly one result, without an error,
// and returns them by job id.
func checkResults(t *testing.T, js jetstream.JetStream, run int64) map[string]engine.InnerResult {
	t.Helper()
	results := map[string]engine.InnerResult{}
	for _, b := range readAll(t, js, ResultsStream, resultsSubject(run)) {
		var r engine.InnerResult
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if _, dup := results[r.JobID]; dup {
			t.Errorf("job %s has two results", r.JobID)
		}
		if r.Err != "" {
			t.Errorf("job %s failed: %s", r.JobID, r.Err)
		}
		results[r.JobID] = r
	}
	if dead := readAll(t, js, DeadStream, deadSubject(run)); len(dead) != 0 {
		t.Errorf("dead letters: %s", dead)
	}
	return results
}

// The README's recipe on one machine: three worker processes with one cache folder (as
// with one home directory), none with a model of its own, run three ReST-EM rounds, so
// at each of two round boundaries they all need the new policy update at once. Each
// object is downloaded once, by one of them; no job fails or is retried; the stored
// run equals an in-process run.
func TestClusterWorkersShareACache(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	dir := t.TempDir()
	spec := smallSpec(tinyModel(t, 13), writePassages(t, dir))
	spec.Rounds = 3
	local := runSpec(t, filepath.Join(dir, "local.db"), spec, nil)

	s := startServer(t, nil)
	nc := connect(t, s)
	coord, err := NewCoordinator(context.Background(), nc, Config{AckWait: 10 * time.Second, MaxDeliver: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close()
	coord.Every = 300 * time.Millisecond
	cache := filepath.Join(dir, "home", ".cache", "seal", "worker")
	var procs []*workerProc
	for i := range 3 {
		procs = append(procs, startWorkerProc(t, s, dir, fmt.Sprintf("w%d", i+1), nil, "SEAL_DIST_TEST_CACHE="+cache))
	}
	var last engine.Workers
	remote := runSpec(t, filepath.Join(dir, "remote.db"), spec, func(e *engine.Engine) { e.Executor = coord }, func(ev engine.Event) {
		if w, ok := ev.(engine.Workers); ok {
			last = w
		}
	})
	for _, p := range procs {
		p.stop(t)
	}

	sameRuns(t, local, remote, len(local.cands))
	if len(remote.rounds) != 3 || remote.rounds[0].PolicyHash == "" || remote.rounds[1].PolicyHash == "" {
		t.Fatalf("rounds %+v: want three, the first two with a policy update", remote.rounds)
	}
	js, _ := jetstream.New(nc)
	results := checkResults(t, js, remote.id)

	// One download of each object among all the workers: the base model and the first
	// two rounds' policy updates.
	downloads := map[string][]string{}
	for _, p := range procs {
		for _, prefix := range p.said("download") {
			downloads[prefix] = append(downloads[prefix], p.name)
		}
		if log := readLog(t, dir, p.name); strings.Contains(log, "retrying") || strings.Contains(log, "rejected") {
			t.Errorf("worker %s retried or rejected a job:\n%s", p.name, log)
		}
	}
	base, err := engine.ModelHash(spec.Model)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"base/" + base, "adapter/" + remote.rounds[0].PolicyHash, "adapter/" + remote.rounds[1].PolicyHash}
	for _, prefix := range want {
		if len(downloads[prefix]) != 1 {
			t.Errorf("%s downloaded by %v, want by one worker", prefix, downloads[prefix])
		}
	}
	if len(downloads) != len(want) {
		t.Errorf("downloads %v, want %v", downloads, want)
	}
	for _, w := range last.Workers {
		if w.Retried != 0 || w.Rejected != 0 {
			t.Errorf("worker %+v retried or rejected jobs", w)
		}
	}
	for _, kind := range []string{"base", "adapter"} {
		if l := leftovers(t, filepath.Join(cache, kind)); len(l) != 0 {
			t.Errorf("left in the cache: %v", l)
		}
	}
	t.Logf("%d results by %v; downloads %v", len(results), resultWorkers(results), downloads)
}

var retryLine = regexp.MustCompile(`job (\S+) failed \(delivery 1 of 3\), retrying`)

// One worker's first download of a policy update fails (injected, as a dropped
// connection would): the job goes back to the queue, runs on a later delivery, and the
// run finishes as an in-process run does. The worker's log and the Workers events say
// it retried one job and rejected none.
func TestClusterRetriesAFailedCheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	dir := t.TempDir()
	model := tinyModel(t, 17)
	spec := smallSpec(model, writePassages(t, dir))
	local := runSpec(t, filepath.Join(dir, "local.db"), spec, nil)

	s := startServer(t, nil)
	nc := connect(t, s)
	coord, err := NewCoordinator(context.Background(), nc, Config{AckWait: 10 * time.Second, MaxDeliver: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close()
	coord.Every = 300 * time.Millisecond
	// w1 works alone until its first download of a policy update fails; then w2 (with
	// the model of its own) joins, so the job goes back to a queue with two workers.
	injected := make(chan struct{}, 1)
	w1 := startWorkerProc(t, s, dir, "w1", func(line string) {
		if strings.HasPrefix(line, "injected ") {
			injected <- struct{}{}
		}
	}, "SEAL_DIST_TEST_CACHE="+filepath.Join(dir, "w1"), "SEAL_DIST_TEST_FAIL_FETCH=adapter")
	var w2 *workerProc
	var w1Info []engine.WorkerInfo
	remote := runSpec(t, filepath.Join(dir, "remote.db"), spec, func(e *engine.Engine) { e.Executor = coord }, func(ev engine.Event) {
		select {
		case <-injected:
			w2 = startWorkerProc(t, s, dir, "w2", nil, "SEAL_DIST_TEST_CACHE="+filepath.Join(dir, "w2"), "SEAL_DIST_TEST_MODEL="+model)
		default:
		}
		if w, ok := ev.(engine.Workers); ok {
			for _, info := range w.Workers {
				if info.Name == "w1" {
					w1Info = append(w1Info, info)
				}
			}
		}
	})
	w1.stop(t)
	if w2 == nil {
		t.Fatal("no download failed")
	}
	w2.stop(t)

	sameRuns(t, local, remote, len(local.cands))
	js, _ := jetstream.New(nc)
	results := checkResults(t, js, remote.id)

	log := readLog(t, dir, "w1")
	m := retryLine.FindStringSubmatch(log)
	if m == nil || !strings.Contains(log, "injected: connection reset") {
		t.Fatalf("w1's log does not say it retried a job after the injected failure:\n%s", log)
	}
	job := m[1]
	var redone []string
	for _, p := range []*workerProc{w1, w2} {
		for _, st := range p.said("start") {
			if strings.HasPrefix(st, job+" ") {
				redone = append(redone, p.name+" "+st)
			}
		}
	}
	if len(redone) != 1 || strings.HasSuffix(redone[0], " 1") {
		t.Errorf("job %s started %v, want once, on a later delivery", job, redone)
	}
	if r, ok := results[job]; !ok || r.Err != "" {
		t.Errorf("job %s: result %+v", job, r)
	}
	if len(w1Info) == 0 || w1Info[len(w1Info)-1].Retried != 1 || w1Info[len(w1Info)-1].Rejected != 0 {
		t.Errorf("w1 as the Workers events last saw it: %+v, want 1 retried, 0 rejected", w1Info[max(len(w1Info)-1, 0):])
	}
	t.Logf("job %s failed once on w1 and ran as %v; %d results by %v", job, redone, len(results), resultWorkers(results))
}
