package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"seal/engine/arc/procedural"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/BurntSushi/toml"

	"seal/engine"
	"seal/engine/knowledge/world"
	"seal/models/tiny"
	"seal/store"
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
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "SQLite file of the run history (default $SEAL_DB or ~/.local/share/seal/seal.db)")
	config := fs.String("config", "", "TOML file with the run settings (flags given as well override it)")
	device := addDeviceFlag(fs)
	fs.StringVar(&spec.Name, "name", "", "a name for the run")
	fs.StringVar(&spec.Domain, "domain", spec.Domain, "knowledge (SQuAD-style passages) or arc (few-shot ARC tasks)")
	fs.StringVar(&spec.Solutions, "solutions", "", "ARC solutions JSON (default: the --data file's name with challenges → solutions)")
	fs.BoolVar(&spec.ARCVote, "arc-vote", true, "ARC: predict with augmented queries and voting")
	fs.StringVar(&spec.Mode, "mode", spec.Mode, "restem, cpt (one update over all passages) or continual (edits merged one after another)")
	fs.StringVar(&spec.Model, "model", "", "Hugging Face model folder (config.json, *.safetensors, tokenizer.json); default: the embedded model")
	fs.StringVar(&spec.Data, "data", "", "SQuAD-format JSON: [{title, context, questions: [{question, answer}]}]; default: the synthetic world's held-out val split")
	fs.IntVar(&spec.Offset, "offset", spec.Offset, "first passage to use")
	fs.IntVar(&spec.Tasks, "passages", spec.Tasks, "how many passages (0 = all)")
	fs.StringVar(&spec.Style, "style", spec.Style, "self-edit style: implications, implications-long, implications-very-long, rewrite, self-qa")
	fs.IntVar(&spec.K, "k", spec.K, "self-edit candidates per passage")
	fs.IntVar(&spec.Rounds, "rounds", spec.Rounds, "ReST-EM rounds")
	fs.IntVar(&spec.Repeats, "repeats", spec.Repeats, "inner-loop repeats per candidate (fresh adapter and seed each)")
	fs.StringVar(&spec.Filter, "filter", spec.Filter, "ReST-EM filter: best (best of k per passage) or positive (reward > 0)")
	temp := fs.Float64("temperature", float64(spec.Temp), "self-edit sampling temperature")
	topP := fs.Float64("top-p", float64(spec.TopP), "self-edit nucleus mass")
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
	targets := fs.String("targets", strings.Join(spec.Inner.Targets, ","), "inner-loop LoRA target projections")
	fs.StringVar(&spec.Grader, "grader", spec.Grader, "contains (offline, default), judge (the model itself), hybrid, http (OpenAI-compatible; key in $SEAL_GRADER_KEY)")
	fs.StringVar(&spec.GraderURL, "grader-url", "", "base URL of an OpenAI-compatible API for --grader http")
	fs.StringVar(&spec.GraderName, "grader-model", "gpt-4.1", "model name for --grader http")
	nf := addNATSFlags(fs, true)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: seal run --model DIR --data FILE [flags]\n\nRuns SEAL headless: JSON lines of events on stdout, progress on stderr.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if *config != "" {
		// The file's values over the defaults, then every flag given on the command line
		// over the file: parsing again sets only the flags that were given.
		spec = engine.DefaultSpec()
		if _, err := toml.DecodeFile(*config, &spec); err != nil {
			fmt.Fprintf(stderr, "seal run: %s: %v\n", *config, err)
			return 2
		}
		fs.Parse(args)
	}
	if *config == "" || given["temperature"] {
		spec.Temp = float32(*temp)
	}
	if *config == "" || given["top-p"] {
		spec.TopP = float32(*topP)
	}
	if *config == "" || given["targets"] {
		spec.Inner.Targets = strings.Split(*targets, ",")
	}
	if spec.Domain == "arc" && *config == "" {
		arcDefaults(&spec, given)
	} else if spec.Model == "" && *config == "" {
		embeddedDefaults(&spec, given)
	}
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
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return 1
	}
	return follow(r, d, stdout, stderr)
}

func cmdResume(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("resume", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "SQLite file of the run history")
	device := addDeviceFlag(fs)
	nf := addNATSFlags(fs, true)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: seal resume [--db FILE] [--nats URL] RUN\n\nContinues a stopped or killed run; nothing it had finished is redone.\n\n")
		fs.PrintDefaults()
	}
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
	enc := json.NewEncoder(stdout)
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
			fmt.Fprintf(stderr, "run %d: %s (%d passages)\n", e.Run, e.Name, e.Tasks)
		case engine.Reward:
			done++
			if tty {
				fmt.Fprintf(stderr, "%sround %d  passage %d/%d  candidate %d  %s  reward %+.3f (±%.3f)", clear, e.Round, e.Task+1, total, e.Cand, e.Kind, e.Reward, e.Std)
			}
		case engine.RoundDone:
			fmt.Fprintf(stderr, "%sround %d done: mean reward %+.3f ± %.3f, %d edits kept\n", clear, e.Round, e.MeanReward, e.StdReward, e.Kept)
		case engine.Workers:
			fmt.Fprintf(stderr, "%s%s\n", clear, workersLine(e))
		case engine.Error:
			fmt.Fprintf(stderr, "\nerror: %s\n", e.Message)
		case engine.Finished:
			fmt.Fprintf(stderr, "%srun %d %s (%d results committed)\n", clear, e.Run, e.Status, done)
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
		fmt.Fprintf(w, "%-28s %.3f\n", m.Name, m.Value)
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
	fs := flag.NewFlagSet("runs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "SQLite file of the run history")
	var f store.RunFilter
	fs.StringVar(&f.Domain, "domain", "", "only runs of this domain")
	fs.StringVar(&f.Model, "model", "", "only runs of this model folder")
	fs.StringVar(&f.Status, "status", "", "only runs with this status (running, done, failed, cancelled)")
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
		fmt.Fprintf(stdout, "%-5d %-10s %-9s %-10s %6d %6d %+8.3f  %s\n", r.ID, r.Status, r.Domain, r.CreatedAt.Format("01-02 15:04"), r.Candidates, r.Rounds, r.MeanReward, r.Name)
	}
	return 0
}

