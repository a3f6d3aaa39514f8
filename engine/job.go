package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"seal/engine/arc"
	"seal/engine/knowledge"
	"seal/store"
)

// InnerJob is one inner loop as a value: what to train on, with which recipe and seed,
// on which model version. It serialises to JSON, so the same job runs in-process or on
// a remote worker and gives the same result for the same seed.
type InnerJob struct {
	// ID is deterministic (run, round, task, candidate): a job sent twice is the same job,
	// and a second result for it is a duplicate.
	ID     string `json:"id"`
	Run    int64  `json:"run"`
	Round  int    `json:"round"`
	Task   int    `json:"task"`
	Cand   int    `json:"cand"`
	Phase  string `json:"phase"`  // the EvalItem phase: "adapted", "baseline_passage"
	Domain string `json:"domain"` // a registered domain's name (domain.go)
	// Payload is the domain's own part (Domain.Payload): KnowledgeJob, ARCJob, ...
	Payload json.RawMessage `json:"payload"`

	Model    ModelVersion   `json:"model"`
	Inner    Update         `json:"inner"`
	Repeats  int            `json:"repeats"`
	Seed     uint64         `json:"seed"`
	QATokens int            `json:"qa_tokens"`
	Grader   GraderSettings `json:"grader"`
}

// KnowledgeJob is the knowledge domain's payload: train on the edit's sequences, then
// answer the passage's questions closed-book.
type KnowledgeJob struct {
	Passage knowledge.Passage `json:"passage"`
	Edit    string            `json:"edit"`
	Split   bool              `json:"split_newlines"`
	// PassageRepeats > 1 trains on the passage alone that many times over (the edit
	// must be empty): the step-matched baseline (stepmatch.go).
	PassageRepeats int `json:"passage_repeats,omitempty"`
}

// ARCJob is the ARC domain's payload: test-time train on the task's demonstrations
// with the augmentations and hyperparameters the edit (a JSON config) chooses, then
// predict the test outputs with voting. An edit that does not parse or is out of range
// is not trained: reward 0, with the reason.
type ARCJob struct {
	Task arc.Task `json:"task"`
	Edit string   `json:"edit"`
	Vote bool     `json:"vote,omitempty"`     // predict with augmented queries and voting
	Max  int      `json:"examples,omitempty"` // most TTT examples (0: 250)
}

// GraderSettings say how answers are graded. The http grader's key is not here: each
// process reads it from its own SEAL_GRADER_KEY.
type GraderSettings struct {
	Kind  string `json:"kind"` // "contains", "judge", "hybrid", "http"
	URL   string `json:"url,omitempty"`
	Model string `json:"model,omitempty"`
}

// InnerResult is what a job produced; Err is set (and the rest empty) when it failed.
type InnerResult struct {
	JobID   string             `json:"job_id"`
	Accs    []float64          `json:"accs"`
	Reason  string             `json:"reason,omitempty"` // why the edit was invalid (scored 0, nothing trained)
	Curve   []store.TrainPoint `json:"curve"`            // the first repeat's loss curve
	Evals   []store.EvalItem   `json:"evals"`
	Worker  string             `json:"worker"`
	Device  string             `json:"device"`
	Elapsed time.Duration      `json:"elapsed"`
	Err     string             `json:"err,omitempty"`
}

// JobID names the inner loop of candidate cand of a task in a round of a run.
func JobID(run int64, round, task, cand int) string {
	return fmt.Sprintf("run%d-round%d-task%d-cand%d", run, round, task, cand)
}

// Validate reports the first field of a job that cannot run, naming it; a worker
// checks every job it is handed.
func (j InnerJob) Validate() error {
	if j.ID == "" {
		return fmt.Errorf("job: no id")
	}
	d, ok := DomainNamed(j.Domain)
	switch {
	case !ok:
		return fmt.Errorf("job %s: domain %q is not supported (%s)", j.ID, j.Domain, DomainNames())
	case j.Model.Base == "":
		return fmt.Errorf("job %s: no base model hash", j.ID)
	case j.Repeats < 1:
		return fmt.Errorf("job %s: repeats = %d, need at least one", j.ID, j.Repeats)
	case j.QATokens < 1:
		return fmt.Errorf("job %s: qa_tokens = %d, need at least one", j.ID, j.QATokens)
	case j.Inner.Rank < 1 || j.Inner.Alpha <= 0 || j.Inner.LR <= 0 || j.Inner.Epochs < 1 || j.Inner.Batch < 1 || len(j.Inner.Targets) == 0:
		return fmt.Errorf("job %s: inner update: rank, alpha, lr, epochs, batch and targets must be set (%+v)", j.ID, j.Inner)
	}
	return d.CheckJob(j)
}

// Executor runs batches of inner loops: in-process on the run's own model, or on
// workers elsewhere. Results come back in the order of jobs. When done is not nil, Run
// hands it each result as soon as that result and every one before it have arrived,
// so a run commits each finished candidate before it waits for the next; an error
// from done stops the batch and is Run's error.
type Executor interface {
	Run(ctx context.Context, jobs []InnerJob, onEvent func(Event), done func(i int, r InnerResult) error) ([]InnerResult, error)
}

// Publisher is an executor whose workers fetch models by content hash: a run hands it
// its base model folder at the start and every policy update it merges.
type Publisher interface {
	PublishModel(ctx context.Context, hash, dir string) error
	PublishAdapter(ctx context.Context, hash, dir string) error
}

// runInnerJob runs one job's inner loop through its domain, on the model as it is
// loaded, and leaves the weights as it found them. It is the one code path for a job,
// in-process and on a worker.
func runInnerJob(ctx context.Context, m *Model, job InnerJob, send func(Event)) (InnerResult, error) {
	start := time.Now()
	if err := job.Validate(); err != nil {
		return InnerResult{JobID: job.ID}, err
	}
	d, _ := DomainNamed(job.Domain)
	res, err := d.RunJob(ctx, m, job, Sink{Where: Where{Run: job.Run, Round: job.Round, Task: job.Task, Cand: job.Cand}, Send: send})
	res.JobID, res.Elapsed = job.ID, time.Since(start)
	return res, err
}

// localExecutor runs jobs one by one on the run's own model.
type localExecutor struct{ m *Model }

func (e localExecutor) Run(ctx context.Context, jobs []InnerJob, onEvent func(Event), done func(int, InnerResult) error) ([]InnerResult, error) {
	out := make([]InnerResult, len(jobs))
	for i, j := range jobs {
		res, err := runInnerJob(ctx, e.m, j, onEvent)
		if err != nil {
			return nil, err
		}
		res.Worker, res.Device = "local", e.m.lm.model.Backend.Name()
		out[i] = res
		if done != nil {
			if err := done(i, res); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
