package main

// Attacks 6, 7 and 8 of issue 14 (settings files, unbounded inputs, silent wrong
// results from flags and data), replayed against the built binary.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"seal/models/tiny"
	"seal/store"
)

// quick is how long a refused run may take: it must fail before any work.
const quick = 5 * time.Second

// pastEnd stops a run right after its settings are stored (the data has no passage
// 100000): what the settings tests compare is the stored RunSpec, written before any work.
var pastEnd = []string{"--offset", "100000"}

func writeText(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// storedConfig is the RunSpec JSON of the newest run in db.
func storedConfig(t *testing.T, db string) map[string]any {
	t.Helper()
	d, err := store.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	runs, err := d.Runs(store.RunFilter{Limit: 1})
	if err != nil || len(runs) == 0 {
		t.Fatalf("no run stored in %s: %v", db, err)
	}
	r, err := d.Run(runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(r.Config, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestReliabilityConfigEqualsFlags: the same settings as flags, as a --config file, or
// half and half, give the same stored RunSpec, for the embedded model's preset and ARC's.
func TestReliabilityConfigEqualsFlags(t *testing.T) {
	cases := []struct {
		name string
		file string   // the settings as a file
		flag []string // the same as flags
	}{
		{"only k (the issue's case)", "k = 2\noffset = 100000\n", []string{"--k", "2", "--offset", "100000"}},
		{"small run", `passages = 4
k = 3
rounds = 2
repeats = 1
edit-tokens = 48
qa-tokens = 8
epochs = 3
temperature = 0.7
top-p = 0.9
targets = "q_proj,v_proj"
guard = false
review = true
offset = 100000
`, []string{"--passages", "4", "--k", "3", "--rounds", "2", "--repeats", "1", "--edit-tokens", "48", "--qa-tokens", "8",
			"--epochs", "3", "--temperature", "0.7", "--top-p", "0.9", "--targets", "q_proj,v_proj", "--guard=false", "--review", "--offset", "100000"}},
		{"ARC, only k", "domain = \"arc\"\nk = 2\noffset = 100000\n", []string{"--domain", "arc", "--k", "2", "--offset", "100000"}},
		{"ARC, more", "domain = \"arc\"\npassages = 2\nlora-rank = 8\ntop-p = 0.9\narc-vote = false\noffset = 100000\n",
			[]string{"--domain", "arc", "--passages", "2", "--lora-rank", "8", "--top-p", "0.9", "--arc-vote=false", "--offset", "100000"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := writeText(t, dir, "run.toml", c.file)
			configs := map[string]map[string]any{}
			for _, way := range []struct {
				name string
				args []string
			}{
				{"flags", c.flag},
				{"file", []string{"--config", cfg}},
				{"file and a flag over it", append([]string{"--config", cfg}, c.flag[:2]...)},
			} {
				db := filepath.Join(dir, strings.ReplaceAll(way.name, " ", "-")+".db")
				res := runBinary(t, dir, 30*time.Second, nil, append([]string{"run", "--db", db, "--name", "same"}, way.args...)...)
				if !strings.Contains(res.Stderr, "is past the end") {
					t.Fatalf("%s: exit %d\n%s", way.name, res.Code, res.Stderr)
				}
				configs[way.name] = storedConfig(t, db)
			}
			want := jsonString(configs["flags"])
			for way, got := range configs {
				if jsonString(got) != want {
					t.Errorf("%s gives another run than flags:\n%s\n%s", way, jsonString(got), want)
				}
			}
		})
	}
}

// TestReliabilityUnknownConfigKey: an unknown key is an error naming it and the file,
// before anything is stored; `passages`, the flag's own name, is a key, and the older
// `tasks` still reads.
func TestReliabilityUnknownConfigKey(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "seal.db")
	bad := writeText(t, dir, "bad.toml", "k = 2\npasages = 4\n")
	res := runBinary(t, dir, quick, nil, "run", "--db", db, "--config", bad)
	if res.Code != 2 || !strings.Contains(res.Stderr, bad) || !strings.Contains(res.Stderr, `unknown key "pasages"`) {
		t.Fatalf("unknown key: exit %d\n%s", res.Code, res.Stderr)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a refused settings file still created the database")
	}
	wrong := writeText(t, dir, "wrong.toml", "k = \"two\"\n")
	if res := runBinary(t, dir, quick, nil, "run", "--db", db, "--config", wrong); res.Code != 2 || !strings.Contains(res.Stderr, wrong) || !strings.Contains(res.Stderr, `key "k"`) {
		t.Fatalf("wrong type: exit %d\n%s", res.Code, res.Stderr)
	}
	for _, key := range []string{"passages", "tasks"} {
		cfg := writeText(t, dir, key+".toml", key+" = 4\noffset = 100000\n")
		runBinary(t, dir, 30*time.Second, nil, "run", "--db", db, "--config", cfg)
		if got := storedConfig(t, db)["tasks"]; got != 4.0 {
			t.Errorf("%s = 4 stored tasks %v", key, got)
		}
	}
}

// runMeasured is runBinary that also reports the child's peak resident memory
// (VmHWM, read while it runs: the rusage of a child started with vfork counts the
// parent's memory too).
func runMeasured(t *testing.T, dir string, limit time.Duration, args ...string) (binResult, int64) {
	t.Helper()
	cmd := exec.Command(sealBinary(t), args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var peak int64
	deadline := time.After(limit)
	for {
		select {
		case <-done:
			return binResult{Code: cmd.ProcessState.ExitCode(), Stdout: o.String(), Stderr: e.String()}, peak
		case <-deadline:
			cmd.Process.Kill()
			<-done
			t.Fatalf("seal %v did not end within %v; stderr:\n%s", args, limit, e.String())
		case <-time.After(5 * time.Millisecond):
			if b, err := os.ReadFile(status); err == nil {
				var kb int64
				if i := bytes.Index(b, []byte("VmHWM:")); i >= 0 && scanned(fmt.Sscan(string(b[i+6:]), &kb)) {
					peak = max(peak, kb<<10)
				}
			}
		}
	}
}

// memoryBound is the peak a refused or small run may reach; the attacks reached 3 GB.
const memoryBound = 400 << 20

func passageJSON(title, context string) map[string]any {
	return map[string]any{"title": title, "context": context,
		"questions": []map[string]string{{"question": "What is " + title + "?", "answer": title}}}
}

func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return writeText(t, dir, name, string(b))
}

// TestReliabilityOversizedPassage: a 5 MB passage is refused at once, naming the file,
// the passage and the limit, in bounded memory.
func TestReliabilityOversizedPassage(t *testing.T) {
	dir := t.TempDir()
	data := writeJSON(t, dir, "big.json", []any{passageJSON("Varn", "Varn is a town."), passageJSON("Huge", strings.Repeat("Huge is big. ", 400000))})
	sealBinary(t)
	start := time.Now()
	res, rss := runMeasured(t, dir, quick, append([]string{"run", "--db", filepath.Join(dir, "s.db"), "--data", data}, smallRun...)...)
	for _, want := range []string{data, "passage 1", `"context" is 5200000 bytes`, "over the limit of 65536 bytes"} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, res.Stderr)
		}
	}
	if res.Code == 0 || rss > memoryBound {
		t.Errorf("exit %d, peak memory %d MiB", res.Code, rss>>20)
	}
	t.Logf("refused in %v, peak memory %d MiB", time.Since(start).Round(time.Millisecond), rss>>20)
}

