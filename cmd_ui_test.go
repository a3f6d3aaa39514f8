package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWorkbenchInATerminal starts the built program with no command inside a real
// pseudo-terminal (tmux), waits for the launcher to be drawn, quits with q and checks
// that the program ended and created its database. Skipped where tmux is missing; the
// screens themselves are driven in ui's teatest tests.
func TestWorkbenchInATerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "seal")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sock := filepath.Join(dir, "tmux.sock")
	db := filepath.Join(dir, "seal.db")
	done := filepath.Join(dir, "exited")
	tm := func(args ...string) (string, error) {
		out, err := exec.Command(tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		return string(out), err
	}
	shell := "XDG_CONFIG_HOME=" + dir + " " + bin + " --db " + db + "; echo $? > " + done + "; sleep 60"
	if out, err := tm("new-session", "-d", "-x", "100", "-y", "30", shell); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	defer tm("kill-server")
	// Wait for rendered text, polling the screen: the launcher, prefilled.
	waitScreen := func(what string, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			screen, _ := tm("capture-pane", "-p")
			if ok(screen) {
				return screen
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s after 30s; the screen:\n%s", what, screen)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitScreen("launcher", func(s string) bool {
		return strings.Contains(s, "new run") && strings.Contains(s, "(the embedded default model)")
	})
	tm("send-keys", "q")
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(done)
		if err == nil && strings.TrimSpace(string(b)) != "" {
			if code := strings.TrimSpace(string(b)); code != "0" {
				t.Fatalf("exit code %s", code)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the program did not quit on q")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("the database was not created: %v", err)
	}
}
