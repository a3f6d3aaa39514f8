package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"seal/engine/arc"
)

// The ARC oracle tries every config of arc.SearchSpace against a task's real tests:
// up to twelve test-time trainings per task, most of an ARC run's baselines. What it
// finds depends only on the task's grids, the weights, the search space and the
// test-time-training settings, so it is computed once and kept in a file beside the
// database (Engine.Dir/arc-oracle/<key>.json), keyed by all of those: a second run, a
// resumed run, or another run over the same task and model version reuses it, and a
// changed task, model, space or setting misses.

// oracleCacheVersion changes when what an entry means changes (the search, the
// scoring), so older entries miss instead of being trusted.
const oracleCacheVersion = 1

// oracleEntry is one cached search: the config it chose and that config's result.
type oracleEntry struct {
	Key     string         `json:"key"`
	Task    string         `json:"task"` // the task's id, for a person reading the folder
	Version ModelVersion   `json:"version"`
	Tried   int            `json:"tried"` // configs the search tried before it stopped
	Config  arc.EditConfig `json:"config"`
	Result  arc.Result     `json:"result"`
}

// oracleKey is the hash of everything the oracle's answer depends on. The task counts
// by its grids (its id does not change what a model learns from it); the seed is
// derived from the task's grids too (oracleSeed), so the same task at another offset
// hits.
func oracleKey(task arc.Task, v ModelVersion, device string, space []arc.EditConfig, o arc.Options) string {
	b, _ := json.Marshal(struct {
		V        int
		Train    []arc.Pair
		Test     []arc.Pair
		Version  ModelVersion
		Device   string
		Space    []arc.EditConfig
		Template string
		Date     string
		Limits   arc.Limits
		Rank     int
		Alpha    float64
		Targets  []string
		Batch    int
		Warmup   int
		Examples int
		Tokens   int
		NewToks  int
		Vote     bool
		Seed     uint64
	}{oracleCacheVersion, task.Train, task.Test, v, device, space, templateSource(o.Prompter), o.Prompter.Date, o.Limits,
		o.Rank, o.Alpha, o.Targets, o.Batch, o.Warmup, o.MaxExamples, o.MaxTokens, o.MaxNewTokens, o.Vote, o.Seed})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// templateSource is the chat template's text ("" for plain text); the model folder's
// hash covers it already, but a prompter need not come from the folder.
func templateSource(p arc.Prompter) string {
	if p.Template == nil {
		return ""
	}
	return p.Template.Source()
}

// oracleSeed is the oracle's seed for a task: the run's seed mixed with the hash of the
// task's grids, not its position in the run, so a cached search is found again
// whatever --offset or --passages put the task where.
func oracleSeed(runSeed uint64, task arc.Task) uint64 {
	b, _ := json.Marshal([2][]arc.Pair{task.Train, task.Test})
	sum := sha256.Sum256(b)
	return runSeed*1_000_003 ^ binary.LittleEndian.Uint64(sum[:8])
}

// oracleCache is a folder of cached searches; "" caches nothing.
type oracleCache string

func (c oracleCache) path(key string) string { return filepath.Join(string(c), key+".json") }

// get returns the cached search under key. A missing, unreadable or foreign file is a
// miss: the search runs again and replaces it.
func (c oracleCache) get(key string) (oracleEntry, bool) {
	if c == "" {
		return oracleEntry{}, false
	}
	b, err := os.ReadFile(c.path(key))
	if err != nil {
		return oracleEntry{}, false
	}
	var e oracleEntry
	if json.Unmarshal(b, &e) != nil || e.Key != key || e.Config.Validate(arc.Limits{}) != nil {
		return oracleEntry{}, false
	}
	return e, true
}

// put writes an entry under a temporary name and renames it into place, so a crash or
// a concurrent run never leaves half a file that a later run would read.
func (c oracleCache) put(e oracleEntry) error {
	if c == "" {
		return nil
	}
	if err := os.MkdirAll(string(c), 0o755); err != nil {
		return fmt.Errorf("arc oracle cache: %w", err)
	}
	e.Result.Curve = nil // a loss curve is not part of the answer, and may hold a NaN JSON cannot write
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("arc oracle cache: %w", err)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", c.path(e.Key), os.Getpid())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("arc oracle cache: %w", err)
	}
	if err := os.Rename(tmp, c.path(e.Key)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("arc oracle cache: %w", err)
	}
	return nil
}

// OracleTry reports one config of the ARC oracle's search, tried (Try of Of, from 1),
// so a search of many test-time trainings is never silent; Cached says the whole
// search was read from the cache instead (Try and Of are then the configs it had tried).
type OracleTry struct {
	Where
	Try     int     `json:"try"`
	Of      int     `json:"of"`
	Edit    string  `json:"edit"`
	Correct int     `json:"correct"` // test inputs answered right
	Tests   int     `json:"tests"`
	Reward  float64 `json:"reward"`
	Reason  string  `json:"reason,omitempty"` // why the config trained nothing (it diverged)
	Cached  bool    `json:"cached,omitempty"`
}

func (OracleTry) EventType() string { return "oracle_try" }

func correctCount(r arc.Result) int {
	n := 0
	for _, ok := range r.Correct {
		if ok {
			n++
		}
	}
	return n
}
