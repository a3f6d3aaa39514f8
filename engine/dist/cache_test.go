package dist

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The cache's test objects are folders of two files, a and b; their hash is SHA-256
// over a's bytes then b's.
func testHash(dir string) (string, error) {
	h := sha256.New()
	for _, n := range []string{"a", "b"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashOfText(a, b string) string {
	s := sha256.Sum256([]byte(a + b))
	return hex.EncodeToString(s[:])
}

// slowFill writes a, waits, then writes b: a window in which a second fetcher that did
// not wait would see (or break) a half-written folder.
func slowFill(a, b string, pause time.Duration, calls *atomic.Int32) func(context.Context, string) error {
	return func(ctx context.Context, tmp string) error {
		calls.Add(1)
		if err := os.WriteFile(filepath.Join(tmp, "a"), []byte(a), 0o644); err != nil {
			return err
		}
		time.Sleep(pause)
		return os.WriteFile(filepath.Join(tmp, "b"), []byte(b), 0o644)
	}
}

// leftovers lists the entries of a kind folder other than published objects and locks.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.Contains(e.Name(), tmpInfix) || strings.Contains(e.Name(), oldInfix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// Eight goroutines fetch the same object at once: one downloads it, the others wait
// and use it, and every one gets the whole, verified folder.
func TestCacheOneDownloadForConcurrentGoroutines(t *testing.T) {
	c := cache{dir: t.TempDir()}
	hash := hashOfText("hello ", "world")
	var calls atomic.Int32
	fill := slowFill("hello ", "world", 100*time.Millisecond, &calls)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir, err := c.get(context.Background(), "adapter", hash, testHash, fill)
			if err == nil {
				var got string
				if got, err = testHash(dir); err == nil && got != hash {
					err = fmt.Errorf("%s hashes to %s", dir, got)
				}
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("fetcher %d: %v", i, err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
	if l := leftovers(t, filepath.Join(c.dir, "adapter")); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
}

// cacheProcess is a process that shares a cache folder with the test: "fetch" gets the
// object at a set time and prints "ok DIR" (each download appends a line to a log);
// "hang" starts a download, says "filling TMP" and never finishes, to be killed.
func cacheProcess(mode string) int {
	c := cache{dir: os.Getenv("SEAL_DIST_TEST_CACHE_DIR")}
	hash := hashOfText("hello ", "world")
	fill := func(ctx context.Context, tmp string) error {
		f, err := os.OpenFile(os.Getenv("SEAL_DIST_TEST_CACHE_LOG"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		fmt.Fprintf(f, "download by %d\n", os.Getpid())
		f.Close()
		if mode == "hang" {
			os.WriteFile(filepath.Join(tmp, "a"), []byte("hello "), 0o644)
			fmt.Printf("filling %s\n", tmp)
			select {}
		}
		var calls atomic.Int32
		return slowFill("hello ", "world", 200*time.Millisecond, &calls)(ctx, tmp)
	}
	if at, err := strconv.ParseInt(os.Getenv("SEAL_DIST_TEST_CACHE_AT"), 10, 64); err == nil {
		time.Sleep(time.Until(time.Unix(0, at))) // all fetchers start together
	}
	dir, err := c.get(context.Background(), "adapter", hash, testHash, fill)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if got, err := testHash(dir); err != nil || got != hash {
		fmt.Fprintf(os.Stderr, "%s: hash %s, %v\n", dir, got, err)
		return 1
	}
	fmt.Printf("ok %s\n", dir)
	return 0
}

func cacheCommand(dir, log, mode string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SEAL_DIST_TEST_CACHE="+mode, "SEAL_DIST_TEST_CACHE_DIR="+dir, "SEAL_DIST_TEST_CACHE_LOG="+log)
	return cmd
}

func downloads(t *testing.T, log string) int {
	t.Helper()
	b, err := os.ReadFile(log)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// Four processes fetch the same object into one cache folder at the same moment: one
// downloads it, the others wait for its lock and find it verified.
func TestCacheOneDownloadForConcurrentProcesses(t *testing.T) {
	dir, log := t.TempDir(), filepath.Join(t.TempDir(), "downloads")
	at := time.Now().Add(500 * time.Millisecond).UnixNano()
	var cmds []*exec.Cmd
	outs := make([]strings.Builder, 4)
	for i := range outs {
		cmd := cacheCommand(dir, log, "fetch")
		cmd.Env = append(cmd.Env, fmt.Sprintf("SEAL_DIST_TEST_CACHE_AT=%d", at))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	want := "ok " + filepath.Join(dir, "adapter", hashOfText("hello ", "world")) + "\n"
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil || outs[i].String() != want {
			t.Errorf("fetcher %d: %v, %q; want %q", i, err, outs[i].String(), want)
		}
	}
	if n := downloads(t, log); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
	if l := leftovers(t, filepath.Join(dir, "adapter")); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
}

// A process killed in the middle of a download leaves a half-written temporary folder:
// the next fetch ignores it, downloads the object whole, and removes it.
func TestCacheIgnoresAKilledDownload(t *testing.T) {
	dir, log := t.TempDir(), filepath.Join(t.TempDir(), "downloads")
	cmd := cacheCommand(dir, log, "hang")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("the hanging fetcher said %q: %v", line, err)
	}
	tmp := strings.TrimSpace(strings.TrimPrefix(line, "filling "))
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(tmp, "a")); err != nil {
		t.Fatalf("the killed download left no half-written folder: %v", err)
	}

	c := cache{dir: dir}
	hash := hashOfText("hello ", "world")
	var calls atomic.Int32
	got, err := c.get(context.Background(), "adapter", hash, testHash, slowFill("hello ", "world", 0, &calls))
	if err != nil {
		t.Fatal(err)
	}
	if h, err := testHash(got); err != nil || h != hash || calls.Load() != 1 {
		t.Errorf("fetched %s: hash %s (%v) after %d downloads", got, h, err, calls.Load())
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the killed download's folder %s is still there (%v)", tmp, err)
	}
}

// A dead process's temporary folder for an object nobody fetches again goes when a
// worker starts (sweepAll); one whose lock a live fetcher holds stays.
func TestCacheSweepSparesLiveDownloads(t *testing.T) {
	c := cache{dir: t.TempDir()}
	base := filepath.Join(c.dir, "base")
	dead, live := filepath.Join(base, "aa"+tmpInfix+"1"), filepath.Join(base, "bb"+tmpInfix+"2")
	for _, d := range []string{dead, live} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	unlock, err := lock(context.Background(), filepath.Join(base, "bb"+lockSuffix))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	c.sweepAll()
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: %v, want it removed", dead, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the folder of a download in progress was removed: %v", err)
	}
}

// A folder there already: one that verifies is used as it is; a broken one is replaced
// whole; content that arrives with another hash is a permanent error and not kept.
func TestCacheFolderThatIsThere(t *testing.T) {
	c := cache{dir: t.TempDir()}
	hash := hashOfText("hello ", "world")
	dir := filepath.Join(c.dir, "adapter", hash)
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "a"), []byte("hello "), 0o644)
	os.WriteFile(filepath.Join(dir, "b"), []byte("wor"), 0o644) // cut short
	var calls atomic.Int32
	got, err := c.get(context.Background(), "adapter", hash, testHash, slowFill("hello ", "world", 0, &calls))
	if err != nil || got != dir || calls.Load() != 1 {
		t.Fatalf("a broken folder: %s, %v after %d downloads", got, err, calls.Load())
	}
	if h, _ := testHash(dir); h != hash {
		t.Errorf("after the fetch the folder hashes to %s", h)
	}
	if _, err := c.get(context.Background(), "adapter", hash, testHash, slowFill("x", "y", 0, &calls)); err != nil || calls.Load() != 1 {
		t.Errorf("a verified folder: %v after %d downloads, want it used as it is", err, calls.Load())
	}
	if l := leftovers(t, filepath.Join(c.dir, "adapter")); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}

	other := hashOfText("x", "y")
	_, err = c.get(context.Background(), "adapter", other, testHash, slowFill("x", "z", 0, &calls))
	var perm permanent
	if !errors.As(err, &perm) || !strings.Contains(err.Error(), "has hash") {
		t.Errorf("wrong content: %v, want a permanent hash error", err)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "adapter", other)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("wrong content was published: %v", err)
	}
	// A download error is not permanent: another try may mend it.
	_, err = c.get(context.Background(), "adapter", other, testHash, func(context.Context, string) error { return errors.New("connection reset") })
	if err == nil || errors.As(err, &perm) {
		t.Errorf("a download error: %v, want a plain error", err)
	}
}

// A fetcher waiting for another's lock gives up when its context ends.
func TestCacheLockWaitEndsWithTheContext(t *testing.T) {
	c := cache{dir: t.TempDir()}
	hash := hashOfText("hello ", "world")
	os.MkdirAll(filepath.Join(c.dir, "adapter"), 0o755)
	unlock, err := lock(context.Background(), filepath.Join(c.dir, "adapter", hash+lockSuffix))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var calls atomic.Int32
	if _, err := c.get(ctx, "adapter", hash, testHash, slowFill("hello ", "world", 0, &calls)); !errors.Is(err, context.DeadlineExceeded) || calls.Load() != 0 {
		t.Errorf("%v after %d downloads, want the deadline and none", err, calls.Load())
	}
}

// A published folder is readable as a folder made with MkdirAll would be, not private
// as os.MkdirTemp makes its folders.
func TestCachePublishesAnOrdinaryFolder(t *testing.T) {
	c := cache{dir: t.TempDir()}
	var calls atomic.Int32
	dir, err := c.get(context.Background(), "adapter", hashOfText("a", "b"), testHash, slowFill("a", "b", 0, &calls))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("%s: mode %v (%v), want 0755", dir, st.Mode().Perm(), err)
	}
}