// openRunArg parses the flags of a command that reads one run (--db, plus what more
// adds) and opens the store read-only; d is nil when it failed, with the exit code.
func openRunArg(name string, args []string, stderr io.Writer, more func(*flag.FlagSet)) (d *store.DB, id int64, code int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "SQLite file of the run history")
	if more != nil {
		more(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: seal %s [flags] RUN\n\n", name)
		fs.PrintDefaults()
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
	fmt.Fprintf(stdout, "run %d: %s\nstatus %s, model %s, created %s\n", run.ID, run.Name, run.Status, run.Model, run.CreatedAt.Format("2006-01-02 15:04:05"))
	if run.Error != "" {
		fmt.Fprintf(stdout, "error: %s\n", run.Error)
	}
	var pretty map[string]any
	json.Unmarshal(run.Config, &pretty)
	cfg, _ := json.MarshalIndent(pretty, "", "  ")
	fmt.Fprintf(stdout, "config %s\n", cfg)
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
		edit = clipString(edit, 60)
		fmt.Fprintf(stdout, "%-5d %-5d %-4d %-17s %-8s %7.3f %7.3f %+8.3f %6.3f  %s%s\n", c.Round, c.Task, c.Index, c.Kind, c.Status, c.BaseScore, c.AdaptedScore, c.Reward, c.RewardStd, verdict, edit)
	}
	rounds, _ := d.Rounds(id)
	for _, r := range rounds {
		fmt.Fprintf(stdout, "round %d: mean reward %+.3f ± %.3f, kept %d, policy loss %.4f\n", r.Round, r.MeanReward, r.StdReward, r.Kept, r.TrainLoss)
	}
	printMetrics(stdout, d, id)
	return 0
}

func cmdCompare(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "SQLite file of the run history")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: seal compare [--db FILE] RUN RUN...\n\nConfig differences, and metric deltas against the first run.\n\n")
		fs.PrintDefaults()
	}
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
		line := fmt.Sprintf("%-28s", k)
		for _, c := range configs {
			line += fmt.Sprintf(" %14s", clipString(fmt.Sprint(c[k]), 14))
		}
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "\nmetrics (delta against run %d)\n%s\n", ids[0], header)
	for _, k := range cmp.MetricNames() {
		line := fmt.Sprintf("%-28s", k)
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

// arcDefaults takes engine.ARCSpec's settings for every flag that was not given: the
// flags' defaults are the knowledge domain's.
func arcDefaults(spec *engine.RunSpec, given map[string]bool) {
	a := engine.ARCSpec()
	spec.Style, spec.Inner.Batch = "", a.Inner.Batch
	takeUngiven(spec, &a, given, "passages", "rounds", "repeats", "filter", "temperature", "top-p", "edit-tokens",
		"lora-rank", "lora-alpha", "targets")
}

// embeddedDefaults takes engine.EmbeddedSpec's settings for every flag that was not
// given: the run uses the embedded model, and the method's settings are sized for 1B+.
func embeddedDefaults(spec *engine.RunSpec, given map[string]bool) {
	e := engine.EmbeddedSpec()
	takeUngiven(spec, &e, given, "lora-rank", "lora-alpha", "targets", "temperature", "edit-tokens", "qa-tokens")
}

// takeUngiven copies from a preset the settings of the named flags that the command
// line did not give.
func takeUngiven(spec, preset *engine.RunSpec, given map[string]bool, flags ...string) {
	for _, f := range flags {
		if !given[f] {
			flagSetting[f](spec, preset)
		}
	}
}

// flagSetting copies the setting a `seal run` flag sets from one spec to another.
var flagSetting = map[string]func(dst, src *engine.RunSpec){
	"passages":    func(d, s *engine.RunSpec) { d.Tasks = s.Tasks },
	"rounds":      func(d, s *engine.RunSpec) { d.Rounds = s.Rounds },
	"repeats":     func(d, s *engine.RunSpec) { d.Repeats = s.Repeats },
	"filter":      func(d, s *engine.RunSpec) { d.Filter = s.Filter },
	"temperature": func(d, s *engine.RunSpec) { d.Temp = s.Temp },
	"top-p":       func(d, s *engine.RunSpec) { d.TopP = s.TopP },
	"edit-tokens": func(d, s *engine.RunSpec) { d.EditTokens = s.EditTokens },
	"qa-tokens":   func(d, s *engine.RunSpec) { d.QATokens = s.QATokens },
	"lora-rank":   func(d, s *engine.RunSpec) { d.Inner.Rank = s.Inner.Rank },
	"lora-alpha":  func(d, s *engine.RunSpec) { d.Inner.Alpha = s.Inner.Alpha },
	"targets":     func(d, s *engine.RunSpec) { d.Inner.Targets = s.Inner.Targets },
}

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
