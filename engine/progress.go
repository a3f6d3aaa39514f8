package engine

import "seal/store"

// CountsTowardProgress reports whether a committed candidate of this kind is one of the
// units a run's progress counts: a self-edit, a continual step, a cpt edit (baselines
// and what-ifs are extra).
func CountsTowardProgress(kind string) bool {
	return kind == store.KindSelfEdit || kind == store.KindContinual || kind == store.KindCPT
}

// ProgressTotal is how many counted candidates a run of spec over tasks (its evaluation
// tasks) commits, and
// their name; a branch (first > 0) starts at that round or continual step. The CLI's
// progress line and the workbench's status line both count against it.
func ProgressTotal(spec RunSpec, tasks, first int) (int, string) {
	switch spec.Mode {
	case "continual":
		return max(tasks-first, 0), "steps"
	case "cpt":
		return tasks * spec.K, "edits"
	}
	if spec.SeparateRL() { // every round measures the evaluation passages, and all but the last samples RL passages
		return tasks*spec.K*max(spec.EvalRounds()-first, 0) + spec.RLPassages*spec.K*max(spec.Rounds-first, 0), "candidates"
	}
	return tasks * spec.K * max(max(spec.Rounds, 1)-first, 0), "candidates"
}
