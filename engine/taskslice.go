package engine

import (
	"fmt"
	"strings"
)

// A TaskSlice is the part of a data file a domain loads tasks from (Domain.Load): the
// run's evaluation tasks (--data from --offset, --passages of them) or the RL tasks of
// every round (--rl-data from its start, --rounds × --rl-passages of them). Both go
// through the one Load, so a domain's RL tasks are read and checked as its evaluation
// tasks are; only their keys and the wording of errors differ.
type TaskSlice struct {
	File      string // the data file
	Solutions string // the solutions file given for it (ARC's --solutions); "" looks beside File
	Offset    int    // the first task taken
	Count     int    // how many; 0 takes the rest of the file
	// RL marks the RL tasks: their keys start "rl:" and a file too short for every
	// round's fresh block is an error naming --rounds and --rl-passages.
	RL               bool
	rounds, perRound int
}

// EvalSlice is the run's evaluation tasks.
func EvalSlice(s RunSpec) TaskSlice {
	return TaskSlice{File: s.Data, Solutions: s.Solutions, Offset: s.Offset, Count: s.Tasks}
}

// RLSlice is the RL tasks of every round (SeparateRL): round r takes the RLPassages after
// round r-1's, in file order, so no two rounds share one.
func RLSlice(s RunSpec) TaskSlice {
	return TaskSlice{File: s.RLData, Count: s.Rounds * s.RLPassages, RL: true, rounds: s.Rounds, perRound: s.RLPassages}
}

// Key is the stored key of a task whose own key (its index in the file, an ARC
// sub-task's id) is own: with "rl:" before it for an RL task, so a resume and the
// effect table tell the RL tasks from the evaluation tasks stored before them.
func (f TaskSlice) Key(own string) string {
	if f.RL {
		return rlKeyPrefix + own
	}
	return own
}

// Name is the file as errors name it: "--rl-data FILE" for the RL tasks' file.
func (f TaskSlice) Name() string {
	if f.RL {
		return "--rl-data " + f.File
	}
	return f.File
}

// Within refuses a slice that asks for more than the file's total tasks (what they
// are: "passages", "ARC sub-tasks"), instead of quietly running on fewer.
func (f TaskSlice) Within(total int, what string) error {
	switch {
	case f.RL && total < f.Count:
		return fmt.Errorf("--rl-data %s has %d %s; --rounds %d × --rl-passages %d asks for %d (disjoint between rounds)",
			f.File, total, what, f.rounds, f.perRound, f.Count)
	case f.RL:
		return nil
	case f.Offset >= total:
		return fmt.Errorf("%s has %d %s; --offset %d is past the end", f.File, total, what, f.Offset)
	case f.Count > 0 && f.Offset+f.Count > total:
		return fmt.Errorf("%s has %d %s; --passages %d (from --offset %d) asks for more; use --passages 0 for all",
			f.File, total, what, f.Count, f.Offset)
	}
	return nil
}

// End is the index after the slice's last task in a file of total tasks.
func (f TaskSlice) End(total int) int {
	if f.Count > 0 {
		return min(total, f.Offset+f.Count)
	}
	return total
}

// rlKeyPrefix marks a stored task as an RL task (its key in --rl-data follows);
// IsRLKey tells one.
const rlKeyPrefix = "rl:"

func IsRLKey(key string) bool { return strings.HasPrefix(key, rlKeyPrefix) }
