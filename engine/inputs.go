package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"seal/store"
)

// A run's results are only as good as the inputs they were computed on, so a run
// records the content hash of every input file when it starts (RunSpec.InputHashes),
// stores its tasks in the database, and a resume trusts neither file names nor caches:
// the passages come from the store, an input file that is still there must have the
// bytes the run started with, and the model folder is hashed again in full and its
// logits checked against the base version's fingerprint (startVersion).

// inputFiles are the files a run reads besides the model: the data file, the RL
// passages' file, ARC's solutions file and the guard's probe file.
func (s RunSpec) inputFiles() []string {
	files := []string{s.Data, s.RLData}
	if side := DomainInfoOf(s.Domain).SideFiles; side != nil {
		files = append(files, side(s)...)
	}
	if s.Guard.ProbeData != "" {
		files = append(files, s.Guard.ProbeData)
	}
	return slices.DeleteFunc(files, func(f string) bool { return f == "" })
}

// hashInputs records the content hash of each input file that exists; one that is
// missing is left to the loader, which names it.
func hashInputs(s RunSpec) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range s.inputFiles() {
		h, err := hashFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("input %s: %w", f, err)
		}
		out[f] = h
	}
	return out, nil
}

// checkInputs refuses an input file whose bytes are not those the run recorded. On a
// resume a knowledge data file may be gone: the stored passages are the run's own.
func (x *runner) checkInputs() error {
	paths := make([]string, 0, len(x.spec.InputHashes))
	for p := range x.spec.InputHashes {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		h, err := hashFile(p)
		if errors.Is(err, fs.ErrNotExist) && x.resumed {
			continue
		} else if err != nil {
			return fmt.Errorf("input %s: %w", p, err)
		}
		if want := x.spec.InputHashes[p]; h != want {
			return fmt.Errorf("%s changed since run %d started (sha256 %s, the run recorded %s): its results were computed on the old content; restore the file or start a new run",
				p, x.r.ID, short(h), short(want))
		}
	}
	return nil
}

// loadTasks puts the run's tasks in place: on a resume, the ones stored when it
// started; otherwise (or if none were stored) from the data file, stored now.
func (x *runner) loadTasks() error {
	if err := x.checkInputs(); err != nil {
		return err
	}
	var stored []store.Task
	if x.resumed {
		var err error
		if stored, err = x.e.DB.Tasks(x.r.ID); err != nil {
			return err
		}
	}
	if len(stored) > 0 {
		if x.tasks = x.dom.FromRows(stored); x.tasks != nil {
			x.nEval = len(x.tasks)
			for i, t := range x.tasks {
				if IsRLKey(t.Row().Key) {
					x.nEval = min(x.nEval, i)
				}
			}
			return nil
		}
	}
	tasks, err := x.dom.Load(x.model(), x.spec, EvalSlice(x.spec))
	if err != nil {
		return err
	}
	x.nEval = len(tasks)
	if x.spec.SeparateRL() {
		rl, err := x.dom.Load(x.model(), x.spec, RLSlice(x.spec))
		if err != nil {
			return err
		}
		tasks = append(tasks, rl...)
	}
	x.tasks = tasks
	rows := make([]store.Task, len(tasks))
	for i, t := range tasks {
		rows[i] = t.Row()
		rows[i].RunID, rows[i].Index = x.r.ID, i
	}
	if len(stored) > 0 {
		// Tasks rebuilt from their (hash-checked) files (ARC's); a run from before the
		// hashes is still checked against what it stored.
		if !sameTasks(stored, rows) {
			return fmt.Errorf("%s no longer gives the tasks run %d stored: its results were computed on the old ones; restore the file or start a new run", x.spec.Data, x.r.ID)
		}
		return nil
	}
	return x.e.DB.SaveTasks(x.r.ID, rows)
}

func sameTasks(a, b []store.Task) bool {
	return slices.EqualFunc(a, b, func(x, y store.Task) bool {
		return x.Index == y.Index && x.Key == y.Key && x.Title == y.Title && x.Context == y.Context && slices.Equal(x.Questions, y.Questions)
	})
}
