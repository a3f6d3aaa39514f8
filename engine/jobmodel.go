package engine

import (
	"context"
	"fmt"

	"seal/models/lora"
	"seal/models/tensor"
)

// JobModel is a loaded model version that runs inner-loop jobs: a worker's side of a
// job. The base folder is checked by content hash and every adapter merged on top is
// checked by its hash before it is used.
type JobModel struct {
	dir     string
	lm      *lm
	version ModelVersion
}

// OpenJobModel loads a model folder to compute on b and hashes it.
func OpenJobModel(dir string, b tensor.Backend) (*JobModel, error) {
	h, err := ModelHash(dir)
	if err != nil {
		return nil, err
	}
	l, err := loadLM(dir, b)
	if err != nil {
		return nil, err
	}
	return &JobModel{dir: dir, lm: l, version: ModelVersion{Base: h}}, nil
}

// Version is what the model holds now.
func (m *JobModel) Version() ModelVersion { return m.version }

// Close releases the weights.
func (m *JobModel) Close() { m.lm.close() }

// Checkout brings the model to version v. adapter(hash) returns the folder of a saved
// adapter with that hash (fetching it if need be); its weights are hashed again here.
// A version on another base is refused; one that does not extend the current one
// reloads the base first.
func (m *JobModel) Checkout(v ModelVersion, adapter func(hash string) (string, error)) error {
	if v.Base != m.version.Base {
		return fmt.Errorf("job wants base model %s, this worker holds %s", short(v.Base), short(m.version.Base))
	}
	todo, ok := v.Extends(m.version)
	if !ok {
		l, err := loadLM(m.dir, m.lm.model.Backend)
		if err != nil {
			return err
		}
		m.lm.close()
		m.lm, m.version = l, ModelVersion{Base: m.version.Base}
		todo = v.Adapters
	}
	for _, h := range todo {
		if !ValidHash(h) {
			return fmt.Errorf("adapter hash %q is not a SHA-256 digest", h)
		}
		dir, err := adapter(h)
		if err != nil {
			return fmt.Errorf("adapter %s: %w", short(h), err)
		}
		got, err := AdapterHash(dir)
		if err != nil {
			return err
		}
		if got != h {
			return fmt.Errorf("adapter %s in %s has hash %s", short(h), dir, short(got))
		}
		a, err := lora.Load(dir)
		if err != nil {
			return err
		}
		if err := m.lm.model.SetAdapter(a); err != nil {
			return err
		}
		if err := m.lm.model.MergeAdapter(); err != nil {
			return err
		}
		m.version = m.version.With(h)
	}
	return nil
}

// Run runs one job on the model, which must already hold the job's version.
func (m *JobModel) Run(ctx context.Context, job InnerJob, send func(Event)) (InnerResult, error) {
	if _, ok := job.Model.Extends(m.version); !ok || len(job.Model.Adapters) != len(m.version.Adapters) {
		return InnerResult{JobID: job.ID}, fmt.Errorf("job %s is for model %s, the worker holds %s", job.ID, job.Model, m.version)
	}
	g, err := newGrader(m.lm, job.Grader)
	if err != nil {
		return InnerResult{JobID: job.ID}, err
	}
	if send == nil {
		send = func(Event) {}
	}
	return runInnerJob(ctx, &Model{lm: m.lm, grader: g}, job, send)
}
