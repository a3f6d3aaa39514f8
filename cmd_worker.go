package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"seal/engine"
	"seal/engine/dist"
	"seal/store/termsafe"
)

// natsFlags are the connection flags of seal worker, and of seal run and resume with
// --nats. The password comes only from $SEAL_NATS_PASSWORD, never from a flag.
type natsFlags struct {
	conn      dist.ConnOptions
	cfg       dist.Config
	keepModel bool
}

func addNATSFlags(fs *flag.FlagSet, coordinator bool) *natsFlags {
	n := &natsFlags{cfg: dist.DefaultConfig()}
	fs.StringVar(&n.conn.URL, "nats", "", "NATS server URL (nats://host:4222, tls://host:4222)")
	fs.StringVar(&n.conn.Creds, "nats-creds", "", "NATS credentials file (JWT and nkey seed)")
	fs.StringVar(&n.conn.User, "nats-user", "", "NATS user (default $SEAL_NATS_USER; the password is read from $SEAL_NATS_PASSWORD)")
	fs.StringVar(&n.conn.TLSCA, "nats-tls-ca", "", "CA certificate that signed the NATS server's certificate")
	fs.StringVar(&n.conn.TLSCert, "nats-tls-cert", "", "client certificate for NATS mutual TLS")
	fs.StringVar(&n.conn.TLSKey, "nats-tls-key", "", "client key for NATS mutual TLS")
	if coordinator {
		fs.DurationVar(&n.cfg.AckWait, "nats-ack-wait", n.cfg.AckWait, "a job whose worker is silent this long goes to another worker")
		fs.IntVar(&n.cfg.MaxDeliver, "nats-max-deliver", n.cfg.MaxDeliver, "deliveries of a job before it is a dead letter")
		fs.BoolVar(&n.keepModel, "nats-keep-model", false, "do not upload the base model to the server (every worker has it: seal worker --model)")
	}
	return n
}

// coordinator connects and makes the executor for a run; nil, nil without --nats.
func (n *natsFlags) coordinator(ctx context.Context) (*dist.Coordinator, func(), error) {
	if n == nil || n.conn.URL == "" { // no --nats: inner loops run in-process
		return nil, func() {}, nil
	}
	o := n.conn.WithEnv()
	o.Name = "seal coordinator"
	nc, err := dist.Connect(o)
	if err != nil {
		return nil, nil, err
	}
	c, err := dist.NewCoordinator(ctx, nc, n.cfg)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	c.KeepModel = n.keepModel
	return c, func() { c.Close(); nc.Close() }, nil
}

func cmdWorker(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("worker", stderr)
	n := addNATSFlags(fs, false)
	model := new(string)
	addModelFlag(fs, model, "a local copy, checked against each job's base hash; default: fetch the job's model from the server")
	device := addDeviceFlag(fs)
	host, _ := os.Hostname()
	name := fs.String("name", fmt.Sprintf("%s-%d", host, os.Getpid()), "this worker's name, unique among the workers")
	cache := fs.String("cache", "", "folder for fetched models and adapters (default: the user's cache folder)")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if n.conn.URL == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	b, err := device.open("seal worker", stderr)
	if err != nil {
		fmt.Fprintf(stderr, "seal worker: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := n.conn.WithEnv()
	o.Name = "seal worker " + *name
	nc, err := dist.Connect(o)
	if err != nil {
		fmt.Fprintf(stderr, "seal worker: %v\n", err)
		return 1
	}
	defer nc.Close()
	w, err := dist.NewWorker(nc, dist.WorkerConfig{Name: *name, Backend: b, Model: *model, Cache: *cache, Log: termsafe.TextWriter(stderr)}) // the log quotes jobs' errors
	if err != nil {
		fmt.Fprintf(stderr, "seal worker: %v\n", err)
		return 1
	}
	defer w.Close()
	if err := w.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "seal worker: %v\n", err)
		return 1
	}
	return 0
}

// workersLine is the text form of a Workers event.
func workersLine(e engine.Workers) string {
	s := fmt.Sprintf("workers: %d, queue %d", len(e.Workers), e.QueueDepth)
	for _, w := range e.Workers {
		state := "idle"
		if w.Busy {
			state = "busy"
		}
		// Names and devices are the workers' own words.
		s += fmt.Sprintf(" | %s (%s) %s, %d jobs", termsafe.Line(w.Name), termsafe.Line(w.Device), state, w.Jobs)
		// Jobs it sent back to the queue, and jobs it made dead letters, once there are any.
		if w.Retried > 0 {
			s += fmt.Sprintf(", %d retried", w.Retried)
		}
		if w.Rejected > 0 {
			s += fmt.Sprintf(", %d rejected", w.Rejected)
		}
		s += fmt.Sprintf(", %.2f/s", w.JobsPerSec)
	}
	return s
}
