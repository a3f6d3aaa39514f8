package dist

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"seal/engine"
	"seal/models/llama/llamatest"
	"seal/models/tiny"
)

// BenchmarkCluster runs batches of inner-loop jobs on the embedded default model:
// in-process (the engine's local path) and through NATS with 1, 2 and 3 workers (in
// this process, each with its own copy of the model). It reports jobs/s and, per job,
// the time over the in-process run.
//
//	go test ./engine/dist -run '^$' -bench Cluster -benchtime 3x
func BenchmarkCluster(b *testing.B) {
	dir, err := tiny.Dir()
	if err != nil {
		b.Fatal(err)
	}
	const batch = 6
	jobs := func(run int64) []engine.InnerJob {
		var out []engine.InnerJob
		for i := range batch {
			j := testJob(b, dir, run, i)
			j.Seed = uint64(i)
			j.Inner.Epochs, j.Inner.Rank, j.Inner.Alpha = 1, 4, 8
			out = append(out, j)
		}
		return out
	}
	var local time.Duration // per job
	b.Run("in-process", func(b *testing.B) {
		m, err := engine.OpenJobModel(dir, llamatest.Backend())
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for _, j := range jobs(int64(i + 1)) {
				if _, err := m.Run(context.Background(), j, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
		local = b.Elapsed() / time.Duration(b.N*batch)
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "jobs/s")
	})
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			s := startServer(b, nil)
			c, err := NewCoordinator(context.Background(), connect(b, s), Config{AckWait: 30 * time.Second, MaxDeliver: 3})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithCancel(context.Background())
			var running sync.WaitGroup
			defer running.Wait() // each worker stops, then lets its model go
			defer cancel()
			for i := range n {
				w, err := NewWorker(connect(b, s), WorkerConfig{Backend: llamatest.Backend(), Name: fmt.Sprintf("w%d", i+1), Model: dir, Cache: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				running.Add(1)
				go func() { defer running.Done(); defer w.Close(); w.Run(ctx) }()
			}
			// One batch first, so every worker has its model loaded and its consumer bound.
			if _, err := c.Run(ctx, jobs(1000), nil, nil); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := c.Run(ctx, jobs(int64(i+1)), nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range res {
					if r.Err != "" {
						b.Fatal(r.Err)
					}
				}
			}
			perJob := b.Elapsed() / time.Duration(b.N*batch)
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "jobs/s")
			if local > 0 {
				b.ReportMetric(float64((perJob-local).Microseconds())/1000, "ms-over-in-process/job")
			}
		})
	}
}
