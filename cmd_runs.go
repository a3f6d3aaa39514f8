package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"seal/engine/arc/procedural"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"seal/engine"
	"seal/engine/knowledge/world"
	"seal/engine/redact"
	"seal/models/tiny"
	"seal/store"
	"seal/store/termsafe"
)

// dbPath is where runs are kept: --db, $SEAL_DB, or the user's data folder.
func dbPath(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if p := os.Getenv("SEAL_DB"); p != "" {
		return p
	}
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "seal.db"
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "seal", "seal.db")
}

func openDB(path string, write bool) (*store.DB, error) {
	if write {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		return store.Open(path)
	}
	return store.OpenReadOnly(path)
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	spec := engine.DefaultSpec()
	fs := newFlagSet("run", stderr)
	db := fs.String("db", "", "SQLite file of the run history (default $SEAL_DB or ~/.local/share/seal/seal.db)")
	config := fs.String("config", "", "TOML file of run settings, keyed by these flags' names (passages = 4); flags given as well override it")
	device := addDeviceFlag(fs)
	fs.StringVar(&spec.Name, "name", spec.Name, "a name for the run")
	fs.StringVar(&spec.Domain, "domain", spec.Domain, "knowledge (SQuAD-style passages) or arc (few-shot ARC tasks)")
	fs.StringVar(&spec.Solutions, "solutions", spec.Solutions, "ARC solutions JSON (default: the --data file's name with challenges → solutions)")
	fs.BoolVar(&spec.ARCVote, "arc-vote", spec.ARCVote, "ARC: predict with augmented queries and voting (default true for --domain arc)")
	fs.StringVar(&spec.Mode, "mode", spec.Mode, "restem, cpt (one update over all passages) or continual (edits merged one after another)")
	fs.StringVar(&spec.Model, "model", spec.Model, "Hugging Face model folder (config.json, *.safetensors, tokenizer.json); default: the embedded model")
	fs.StringVar(&spec.Data, "data", spec.Data, "SQuAD-format JSON: [{title, context, questions: [{question, answer}]}] or the SQuAD v1.1 file; default: the synthetic world's held-out val split")
	fs.IntVar(&spec.Offset, "offset", spec.Offset, "first passage to use")
	fs.IntVar(&spec.Tasks, "passages", spec.Tasks, "how many passages (0 = all)")
	fs.StringVar(&spec.Style, "style", spec.Style, "self-edit style: implications, implications-long, implications-very-long, rewrite, self-qa")
	fs.IntVar(&spec.K, "k", spec.K, "self-edit candidates per passage")
	fs.IntVar(&spec.Rounds, "rounds", spec.Rounds, "ReST-EM rounds")
	fs.IntVar(&spec.Repeats, "repeats", spec.Repeats, "inner-loop repeats per candidate (fresh adapter and seed each)")
	fs.StringVar(&spec.Filter, "filter", spec.Filter, "ReST-EM filter: best (best of k per passage) or positive (reward > 0)")
	fs.Var((*float32Value)(&spec.Temp), "temperature", "self-edit sampling temperature (>= 0; 0 is greedy)")
	fs.Var((*float32Value)(&spec.TopP), "top-p", "self-edit nucleus mass, in (0, 1]")
	fs.IntVar(&spec.EditTokens, "edit-tokens", spec.EditTokens, "most tokens per self-edit")
	fs.IntVar(&spec.QATokens, "qa-tokens", spec.QATokens, "most tokens per closed-book answer")
	fs.BoolVar(&spec.Baselines, "baselines", spec.Baselines, "also score passage-only training and the passage in context")
	fs.BoolVar(&spec.ReviewGate, "review", spec.ReviewGate, "hold candidates for a person's verdict before they count for ReST-EM")
	fs.BoolVar(&spec.Guard.On, "guard", spec.Guard.On, "check each weight change (retention on probes, contradictions, rules) before it is committed")
	fs.IntVar(&spec.Guard.Probes, "guard-probes", spec.Guard.Probes, "general probe questions the guard asks before and after each change")
	fs.Float64Var(&spec.Guard.Margin, "guard-margin", spec.Guard.Margin, "drop in probe accuracy the guard tolerates beyond the noise")
	fs.Uint64Var(&spec.Seed, "seed", spec.Seed, "random seed")
	fs.IntVar(&spec.Inner.Rank, "lora-rank", spec.Inner.Rank, "inner-loop LoRA rank")
	fs.Float64Var(&spec.Inner.Alpha, "lora-alpha", spec.Inner.Alpha, "inner-loop LoRA alpha")
	fs.Float64Var(&spec.Inner.LR, "lr", spec.Inner.LR, "inner-loop learning rate")
	fs.IntVar(&spec.Inner.Epochs, "epochs", spec.Inner.Epochs, "inner-loop epochs")
	fs.Var((*listValue)(&spec.Inner.Targets), "targets", "inner-loop LoRA target projections, comma-separated")
	fs.StringVar(&spec.Grader, "grader", spec.Grader, "contains (offline, default), judge (the model itself), hybrid, http (OpenAI-compatible; key in $SEAL_GRADER_KEY)")
	fs.StringVar(&spec.GraderURL, "grader-url", spec.GraderURL, "base URL of an OpenAI-compatible API for --grader http")
	fs.StringVar(&spec.GraderName, "grader-model", spec.GraderName, "model name for --grader http")
	nf := addNATSFlags(fs, true)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// One path for every way of giving settings: the defaults, then the file, then the
	// flags over it (parsing again sets only the flags given), then the run's preset for
	// whatever neither gave.
	given := map[string]bool{}
	if *config != "" {
		fileGiven, err := engine.ReadSettings(*config, &spec)
		if err != nil {
			fmt.Fprintf(stderr, "seal run: %v\n", err)
			return 2
		}
		maps.Copy(given, fileGiven)
		fs.Parse(args)
	}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	engine.ApplyPreset(&spec, given)
	if err := defaultModelAndData(&spec); err != nil {
		fmt.Fprintf(stderr, "seal run: %v\n", err)
		return 1
	}
	if err := spec.Validate(); err != nil {
		fmt.Fprintf(stderr, "seal run: %v\n", err)
		return 2
	}
	return startAndFollow("seal run", dbPath(*db), device, nf, stdout, stderr, func(e *engine.Engine, ctx context.Context) (*engine.Run, error) {
		return e.Start(ctx, spec)
	})
}