// TestReliabilityOverContextPassage: a passage whose self-edit prompt and generation
// budget do not fit the model's context (2048 positions for the embedded model) is an
// error naming the passage and both lengths, before any generation.
func TestReliabilityOverContextPassage(t *testing.T) {
	dir := t.TempDir()
	data := writeJSON(t, dir, "long.json", []any{passageJSON("Varn", "Varn is a town."), passageJSON("Long", strings.Repeat("Long is a town on the river Ossa. ", 900)),
		passageJSON("Rask", "Rask is a painter."), passageJSON("Tolo", "Tolo makes glass.")})
	res := runBinary(t, dir, quick, nil, append([]string{"run", "--db", filepath.Join(dir, "s.db"), "--data", data}, smallRun...)...)
	for _, want := range []string{data + ": passage 1: its self-edit prompt is ", "--edit-tokens 48 more may be generated", "longer than the model's context of 2048 tokens"} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, res.Stderr)
		}
	}
	if res.Code == 0 || strings.Contains(res.Stdout, `"type":"token"`) || strings.Contains(res.Stdout, `"type":"edit_done"`) {
		t.Errorf("exit %d; the run did work before refusing:\n%s", res.Code, res.Stdout)
	}
}

// modelWith is the embedded model's folder as symlinks, with the named files replaced.
func modelWith(t *testing.T, replace map[string]func(path string)) string {
	t.Helper()
	src, err := tiny.Dir()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, n := range []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} {
		path := filepath.Join(dir, n)
		if f, ok := replace[n]; ok {
			f(path)
			continue
		}
		if err := os.Symlink(filepath.Join(src, n), path); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func devZero(t *testing.T) func(string) {
	return func(path string) {
		if err := os.Symlink("/dev/zero", path); err != nil {
			t.Fatal(err)
		}
	}
}

func sparse(t *testing.T, size int64) func(string) {
	return func(path string) {
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, size); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReliabilitySideFileLimits: config.json, tokenizer.json and tokenizer_config.json
// that are /dev/zero or a 3 GB sparse file are refused before they are read, by `seal
// run` and `seal inspect`, naming the file and the limit.
func TestReliabilitySideFileLimits(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	cases := []struct {
		file string
		make func(string)
		want string
	}{
		{"config.json", devZero(t), "not a regular file"},
		{"config.json", sparse(t, 3<<30), "3221225472 bytes (3.0 GiB) is over the limit of 1048576 bytes"},
		{"tokenizer.json", devZero(t), "not a regular file"},
		{"tokenizer.json", sparse(t, 3<<30), "is over the limit of 67108864 bytes"},
		{"tokenizer_config.json", devZero(t), "not a regular file"},
		{"tokenizer_config.json", sparse(t, 16<<20+1), "16777217 bytes (16.0 MiB) is over the limit of 16777216 bytes"},
	}
	for _, c := range cases {
		model := modelWith(t, map[string]func(string){c.file: c.make})
		path := filepath.Join(model, c.file)
		for _, args := range [][]string{
			append([]string{"run", "--db", filepath.Join(t.TempDir(), "s.db"), "--model", model}, smallRun...),
			{"inspect", model},
		} {
			res, rss := runMeasured(t, "", quick, args...)
			if res.Code == 0 || !strings.Contains(res.Stderr, path) || !strings.Contains(res.Stderr, c.want) || rss > memoryBound {
				t.Errorf("%s %s: exit %d, peak %d MiB, stderr:\n%s", args[0], path, res.Code, rss>>20, res.Stderr)
			}
		}
	}
}

// TestReliabilityLargeDataFile: a run on 4 passages of a 100k-passage file holds those
// 4, not the file: its peak memory is that of a run on a file of 4 passages.
func TestReliabilityLargeDataFile(t *testing.T) {
	dir := t.TempDir()
	context := strings.Repeat("Varn is a town on the river Ossa, founded in 1203. ", 6)
	write := func(name string, n int) string {
		var b strings.Builder
		b.WriteString("[")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"title": "Town %d", "context": %q, "questions": [{"question": "Where is Varn?", "answer": "Ossa"}]}`, i, context)
		}
		b.WriteString("]")
		return writeText(t, dir, name, b.String())
	}
	peaks := map[string]int64{}
	for _, c := range []struct {
		name string
		n    int
	}{{"four", 4}, {"many", 100000}} {
		data := write(c.name+".json", c.n)
		res, peak := runMeasured(t, dir, 60*time.Second, "run", "--db", filepath.Join(dir, c.name+".db"), "--data", data, "--passages", "4",
			"--k", "1", "--rounds", "1", "--repeats", "1", "--edit-tokens", "8", "--qa-tokens", "4", "--epochs", "1", "--baselines=false", "--guard-probes", "2")
		if res.Code != 0 || !strings.Contains(res.Stderr, "(4 passages)") {
			t.Fatalf("%s: exit %d\n%s", c.name, res.Code, res.Stderr)
		}
		peaks[c.name] = peak
	}
	// Loading the whole 40 MB file (as json.Unmarshal did) added about 70 MiB.
	if extra := peaks["many"] - peaks["four"]; extra > 24<<20 {
		t.Errorf("peak memory %d MiB with 100k passages, %d MiB with 4", peaks["many"]>>20, peaks["four"]>>20)
	}
	t.Logf("peak memory: %d MiB with 4 passages in the file, %d MiB with 100000", peaks["four"]>>20, peaks["many"]>>20)
}

// TestReliabilitySamplingFlags: out-of-range sampling settings are errors naming the
// flag and the range, from flags and from a settings file, before anything is stored.
func TestReliabilitySamplingFlags(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	for _, c := range []struct{ flag, value, want string }{
		{"temperature", "-1", "--temperature -1 is out of range: want a finite number >= 0"},
		{"top-p", "0", "--top-p 0 is out of range: want a number in (0, 1]"},
		{"top-p", "2", "--top-p 2 is out of range: want a number in (0, 1]"},
	} {
		res := runBinary(t, dir, quick, nil, "run", "--db", db, "--"+c.flag, c.value)
		if res.Code != 2 || !strings.Contains(res.Stderr, c.want) {
			t.Errorf("--%s %s: exit %d\n%s", c.flag, c.value, res.Code, res.Stderr)
		}
		cfg := writeText(t, dir, "s.toml", fmt.Sprintf("%s = %s\n", c.flag, c.value))
		res = runBinary(t, dir, quick, nil, "run", "--db", db, "--config", cfg)
		if res.Code != 2 || !strings.Contains(res.Stderr, c.want) {
			t.Errorf("%s = %s in a file: exit %d\n%s", c.flag, c.value, res.Code, res.Stderr)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a refused run created the database")
	}
}

// TestReliabilityNaNFlags: NaN and infinities in any float flag, and out-of-range whole
// numbers, are errors naming the flag, never "json: unsupported value".
func TestReliabilityNaNFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range [][2]string{
		{"lr", "NaN"}, {"lr", "Inf"}, {"lora-alpha", "NaN"}, {"guard-margin", "NaN"}, {"temperature", "NaN"},
		{"temperature", "+Inf"}, {"top-p", "NaN"},
		{"k", "0"}, {"rounds", "0"}, {"repeats", "0"}, {"epochs", "0"}, {"lora-rank", "0"}, {"edit-tokens", "0"},
		{"qa-tokens", "0"}, {"passages", "-1"}, {"offset", "-1"}, {"guard-probes", "-1"},
	} {
		res := runBinary(t, dir, quick, nil, "run", "--db", filepath.Join(dir, "s.db"), "--"+c[0], c[1])
		if res.Code != 2 || !strings.Contains(res.Stderr, "--"+c[0]+" ") || !strings.Contains(res.Stderr, "is out of range") || strings.Contains(res.Stderr, "json:") {
			t.Errorf("--%s %s: exit %d\n%s", c[0], c[1], res.Code, res.Stderr)
		}
	}
}

// TestReliabilityPassagesPastEnd: asking for more passages than the file has is an
// error that says how many it has, not a run on fewer.
func TestReliabilityPassagesPastEnd(t *testing.T) {
	dir := t.TempDir()
	data := writeJSON(t, dir, "three.json", []any{passageJSON("A", "A is a town."), passageJSON("B", "B is a town."), passageJSON("C", "C is a town.")})
	res := runBinary(t, dir, quick, nil, "run", "--db", filepath.Join(dir, "s.db"), "--data", data, "--passages", "1000000")
	want := data + " has 3 passages; --passages 1000000 (from --offset 0) asks for more; use --passages 0 for all"
	if res.Code == 0 || !strings.Contains(res.Stderr, want) {
		t.Errorf("exit %d, want %q in:\n%s", res.Code, want, res.Stderr)
	}
	res = runBinary(t, dir, quick, nil, "run", "--db", filepath.Join(dir, "s.db"), "--data", data, "--passages", "2", "--offset", "2")
	if res.Code == 0 || !strings.Contains(res.Stderr, "--passages 2 (from --offset 2) asks for more") {
		t.Errorf("exit %d:\n%s", res.Code, res.Stderr)
	}
}

// TestReliabilitySQuADv11: the official SQuAD v1.1 file shape runs (each paragraph a
// passage, each answerable question with its first answer); another shape's error
// names both accepted shapes.
func TestReliabilitySQuADv11(t *testing.T) {
	dir := t.TempDir()
	data := writeText(t, dir, "dev-v1.1.json", `{"version": "1.1", "data": [{"title": "Varn", "paragraphs": [
		{"context": "Varn is a town on the river Ossa.", "qas": [
			{"id": "1", "question": "Which river is Varn on?", "answers": [{"answer_start": 21, "text": "Ossa"}, {"answer_start": 17, "text": "the river Ossa"}]},
			{"id": "2", "question": "Is Varn a city?", "is_impossible": true, "answers": []}]},
		{"context": "Varn was founded in 1203.", "qas": [{"id": "3", "question": "When was Varn founded?", "answers": [{"answer_start": 20, "text": "1203"}]}]}]}]}`)
	db := filepath.Join(dir, "s.db")
	res := runBinary(t, dir, 30*time.Second, nil, "run", "--db", db, "--data", data, "--passages", "2", "--k", "1", "--rounds", "1",
		"--repeats", "1", "--edit-tokens", "8", "--qa-tokens", "4", "--epochs", "1", "--baselines=false", "--guard=false")
	if res.Code != 0 || !strings.Contains(res.Stderr, "(2 passages)") {
		t.Fatalf("exit %d\n%s", res.Code, res.Stderr)
	}
	d, err := store.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tasks, err := d.Tasks(1)
	if err != nil || len(tasks) != 2 {
		t.Fatalf("%d tasks stored: %v", len(tasks), err)
	}
	if q := tasks[0].Questions; tasks[0].Title != "Varn" || len(q) != 1 || q[0].Question != "Which river is Varn on?" || q[0].Answer != "Ossa" {
		t.Errorf("first passage stored as %+v", tasks[0])
	}
	other := writeText(t, dir, "other.json", `{"passages": []}`)
	res = runBinary(t, dir, quick, nil, "run", "--db", db, "--data", other)
	for _, want := range []string{other, `want a JSON array of passages [{"title", "context", "questions"`, `or the SQuAD v1.1 object {"data": [{"title", "paragraphs"`} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, res.Stderr)
		}
	}
}

func scanned(_ int, err error) bool { return err == nil }
