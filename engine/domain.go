package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"seal/store"
)

// A Domain is one kind of SEAL task: knowledge incorporation (passages), ARC (few-shot
// grid puzzles), or one a test brings. The runner, validation, presets, the CLI, the
// workbench and the job path know a domain only through this interface and the
// registry below, so adding one is a type that implements it and one RegisterDomain.
type Domain interface {
	// Info is what the rest of the program needs to know about the domain without
	// running it: its name, help line, the UI's nouns, the modes it supports.
	Info() DomainInfo
	// Check refuses settings the domain cannot run, naming the flag.
	Check(s RunSpec) error
	// Load reads a slice of a data file: the run's evaluation tasks (EvalSlice: s.Data,
	// s.Offset, s.Tasks) or, in a domain with RLData, every round's RL tasks (RLSlice),
	// keyed by from.Key and checked to fit the model m before any work.
	Load(m *Model, s RunSpec, from TaskSlice) ([]Task, error)
	// FromRows rebuilds the tasks a run stored when it started, for a resume; nil
	// means the domain rebuilds them from its (hash-checked) files, and the runner
	// checks those against the stored rows.
	FromRows(rows []store.Task) []Task
	// SelfEditPrompt is the prompt the policy continues with a self-edit for t.
	SelfEditPrompt(s RunSpec, t Task) (string, error)
	// Payload is the domain's part of an inner job: t and the edit to apply, with the
	// run's settings; fixed marks the fixed-edit baseline (FixedEdit).
	Payload(s RunSpec, t Task, edit string, fixed bool) (any, error)
	// CheckJob validates a job's payload; a worker checks every job it is handed.
	CheckJob(j InnerJob) error
	// RunJob is the domain's inner loop: apply the job's edit Repeats times, each with
	// a fresh adapter and seed (training through Model.Train), and score the adapted
	// model. An edit that cannot be applied is no error: Reason says why, Accs is [0].
	// The weights are left as they were found.
	RunJob(ctx context.Context, m *Model, j InnerJob, at Sink) (InnerResult, error)
	// Reward is a candidate's reward from its adapted score and the no-update baseline.
	Reward(adapted, base float64) float64
	// Base scores the policy as it is on c.Task, with no update: the baseline of every
	// round (c.Base is not yet known and is 0).
	Base(ctx context.Context, m *Model, c Scoring) (float64, []store.EvalItem, error)
	// FixedEdit is the baseline edit run through the job path beside the self-edits
	// (kind is the candidate kind it is stored as).
	FixedEdit(s RunSpec) (kind, edit string)
	// OwnBaseline is the domain's second baseline on c.Task, run in-process: the
	// candidate's Kind, Edit, Seed, AdaptedScore, Reward and Evals.
	OwnBaseline(ctx context.Context, m *Model, c Scoring) (store.Candidate, error)
}

// A Grounder is a domain whose edits are text written from a text task, such as a
// passage: Grounding is the share of the edit's content words the task states
// (engine/grounding), stored with each self-edit. A domain without it (ARC's JSON
// edits) stores none.
type Grounder interface {
	Grounding(t Task, edit string) float64
}

// Task is one of a run's tasks; Row is it as the store keeps it (the runner fills in
// the run and the index).
type Task interface {
	Row() store.Task
}