// startAndFollow opens the store, starts (or resumes) a run that Ctrl-C cancels
// cleanly, and follows it to the end; with --nats its inner loops go to workers.
func startAndFollow(cmd, db string, device *deviceFlag, nf *natsFlags, stdout, stderr io.Writer, start func(*engine.Engine, context.Context) (*engine.Run, error)) int {
	b, err := device.open(cmd, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return 2
	}
	d, err := openDB(db, true)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return 1
	}
	defer d.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := engine.New(d, b)
	coord, closeNATS, err := nf.coordinator(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return 1
	}
	defer closeNATS()
	if coord != nil {
		e.Executor = coord
	}
	r, err := start(e, ctx)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", cmd, termsafe.Line(redact.Secrets(err.Error())))
		return 1
	}
	return follow(r, d, stdout, stderr)
}

func cmdResume(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("resume", stderr)
	db := fs.String("db", "", "SQLite file of the run history")
	device := addDeviceFlag(fs)
	nf := addNATSFlags(fs, true)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	id, ok := runArg(fs, stderr)
	if !ok {
		return 2
	}
	return startAndFollow("seal resume", dbPath(*db), device, nf, stdout, stderr, func(e *engine.Engine, ctx context.Context) (*engine.Run, error) {
		return e.Resume(ctx, id)
	})
}

