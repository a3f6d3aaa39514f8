package store

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// childEnv switches a re-executed test binary into one of the helper roles below.
const childEnv = "SEAL_STORE_TEST_CHILD"

// Sizes of a crash-test candidate: big enough that a transaction takes a while,
// so kills land inside commits as well as between them.
const crashEvals, crashPoints = 40, 50

// crashKey is the i-th candidate the writer child saves.
func crashKey(i int) CandidateKey { return CandidateKey{Round: i / 64, Task: i / 8 % 8, Index: i % 8} }

// TestChildWriter is the child of TestKilledWhileWriting: it resumes the run like
// the engine does (Finished first), then saves candidates until it is killed,
// printing each id only after SaveCandidate has returned.
func TestChildWriter(t *testing.T) {
	if os.Getenv(childEnv) != "writer" {
		t.Skip("helper process for TestKilledWhileWriting")
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	db, err := Open(os.Getenv(childEnv + "_PATH"))
	if err != nil {
		fail(err)
	}
	runs, err := db.Runs(RunFilter{})
	if err != nil {
		fail(err)
	}
	var run int64
	if len(runs) > 0 {
		run = runs[0].ID
	} else if run, err = db.CreateRun(Run{Name: "crash"}); err != nil {
		fail(err)
	}
	if err := db.SaveTasks(run, []Task{{Index: 0, Title: "t"}}); err != nil {
		fail(err)
	}
	done, err := db.Finished(run)
	if err != nil {
		fail(err)
	}
	fmt.Printf("open %d\n", run)
	for i := 0; i < 1_000_000; i++ {
		k := crashKey(i)
		if _, ok := done[k]; ok {
			continue
		}
		c := cand(run, k, crashEvals, crashPoints)
		id, err := db.SaveCandidate(&c)
		if err != nil {
			fail(err)
		}
		fmt.Printf("committed %d %d\n", id, i)
	}
	fail(fmt.Errorf("was never killed"))
}

// TestKilledWhileWriting kills a writing child with SIGKILL at random moments (while
// it starts, migrates, or commits) and checks after each kill that the file is
// sound, every candidate the child reported committed is there whole (every eval
// item and curve point, every field), nothing is half-written, and the next child
// resumes without a duplicate.
func TestKilledWhileWriting(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in a child")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("kill delays from seed %d", seed)
	// The first kills count from the start (they land in start-up or in the
	// migration); the rest count from the child's "open" line (they land in commits).
	type kill struct {
		d         time.Duration
		afterOpen bool
	}
	var kills []kill
	for _, ms := range []int{0, 3, 6, 9, 12, 15} {
		kills = append(kills, kill{time.Duration(ms) * time.Millisecond, false})
	}
	kills = append(kills, kill{0, true})
	for i := 0; i < 5; i++ {
		kills = append(kills, kill{time.Duration(rng.Intn(150_000)) * time.Microsecond, true})
	}
	reported := map[int64]int{} // candidate id -> i of crashKey
	var run int64
	for n, k := range kills {
		cmd := exec.Command(exe, "-test.run=^TestChildWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"=writer", childEnv+"_PATH="+path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var lines []string // whole lines only: the kill may cut the last one
		opened := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			r := bufio.NewReader(pipe)
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if strings.HasPrefix(l, "open ") {
					close(opened)
				}
				lines = append(lines, l)
			}
		}()
		if k.afterOpen {
			select {
			case <-opened:
			case <-done:
			case <-time.After(20 * time.Second):
				t.Error("the child did not open the store in 20 s")
			}
		}
		time.Sleep(k.d)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-done // lines is ours from here
		err = cmd.Wait()
		if cmd.ProcessState.ExitCode() != -1 { // -1: ended by the signal
			t.Fatalf("kill %d: the child ended by itself (%v): %s%s", n, err, strings.Join(lines, ""), stderr.String())
		}
		got := 0
		for _, l := range lines {
			f := strings.Fields(l)
			switch {
			case len(f) == 2 && f[0] == "open":
				run, _ = strconv.ParseInt(f[1], 10, 64)
			case len(f) == 3 && f[0] == "committed":
				id, _ := strconv.ParseInt(f[1], 10, 64)
				i, _ := strconv.Atoi(f[2])
				reported[id] = i
				got++
			}
		}
		when := fmt.Sprintf("%v after start", k.d)
		if k.afterOpen {
			when = fmt.Sprintf("%v after open", k.d)
		}
		t.Logf("kill %d, %s: %d candidates reported, %d in all", n, when, got, len(reported))
		if _, err := os.Stat(path); err != nil {
			t.Logf("kill %d: no file yet", n)
			continue // killed before the file was made
		}
		if run != 0 {
			// A reader opening the file right after the crash (hot WAL) sees it all.
			ro, err := OpenReadOnly(path)
			if err != nil {
				t.Fatalf("kill %d: %v", n, err)
			}
			checkCrashDB(t, ro, run, reported, n+1)
			ro.Close()
		}
		// Open recovers and migrates whatever state the kill left, even mid-migration.
		db, err := Open(path)
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", n, err)
		}
		if err := db.IntegrityCheck(); err != nil {
			t.Fatalf("kill %d: %v", n, err)
		}
		if run != 0 {
			checkCrashDB(t, db, run, reported, n+1)
		}
		db.Close()
	}
	if len(reported) < 20 {
		t.Fatalf("only %d candidates committed over all kills; the test proved little", len(reported))
	}
}

// checkCrashDB: every reported candidate is present, and every candidate present
// is whole and exactly what the child built for its key.
func checkCrashDB(t *testing.T, db *DB, run int64, reported map[int64]int, kills int) {
	t.Helper()
	all, err := db.Candidates(run, true) // one snapshot
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]bool{}
	for _, c := range all {
		byID[c.ID] = true
		w := cand(run, CandidateKey{c.Round, c.Task, c.Index}, crashEvals, crashPoints)
		w.ID = c.ID
		sameCandidate(t, c, w) // also catches a half-written candidate
	}
	for id, i := range reported {
		if !byID[id] {
			t.Fatalf("candidate %d (key %+v) was reported committed and is gone", id, crashKey(i))
		}
	}
	// Each kill can cut at most one candidate between its COMMIT and its print.
	if len(all) > len(reported)+kills {
		t.Fatalf("%d candidates in the file, %d reported over %d kills", len(all), len(reported), kills)
	}
	if err := db.IntegrityCheck(); err != nil {
		t.Fatal(err)
	}
}
