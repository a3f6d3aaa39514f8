package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"seal/engine"
	"seal/engine/dist"
	"seal/models/llama/llamatest"
	"seal/store"
)

// seal run --nats sends its inner loops to a worker, prints the workers' state, and
// stores no NATS credential anywhere in the database.
func TestRunOverNATSStoresNoSecret(t *testing.T) {
	const user, password = "sealer", "hunter2-do-not-store"
	dir := t.TempDir()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: filepath.Join(dir, "js"),
		NoLog: true, NoSigs: true, Username: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server did not start")
	}
	defer ns.Shutdown()
	model, err := llamatest.Folder(filepath.Join(dir, "model"), 3)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data.json")
	os.WriteFile(data, []byte(`[{"title": "Varn", "context": "Varn is a town on the river Ossa.", "questions": [{"question": "Which river is Varn on?", "answer": "Ossa"}]}]`), 0o644)

	t.Setenv("SEAL_NATS_PASSWORD", password)
	if code, _, errOut := runCmd("run", "--nats", ns.ClientURL(), "--nats-user", "nobody", "--db", filepath.Join(dir, "x.db"), "--model", model, "--data", data); code != 1 || !strings.Contains(errOut, "nats") {
		t.Fatalf("a wrong user: exit %d, %s", code, errOut)
	}

	nc, err := dist.Connect(dist.ConnOptions{URL: ns.ClientURL(), User: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	w, err := dist.NewWorker(nc, dist.WorkerConfig{Backend: llamatest.Backend(), Name: "w1", Model: model, Cache: filepath.Join(dir, "cache"), Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	db := filepath.Join(dir, "seal.db")
	code, _, errOut := runCmd("run", "--nats", ns.ClientURL(), "--nats-user", user, "--db", db, "--model", model, "--data", data,
		"--passages", "1", "--k", "2", "--rounds", "1", "--repeats", "1", "--edit-tokens", "8", "--qa-tokens", "4", "--epochs", "1", "--lora-rank", "4")
	if code != 0 {
		t.Fatalf("run --nats: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "workers: 1") || !strings.Contains(errOut, "w1 ("+llamatest.Backend().Name()+")") {
		t.Errorf("no workers line in the text output:\n%s", errOut)
	}
	d, err := store.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	run, err := d.Run(1)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(run.Config, &cfg); err != nil {
		t.Fatal(err)
	}
	for k := range cfg {
		if strings.Contains(strings.ToLower(k), "nats") {
			t.Errorf("the stored run config has a NATS field %q", k)
		}
	}
	for _, f := range []string{db, db + "-wal"} {
		b, _ := os.ReadFile(f)
		if len(b) == 0 && f == db {
			t.Fatalf("%s is empty", f)
		}
		if strings.Contains(string(b), password) || strings.Contains(string(b), user) || strings.Contains(string(b), ns.ClientURL()) {
			t.Errorf("%s holds a NATS credential or address", f)
		}
	}
}

func TestWorkerCommandBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "Usage: seal worker"},
		{[]string{"--nats", "nats://127.0.0.1:1", "--device", "tpu"}, `device "tpu" is not one of cpu, cuda, auto`},
		{[]string{"--nats", "nats://127.0.0.1:1", "--nats-tls-cert", "c.pem"}, "needs both"},
		{[]string{"--nats", "nats://127.0.0.1:1", "--nats-creds", "/nonexistent.creds"}, "nats creds"},
	} {
		code, _, errOut := runCmd(append([]string{"worker"}, c.args...)...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("seal worker %v: exit %d, %q; want an error with %q", c.args, code, errOut, c.want)
		}
	}
}

// The workers: line says how many jobs each worker sent back to the queue and how many
// it made dead letters, once there are any.
func TestWorkersLineSaysRetriedAndRejected(t *testing.T) {
	line := workersLine(engine.Workers{QueueDepth: 2, Workers: []engine.WorkerInfo{
		{Name: "w1", Device: "cpu", Jobs: 4, JobsPerSec: 1.5, Busy: true, Retried: 2, Rejected: 1},
		{Name: "w2", Device: "cpu", Jobs: 3, JobsPerSec: 1},
	}})
	want := "workers: 2, queue 2 | w1 (cpu) busy, 4 jobs, 2 retried, 1 rejected, 1.50/s | w2 (cpu) idle, 3 jobs, 1.00/s"
	if line != want {
		t.Errorf("workers line\n%s\nwant\n%s", line, want)
	}
}