// follow writes a run's events as JSON lines and, on a terminal, a progress line.
func follow(r *engine.Run, d *store.DB, stdout, stderr io.Writer) int {
	enc := json.NewEncoder(termsafe.JSONWriter(stdout)) // strings stay exact, C1 and bidi as \u escapes
	tty := isTerminal(stderr)
	clear := "" // on a terminal, each line first erases the progress line
	if tty {
		clear = "\r\033[K"
	}
	done, total := 0, 0
	for ev := range r.Events() {
		b, _ := json.Marshal(ev)
		line := fmt.Sprintf(`{"type":%q`, ev.EventType())
		if len(b) > 2 {
			line += "," + string(b[1:])
		} else {
			line += "}"
		}
		enc.Encode(json.RawMessage(line))
		switch e := ev.(type) {
		case engine.RunStarted:
			total = e.Tasks
			fmt.Fprintf(stderr, "run %d: %s (%d passages)\n", e.Run, termsafe.Line(e.Name), e.Tasks)
		case engine.Reward:
			done++
			if tty {
				fmt.Fprintf(stderr, "%sround %d  passage %d/%d  candidate %d  %s  reward %+.3f (±%.3f)", clear, e.Round, e.Task+1, total, e.Cand, termsafe.Line(e.Kind), e.Reward, e.Std)
			}
		case engine.RoundDone:
			fmt.Fprintf(stderr, "%sround %d done: mean reward %+.3f ± %.3f, %d edits kept\n", clear, e.Round, e.MeanReward, e.StdReward, e.Kept)
		case engine.Workers:
			fmt.Fprintf(stderr, "%s%s\n", clear, workersLine(e))
		case engine.GuardVerdict:
			for _, w := range e.Warnings { // what the guard could not check is never silent
				fmt.Fprintf(stderr, "%sguard (%s %d, %s): %s\n", clear, e.Kind, e.Step, e.Verdict, w)
			}
		case engine.Error:
			fmt.Fprintf(stderr, "\nerror: %s\n", termsafe.Line(e.Message))
		case engine.Finished:
			fmt.Fprintf(stderr, "%srun %d %s (%d results committed)\n", clear, e.Run, termsafe.Line(e.Status), done)
		}
	}
	if err := r.Wait(); err != nil {
		return 1
	}
	printMetrics(stderr, d, r.ID)
	return 0
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func printMetrics(w io.Writer, d *store.DB, id int64) {
	ms, err := d.Metrics(id)
	if err != nil || len(ms) == 0 {
		return
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	fmt.Fprintf(w, "\n%-28s %s\n", "metric (macro over passages)", "value")
	for _, m := range ms {
		fmt.Fprintf(w, "%-28s %.3f\n", termsafe.Line(m.Name), m.Value)
	}
}

func runArg(fs *flag.FlagSet, stderr io.Writer) (int64, bool) {
	if fs.NArg() != 1 {
		fs.Usage()
		return 0, false
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil {
		fmt.Fprintf(stderr, "%q is not a run number\n", fs.Arg(0))
		return 0, false
	}
	return id, true
}

func cmdRuns(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("runs", stderr)
	db := fs.String("db", "", "SQLite file of the run history")
	var f store.RunFilter
	fs.StringVar(&f.Domain, "domain", "", "only runs of this domain")
	fs.StringVar(&f.Model, "model", "", "only runs of this model folder")
	fs.StringVar(&f.Status, "status", "", "only runs with this status (running, interrupted, done, failed, cancelled)")
	fs.IntVar(&f.Limit, "limit", 50, "most runs to list")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	d, err := openDB(dbPath(*db), false)
	if err != nil {
		fmt.Fprintf(stderr, "seal runs: %v\n", err)
		return 1
	}
	defer d.Close()
	runs, err := d.Runs(f)
	if err != nil {
		fmt.Fprintf(stderr, "seal runs: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%-5s %-10s %-9s %-10s %6s %6s %8s  %s\n", "RUN", "STATUS", "DOMAIN", "CREATED", "CANDS", "ROUNDS", "REWARD", "NAME")
	for _, r := range runs {
		fmt.Fprintf(stdout, "%-5d %-10s %-9s %-10s %6d %6d %+8.3f  %s\n", r.ID, termsafe.Line(r.Status), termsafe.Line(r.Domain), r.CreatedAt.Format("01-02 15:04"), r.Candidates, r.Rounds, r.MeanReward, termsafe.Line(r.Name))
	}
	return 0
}

// openRunArg parses the flags of a command that reads one run (--db, plus what more
// adds) and opens the store read-only; d is nil when it failed, with the exit code.
func openRunArg(name string, args []string, stderr io.Writer, more func(*flag.FlagSet)) (d *store.DB, id int64, code int) {
	fs := newFlagSet(name, stderr)
	db := fs.String("db", "", "SQLite file of the run history")
	if more != nil {
		more(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, 0, 2
	}
	id, ok := runArg(fs, stderr)
	if !ok {
		return nil, 0, 2
	}
	d, err := openDB(dbPath(*db), false)
	if err != nil {
		fmt.Fprintf(stderr, "seal %s: %v\n", name, err)
		return nil, 0, 1
	}
	return d, id, 0
}

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
	cands, err := d.Candidates(id, false)
	if err != nil {
		fmt.Fprintf(stderr, "seal show: %v\n", err)
		return 1
	}
	reviews, _ := d.LatestReviews(id)
	fmt.Fprintf(stdout, "\n%-5s %-5s %-4s %-17s %-8s %7s %7s %8s %6s  %s\n", "ROUND", "TASK", "CAND", "KIND", "STATUS", "BASE", "ADAPTED", "REWARD", "±", "VERDICT / EDIT")
	for _, c := range cands {
		verdict := ""
		if rv, ok := reviews[c.ID]; ok {
			verdict = rv.Verdict + ": "
		}
		edit := strings.ReplaceAll(c.Edit, "\n", " ")
		if c.Reason != "" {
			edit = "(" + c.Reason + ") " + edit
		}
		edit = clipString(termsafe.Line(edit), 60) // cleaned first: a cut must not leave half a sequence
		fmt.Fprintf(stdout, "%-5d %-5d %-4d %-17s %-8s %7.3f %7.3f %+8.3f %6.3f  %s%s\n", c.Round, c.Task, c.Index, termsafe.Line(c.Kind), termsafe.Line(c.Status), c.BaseScore, c.AdaptedScore, c.Reward, c.RewardStd, termsafe.Line(verdict), edit)
	}
	rounds, _ := d.Rounds(id)
	for _, r := range rounds {
		fmt.Fprintf(stdout, "round %d: mean reward %+.3f ± %.3f, kept %d, policy loss %.4f\n", r.Round, r.MeanReward, r.StdReward, r.Kept, r.TrainLoss)
	}
	printMetrics(stdout, d, id)
	return 0
}

func cmdCompare(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("compare", stderr)
	db := fs.String("db", "", "SQLite file of the run history")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return 2
	}
	d, err := openDB(dbPath(*db), false)
	if err != nil {
		fmt.Fprintf(stderr, "seal compare: %v\n", err)
		return 1
	}
	defer d.Close()
	var ids []int64
	for _, a := range fs.Args() {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			fmt.Fprintf(stderr, "seal compare: %q is not a run number\n", a)
			return 2
		}
		ids = append(ids, id)
	}
	cmp, err := d.Compare(ids)
	if err != nil {
		fmt.Fprintf(stderr, "seal compare: %v\n", err)
		return 1
	}
	configs, metrics := cmp.Configs, cmp.Metrics
	header := fmt.Sprintf("%-28s", "")
	for _, id := range ids {
		header += fmt.Sprintf(" %14s", fmt.Sprintf("run %d", id))
	}
	fmt.Fprintln(stdout, "config differences")
	fmt.Fprintln(stdout, header)
	for _, k := range cmp.ConfigDiff() {
		line := fmt.Sprintf("%-28s", termsafe.Line(k))
		for _, c := range configs {
			line += fmt.Sprintf(" %14s", clipString(termsafe.Line(fmt.Sprint(c[k])), 14))
		}
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "\nmetrics (delta against run %d)\n%s\n", ids[0], header)
	for _, k := range cmp.MetricNames() {
		line := fmt.Sprintf("%-28s", termsafe.Line(k))
		base, hasBase := metrics[0][k]
		for i, m := range metrics {
			v, ok := m[k]
			switch {
			case !ok:
				line += fmt.Sprintf(" %14s", "-")
			case i == 0 || !hasBase:
				line += fmt.Sprintf(" %14.3f", v)
			default:
				line += fmt.Sprintf(" %14s", fmt.Sprintf("%.3f (%+.3f)", v, v-base))
			}
		}
		fmt.Fprintln(stdout, line)
	}
	return 0
}

// clipString shortens s to n characters (not bytes: a cut never splits a character).
func clipString(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func cmdExport(args []string, stdout, stderr io.Writer) int {
	var format *string
	d, id, code := openRunArg("export", args, stderr, func(fs *flag.FlagSet) {
		format = fs.String("format", "jsonl", "jsonl (everything) or csv (one row per candidate)")
	})
	if d == nil {
		return code
	}
	defer d.Close()
	var err error
	switch *format {
	case "jsonl":
		err = d.ExportJSONL(id, stdout)
	case "csv":
		err = d.ExportCSV(id, stdout)
	default:
		fmt.Fprintf(stderr, "seal export: format %q is not jsonl or csv\n", *format)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "seal export: %v\n", err)
		return 1
	}
	return 0
}

// float32Value is a flag for a float32 setting.
type float32Value float32

func (f *float32Value) String() string { return strconv.FormatFloat(float64(*f), 'g', -1, 32) }
func (f *float32Value) Set(s string) error {
	v, err := strconv.ParseFloat(s, 32)
	if err != nil {
		return err
	}
	*f = float32Value(v)
	return nil
}

// listValue is a flag for a comma-separated list.
type listValue []string

func (l *listValue) String() string     { return strings.Join(*l, ",") }
func (l *listValue) Set(s string) error { *l = strings.Split(s, ","); return nil }

// defaultModelAndData fills in the embedded model and the synthetic world's held-out
// passages (which the embedded model never saw) when no folder or file is given.
func defaultModelAndData(spec *engine.RunSpec) error {
	if spec.Model == "" {
		dir, err := tiny.Dir()
		if err != nil {
			return err
		}
		spec.Model = dir
	}
	if spec.Data == "" && spec.Domain == "arc" {
		path, err := proceduralARCFile()
		if err != nil {
			return err
		}
		spec.Data = path
	}
	if spec.Data == "" {
		path, err := worldSplitFile(world.Val)
		if err != nil {
			return err
		}
		spec.Data = path
	}
	return nil
}

// proceduralARCFile writes the embedded procedural ARC evaluation tasks (seed 1, 32
// tasks, none in the pretraining corpus) in the user cache, once, and returns the
// challenges file's path; the solutions file lies beside it.
func proceduralARCFile() (string, error) {
	dir, err := cachedData("arc-procedural-seed1", func(tmp string) error {
		if err := os.Mkdir(tmp, 0o755); err != nil {
			return err
		}
		_, eval := procedural.Sets(1, 0, 32)
		_, _, err := procedural.WriteFiles(tmp, "eval", eval)
		return err
	})
	return filepath.Join(dir, "eval_challenges.json"), err
}

// worldSplitFile writes a split of the default world (the one the embedded model was
// pretrained on) as SQuAD JSON in the user cache, once, and returns its path.
func worldSplitFile(split world.Split) (string, error) {
	return cachedData(fmt.Sprintf("world-v%d-seed1-%s.json", world.Version, split), func(tmp string) error {
		return world.WriteSQuAD(tmp, world.Generate(world.DefaultConfig()).Passages(split))
	})
}

// cachedData returns the path of name (a file or a folder) in seal's user cache,
// making it with write first when it is not there. write makes it under a temporary
// name that is then renamed, so a crash or a concurrent first run never leaves a
// half-written file that a later run would trust.
func cachedData(name string, write func(tmp string) error) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	path := filepath.Join(base, "seal", name)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	defer os.RemoveAll(tmp)
	if err := write(tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		if _, serr := os.Stat(path); serr == nil {
			return path, nil // another run made it first
		}
		return "", err
	}
	return path, nil
}
