package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"

	"seal/engine"
	"seal/engine/redact"
	"seal/store"
	"seal/store/termsafe"
)

func cmdShow(args []string, stdout, stderr io.Writer) int {
	d, id, code := openRunArg("show", args, stderr, nil)
	if d == nil {
		return code
	}
	defer d.Close()
	run, err := d.Run(id)
	if err != nil {
		fmt.Fprintf(stderr, "seal show: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "run %d: %s\nstatus %s, model %s, created %s\n", run.ID, termsafe.Line(run.Name), termsafe.Line(run.Status), termsafe.Line(run.Model), run.CreatedAt.Format("2006-01-02 15:04:05"))
	if run.Error != "" { // scrubbed again: a run stored by an older seal may hold a secret
		fmt.Fprintf(stdout, "error: %s\n", termsafe.Line(redact.Secrets(run.Error)))
	}
	var pretty map[string]any
	json.Unmarshal(run.Config, &pretty)
	cfg, _ := json.MarshalIndent(pretty, "", "  ")
	fmt.Fprintf(stdout, "config %s\n", termsafe.JSON([]byte(redact.Secrets(string(cfg))))) // an older seal stored grader URLs with passwords
	if line := rlLine(run.Config); line != "" {
		fmt.Fprintln(stdout, line)
	}
	cands, err := d.Candidates(id, true) // with the answers, for the exact-match column
	if err != nil {
		fmt.Fprintf(stderr, "seal show: %v\n", err)
		return 1
	}
	arcRun := engine.DomainInfoOf(run.Domain).Display == engine.DisplayGrids
	reviews, err := d.LatestReviews(id)
	if err != nil {
		fmt.Fprintf(stderr, "seal show: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "\n%-5s %-5s %-4s %-17s %-8s %7s %7s %6s %8s %6s %6s  %s\n", "ROUND", "TASK", "CAND", "KIND", "STATUS", "BASE", "ADAPTED", "EXACT", "REWARD", "±", "GROUND", "VERDICT / EDIT")
	for _, c := range cands {
		verdict := ""
		if rv, ok := reviews[c.ID]; ok {
			verdict = rv.Verdict + ": "
		}
		edit := c.Edit // termsafe.Line reads its line breaks as spaces
		if c.Reason != "" {
			edit = "(" + c.Reason + ") " + edit
		}
		edit = clipString(termsafe.Line(edit), 60) // cleaned first: a cut must not leave half a sequence
		exact := "-"                               // the answers read by exact match (engine.ExactAccuracy): none for ARC or a candidate without answers
		if x, ok := engine.ExactAccuracy(c); ok && !arcRun {
			exact = fmt.Sprintf("%.3f", x)
		}
		fmt.Fprintf(stdout, "%-5d %-5d %-4d %-17s %-8s %7.3f %7.3f %6s %+8.3f %6.3f %6s  %s%s\n", c.Round, c.Task, c.Index, termsafe.Line(c.Kind), termsafe.Line(c.Status), c.BaseScore, c.AdaptedScore, exact, c.Reward, c.RewardStd, groundingCell(c.Grounding), termsafe.Line(verdict), edit)
	}
	rounds, err := d.Rounds(id)
	if err != nil {
		fmt.Fprintf(stderr, "seal show: %v\n", err)
		return 1
	}
	for _, r := range rounds {
		fmt.Fprintf(stdout, "round %d: mean reward %+.3f ± %.3f, kept %d, policy loss %.4f\n", r.Round, r.MeanReward, r.StdReward, r.Kept, r.TrainLoss)
	}
	printVerdicts(stdout, store.VerdictStatsOf(cands, reviews))
	printMetrics(stdout, d, id)
	return 0
}

// printVerdicts is the approval rate per reward band and the verdicts against the
// reward's sign (run detail's table); nothing when the run has no verdicts.
func printVerdicts(w io.Writer, st store.VerdictStats) {
	total := 0
	for _, b := range st.Bands {
		total += b.Reviewed()
	}
	if total == 0 {
		return
	}
	fmt.Fprintf(w, "\n%-10s %8s %8s %9s\n", "REWARD", "APPROVED", "REJECTED", "APPROVAL")
	for _, b := range st.Bands {
		rate := "-"
		if b.Reviewed() > 0 {
			rate = fmt.Sprintf("%.0f%%", 100*b.ApprovalRate())
		}
		fmt.Fprintf(w, "%-10s %8d %8d %9s\n", b.Name, b.Approved, b.Rejected, rate)
	}
	list := func(title string, ds []store.Disagreement) {
		for _, d := range ds {
			c := d.Candidate
			fmt.Fprintf(w, "%s: round %d task %d cand %d reward %+.3f", title, c.Round, c.Task, c.Index, c.Reward)
			if d.Review.Reason != "" {
				fmt.Fprintf(w, " (%s)", termsafe.Line(d.Review.Reason))
			}
			fmt.Fprintf(w, ": %s\n", clipString(termsafe.Line(c.Edit), 60))
		}
	}
	list("approved with a negative reward", st.ApprovedNegative)
	list("rejected with a positive reward", st.RejectedPositive)
}

// groundingCell is a candidate's grounding share (engine/grounding) to three places, or
// "-" where it has none (ARC edits, baselines, runs stored before it was kept).
func groundingCell(g *float64) string {
	if g == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", *g)
}

// rlLine says where a ReST-EM run's policy updates came from: RL passages apart from the
// evaluation passages, or the evaluation passages themselves.
func rlLine(config []byte) string {
	var spec engine.RunSpec
	if json.Unmarshal(config, &spec) != nil || spec.Mode != "restem" {
		return ""
	}
	return rlSettings(spec)
}

// rlSettings is the one sentence `seal show` and the effect table print about RL tasks,
// in the domain's noun (passages, tasks).
func rlSettings(spec engine.RunSpec) string {
	n := engine.DomainInfoOf(cmp.Or(spec.Domain, "knowledge")).Noun + "s"
	if !spec.SeparateRL() {
		return fmt.Sprintf("RL and evaluation %s are the same: each round's policy update trained on the %s it is measured on", n, n)
	}
	return fmt.Sprintf("RL %s apart from the evaluation %s: %d fresh %s per round from %s; the evaluation %s never reach a policy update",
		n, n, spec.RLPassages, n, termsafe.Line(spec.RLData), n)
}