// DomainInfo describes a domain to the parts of the program that do not run it.
type DomainInfo struct {
	Name string // as --domain and the stored run config spell it
	Help string // for --domain's help: "SQuAD-style passages"
	Noun string // what the UI calls one task: "passage", "task"
	// Display is how the workbench draws a task's questions and answers: DisplayText
	// (questions and graded answers) or DisplayGrids (ARC grids).
	Display string
	// Launcher lists the domain among the workbench launcher's choices.
	Launcher bool
	// Modes are the run modes the domain supports: "restem"; continual and cpt train
	// on passages and are the knowledge domain's alone (RegisterDomain checks).
	Modes []string
	// ProbesFromData: the guard's general probes may come from the run's own data file.
	ProbesFromData bool
	// PolicyReadsTask: the policy update is trained with the task's text in its prompt,
	// so the guard's rules read that text too.
	PolicyReadsTask bool
	// SideFiles are input files the run reads besides s.Data (hashed with it).
	SideFiles func(s RunSpec) []string
	// Preset gives the settings of the domain's own preset that were not given; nil
	// when the domain has none.
	Preset func(s *RunSpec, given map[string]bool)
	// DefaultData makes the data file a run uses when none is given, through cache
	// (which makes a named file or folder once, under a temporary name renamed into
	// place), and returns its path; nil when the domain has none.
	DefaultData func(cache Cache) (string, error)
	// DefaultSplits make the evaluation data of a named split of the domain's default
	// data ("val" for tuning, "test" for the table), as DefaultData does; nil when the
	// domain has no splits (--split is refused).
	DefaultSplits map[string]func(cache Cache) (string, error)
	// RLData: the domain can draw its RL tasks from a file of their own (--rl-data,
	// read by Load with RLSlice), apart from the evaluation tasks; DefaultRLData makes
	// that file for the default data (nil: none).
	RLData        bool
	DefaultRLData func(cache Cache) (string, error)
}

// Cache returns the path of name in a cache, making it with write first when it is
// not there.
type Cache func(name string, write func(tmp string) error) (string, error)

// How the workbench draws a domain's tasks.
const (
	DisplayText  = "text"
	DisplayGrids = "grids"
)

// Scoring is one in-process baseline's settings: the run's, the task, the seed, the
// no-update score it is compared with, and where it reports.
type Scoring struct {
	Spec RunSpec
	Task Task
	Seed uint64
	Base float64
	At   Sink
}

// Sink is where a job or baseline reports its events: the candidate it belongs to and
// the run's event stream.
type Sink struct {
	Where Where
	Send  func(Event)
}

var domains struct {
	sync.Mutex
	list []Domain
}

// The one place the domains are registered: everything reads this list.
func init() {
	RegisterDomain(knowledgeDomain{})
	RegisterDomain(arcDomain{})
}

// RegisterDomain adds a domain. A second domain of the same name, or a mode the
// domain cannot run, is a programming error and panics.
func RegisterDomain(d Domain) {
	if _, passages := d.(knowledgeDomain); !passages && slices.ContainsFunc(d.Info().Modes, func(m string) bool { return m != "restem" }) {
		panic(fmt.Sprintf("engine: domain %q lists modes %v; only ReST-EM runs on tasks other than passages", d.Info().Name, d.Info().Modes))
	}
	domains.Lock()
	defer domains.Unlock()
	for _, o := range domains.list {
		if o.Info().Name == d.Info().Name {
			panic(fmt.Sprintf("engine: domain %q registered twice", d.Info().Name))
		}
	}
	domains.list = append(domains.list, d)
}

// Domains lists the registered domains in registration order.
func Domains() []Domain {
	domains.Lock()
	defer domains.Unlock()
	return append([]Domain(nil), domains.list...)
}

// DomainNamed finds a registered domain by name.
func DomainNamed(name string) (Domain, bool) {
	for _, d := range Domains() {
		if d.Info().Name == name {
			return d, true
		}
	}
	return nil, false
}

// DomainInfoOf is the description of a domain by name; an unknown name gets a plain
// text display, so a stored run of a domain this build lacks still shows.
func DomainInfoOf(name string) DomainInfo {
	if d, ok := DomainNamed(name); ok {
		return d.Info()
	}
	return DomainInfo{Name: name, Noun: "task", Display: DisplayText}
}

// DomainNames are the registered names, for messages: "knowledge, arc".
func DomainNames() string {
	var names []string
	for _, d := range Domains() {
		names = append(names, d.Info().Name)
	}
	return strings.Join(names, ", ")
}

// DomainFlagHelp is --domain's help: each domain with its help line.
func DomainFlagHelp() string {
	var parts []string
	for _, d := range Domains() {
		i := d.Info()
		parts = append(parts, fmt.Sprintf("%s (%s)", i.Name, i.Help))
	}
	return strings.Join(parts, " or ")
}

// domainOf is the run's domain; Validate has refused an unknown one.
func domainOf(s RunSpec) (Domain, error) {
	d, ok := DomainNamed(s.Domain)
	if !ok {
		return nil, fmt.Errorf("--domain %q is not one of %s", s.Domain, DomainNames())
	}
	return d, nil
}
