package dist

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"seal/engine"
	"seal/engine/knowledge"
	"seal/models/llama/llamatest"
)

// startServer runs an embedded NATS server with JetStream in a temp folder on a random
// loopback port.
func startServer(t testing.TB, configure func(*server.Options)) *server.Server {
	t.Helper()
	opts := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true}
	if configure != nil {
		configure(opts)
	}
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s
}

func connect(t testing.TB, s *server.Server) *nats.Conn {
	t.Helper()
	nc, err := Connect(ConnOptions{URL: s.ClientURL(), Name: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// writePassages writes a small SQuAD-format file.
func writePassages(t testing.TB, dir string) string {
	t.Helper()
	passages := []map[string]any{
		{"title": "Varn", "context": "Varn is a town on the river Ossa. It was founded in 1203 by Ilda Mare.",
			"questions": []map[string]string{{"question": "Which river is Varn on?", "answer": "Ossa"}, {"question": "Who founded Varn?", "answer": "Ilda Mare"}}},
		{"title": "Tolo Guild", "context": "The Tolo Guild makes glass. Its hall stands in Pemb.",
			"questions": []map[string]string{{"question": "What does the Tolo Guild make?", "answer": "glass"}}},
	}
	b, _ := json.Marshal(passages)
	path := filepath.Join(dir, "data.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// smallSpec is a two-round ReST-EM run cut to seconds on the llamatest model.
func smallSpec(model, data string) engine.RunSpec {
	s := engine.DefaultSpec()
	s.Model, s.Data, s.Tasks, s.K, s.Rounds, s.Repeats = model, data, 2, 2, 2, 1
	s.EditTokens, s.QATokens = 16, 6
	s.Inner.Epochs, s.Inner.Rank, s.Inner.Alpha = 2, 4, 8
	s.Policy.Epochs, s.Policy.Rank, s.Policy.Alpha = 1, 4, 8
	return s
}

// testJob is a valid job for the model folder dir.
func testJob(t testing.TB, dir string, run int64, cand int) engine.InnerJob {
	t.Helper()
	h, err := engine.ModelHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := smallSpec(dir, "")
	return engine.InnerJob{ID: engine.JobID(run, 0, 0, cand), Run: run, Cand: cand, Phase: "adapted", Domain: "knowledge",
		Payload: payloadJSON(engine.KnowledgeJob{Passage: passage(), Edit: "Varn lies on the Ossa.", Split: true}),
		Model:   engine.ModelVersion{Base: h}, Inner: s.Inner, Repeats: 1, Seed: 7, QATokens: 4, Grader: engine.GraderSettings{Kind: "contains"}}
}

func passage() (p knowledge.Passage) {
	p.Title, p.Context = "Varn", "Varn is a town on the river Ossa."
	p.Questions = append(p.Questions, knowledge.Question{Question: "Which river is Varn on?", Answer: "Ossa"})
	return p
}

func tinyModel(t testing.TB, seed uint64) string {
	t.Helper()
	dir, err := llamatest.Folder(filepath.Join(t.TempDir(), "model"), seed)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// readAll returns every message a stream holds under subject.
func readAll(t testing.TB, js jetstream.JetStream, stream, subject string) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		batch, err := cons.FetchNoWait(100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			out = append(out, m.Data())
			n++
		}
		if n == 0 {
			return out
		}
	}
}

// payloadJSON is a domain payload as a job carries it.
func payloadJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
