package dist

import (
	"context"
	"errors"
	"testing"
	"time"

	"seal/engine"
	"seal/models/llama/llamatest"
)

// TestCoordinatorHandsEachResultOver: the coordinator gives each result to done as it
// arrives, in job order, so the engine commits a finished candidate before waiting for
// the next; an error from done stops the batch and is Run's error.
func TestCoordinatorHandsEachResultOver(t *testing.T) {
	s := startServer(t, nil)
	nc := connect(t, s)
	c, err := NewCoordinator(context.Background(), nc, Config{AckWait: 5 * time.Second, MaxDeliver: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := tinyModel(t, 1)
	startWorker(t, connect(t, s), WorkerConfig{Backend: llamatest.Backend(), Name: "w1", Model: dir})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	jobs := []engine.InnerJob{testJob(t, dir, 1, 0), testJob(t, dir, 1, 1), testJob(t, dir, 1, 2)}
	var order []int
	res, err := c.Run(ctx, jobs, nil, func(i int, r engine.InnerResult) error {
		if r.JobID != jobs[i].ID {
			t.Errorf("result %d is job %s, want %s", i, r.JobID, jobs[i].ID)
		}
		order = append(order, i)
		return nil
	})
	if err != nil || len(res) != 3 || len(order) != 3 || order[0] != 0 || order[1] != 1 || order[2] != 2 {
		t.Fatalf("results %d, handed over %v, err %v", len(res), order, err)
	}
	stop := errors.New("commit failed")
	more := []engine.InnerJob{testJob(t, dir, 2, 0), testJob(t, dir, 2, 1)}
	calls := 0
	if _, err := c.Run(ctx, more, nil, func(int, engine.InnerResult) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("done failing at the first result: %d calls, err %v", calls, err)
	}
}
