package dist

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestRedeliveredJobStoresOneResult: a job message delivered twice (its first worker too
// slow to report, say) and finished by both workers leaves one result in the results
// stream; the same job dispatched again under a new message ID (a resumed run) gets a
// result of its own.
func TestRedeliveredJobStoresOneResult(t *testing.T) {
	s := startServer(t, nil)
	js, err := jetstream.New(connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := ensure(ctx, js, Config{AckWait: 200 * time.Millisecond, MaxDeliver: 5}); err != nil {
		t.Fatal(err)
	}
	cons, err := js.Consumer(ctx, JobsStream, WorkersName)
	if err != nil {
		t.Fatal(err)
	}
	finish := func(m jetstream.Msg, worker string) {
		if _, err := js.Publish(ctx, resultsSubject(7), []byte(`{"job_id":"j1","worker":"`+worker+`"}`), resultID(m)...); err != nil {
			t.Fatal(err)
		}
	}
	next := func() jetstream.Msg {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if _, err := js.Publish(ctx, jobsSubject(7), []byte(`{"id":"j1"}`), jetstream.WithMsgID("j1@s1-1")); err != nil {
		t.Fatal(err)
	}
	first := next() // never acked: the ack wait passes and the job is delivered again
	second := next()
	if md, _ := second.Metadata(); md == nil || md.NumDelivered != 2 {
		t.Fatalf("want the same job delivered a second time, got %+v", md)
	}
	finish(second, "w2")
	finish(first, "w1")
	second.Ack()
	if got := readAll(t, js, ResultsStream, resultsSubject(7)); len(got) != 1 || string(got[0]) != `{"job_id":"j1","worker":"w2"}` {
		t.Fatalf("results stream after two finishes of one delivery: %q, want w2's alone", got)
	}

	if _, err := js.Publish(ctx, jobsSubject(7), []byte(`{"id":"j1"}`), jetstream.WithMsgID("j1@s2-1")); err != nil {
		t.Fatal(err)
	}
	again := next()
	finish(again, "w3")
	again.Ack()
	if got := readAll(t, js, ResultsStream, resultsSubject(7)); len(got) != 2 {
		t.Fatalf("a job dispatched again must get a result of its own: %d results", len(got))
	}
}
