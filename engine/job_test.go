package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"seal/engine/knowledge"
	"seal/models/llama/llamatest"
)

func TestJobIDIsDeterministicAndDistinct(t *testing.T) {
	if JobID(3, 1, 2, 0) != JobID(3, 1, 2, 0) {
		t.Fatal("the same inner loop got two ids")
	}
	seen := map[string]bool{}
	for _, k := range [][4]int{{3, 1, 2, 0}, {3, 1, 2, 1}, {3, 1, 0, 2}, {3, 0, 1, 2}, {4, 1, 2, 0}, {3, 1, 2, -1}, {3, 12, 1, 0}, {3, 1, 21, 0}} {
		id := JobID(int64(k[0]), k[1], k[2], k[3])
		if seen[id] {
			t.Fatalf("%v: id %s is not unique", k, id)
		}
		seen[id] = true
	}
	if got := JobID(3, 1, 2, -1); got != "run3-round1-task2-cand-1" {
		t.Errorf("JobID(3, 1, 2, -1) = %q", got)
	}
}

func TestInnerJobSurvivesJSON(t *testing.T) {
	s := DefaultSpec()
	j := InnerJob{ID: JobID(1, 0, 0, 2), Run: 1, Cand: 2, Phase: "adapted", Domain: "knowledge",
		Payload: payloadJSON(KnowledgeJob{Passage: knowledge.Passage{Title: "T", Context: "C.", Questions: []knowledge.Question{{Question: "Q?", Answer: "A"}}}, Edit: "E", Split: true}),
		Model:   ModelVersion{Base: "ab", Adapters: []string{"cd"}}, Inner: s.Inner, Repeats: 2, Seed: 1<<63 + 5, QATokens: 8, Grader: GraderSettings{Kind: "contains"}}
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	var back InnerJob
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(j, back) {
		t.Errorf("round trip changed the job:\n%+v\n%+v", j, back)
	}
	if err := back.Validate(); err != nil {
		t.Errorf("valid job: %v", err)
	}
	back.Payload = nil
	if err := back.Validate(); err == nil {
		t.Error("a knowledge job without its payload passed Validate")
	}
}

func TestModelVersionExtends(t *testing.T) {
	v := ModelVersion{Base: "b"}
	v2 := v.With("a1").With("a2")
	if todo, ok := v2.Extends(v); !ok || !reflect.DeepEqual(todo, []string{"a1", "a2"}) {
		t.Errorf("v2.Extends(v) = %v, %v", todo, ok)
	}
	if _, ok := v.Extends(v2); ok {
		t.Error("a shorter version extends a longer one")
	}
	if _, ok := (ModelVersion{Base: "b", Adapters: []string{"x"}}).Extends(v.With("a1")); ok {
		t.Error("versions with different adapters extend each other")
	}
	if _, ok := (ModelVersion{Base: "c"}).Extends(v); ok {
		t.Error("versions on different bases extend each other")
	}
}

func TestModelHashCachesAndNoticesChanges(t *testing.T) {
	dir, err := llamatest.Folder(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	h1, err := ModelHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !ValidHash(h1) {
		t.Fatalf("hash %q is not a SHA-256 digest", h1)
	}
	if _, err := os.Stat(filepath.Join(dir, hashSidecar)); err != nil {
		t.Fatalf("no sidecar: %v", err)
	}
	if h2, _ := ModelHash(dir); h2 != h1 {
		t.Fatalf("hash changed without a change: %s, %s", h1, h2)
	}
	// The same bytes elsewhere hash the same: the hash is of content, not of the path.
	other, _ := llamatest.Folder(t.TempDir(), 3)
	if h, _ := ModelHash(other); h != h1 {
		t.Fatalf("same model, other folder: %s != %s", h, h1)
	}
	cfg := filepath.Join(dir, "config.json")
	b, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, append(b, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(cfg, time.Now().Add(time.Hour), time.Now().Add(time.Hour))
	if h3, _ := ModelHash(dir); h3 == h1 {
		t.Fatal("a changed config.json kept the cached hash")
	}
}

// A worker decodes jobs from the network: whatever arrives gets an error, never a panic,
// and a job that passes Validate can be described and re-encoded.
func FuzzInnerJobJSON(f *testing.F) {
	j := InnerJob{ID: "run1-round0-task0-cand0", Domain: "knowledge", Payload: payloadJSON(KnowledgeJob{Passage: knowledge.Passage{Title: "T", Context: "C",
		Questions: []knowledge.Question{{Question: "Q", Answer: "A"}}}}), Model: ModelVersion{Base: "ab"}, Inner: DefaultSpec().Inner, Repeats: 1, QATokens: 1}
	b, _ := json.Marshal(j)
	f.Add(b)
	f.Add([]byte(`{"id":"x","domain":"knowledge","payload":null}`))
	f.Add([]byte(`{"model":{"base":"","adapters":["../../etc"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var j InnerJob
		if json.Unmarshal(data, &j) != nil {
			return
		}
		if j.Validate() != nil {
			return
		}
		_ = j.Model.String()
		if _, err := json.Marshal(j); err != nil {
			t.Fatalf("a valid job does not encode: %v", err)
		}
	})
}

// The hash sidecar lives in a folder the user hands over: one that is a device or
// huge is not read, and the hash is computed from the weights instead.
func TestModelHashIgnoresAnUnboundedSidecar(t *testing.T) {
	dir, err := llamatest.Folder(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ModelHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	side := filepath.Join(dir, hashSidecar)
	os.Remove(side)
	if err := os.Symlink("/dev/zero", side); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var got string
	go func() { got, err = ModelHash(dir); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("ModelHash is reading a sidecar that points at /dev/zero")
	}
	if err != nil || got != want {
		t.Fatalf("hash %q, %v; want %q", got, err, want)
	}
}

// payloadJSON is a domain payload as a job carries it.
func payloadJSON(p any) json.RawMessage {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}
