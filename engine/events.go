package engine

// Event is one thing that happened in a run. Events are values: they never point into
// engine state, so the UI and the JSON-lines writer may keep them as long as they like.
type Event interface {
	// EventType names the event in JSON lines ("token", "reward", ...).
	EventType() string
}

// Where says which part of a run an event belongs to.
type Where struct {
	Run   int64 `json:"run"`
	Round int   `json:"round"`
	Task  int   `json:"task"`
	Cand  int   `json:"cand"`
}

// RunStarted opens the stream.
type RunStarted struct {
	Run     int64  `json:"run"`
	Name    string `json:"name"`
	Tasks   int    `json:"tasks"`
	Resumed bool   `json:"resumed"`
	Device  string `json:"device,omitempty"` // the backend this process computes on
}

// Token is a piece of a self-edit as it is written (coalesced for the UI).
type Token struct {
	Where
	Text string `json:"text"`
}

// EditDone is a finished self-edit before it is applied.
type EditDone struct {
	Where
	Edit   string `json:"edit"`
	Tokens int    `json:"tokens"`
}

// TrainStep is one optimizer step of an inner-loop (or policy) update.
type TrainStep struct {
	Where
	Phase string  `json:"phase"` // "inner", "policy", "cpt", "continual"
	Step  int     `json:"step"`
	Steps int     `json:"steps"`
	Loss  float64 `json:"loss"`
	LR    float64 `json:"lr"`
}

// EvalItem is one graded answer.
type EvalItem struct {
	Where
	Phase    string `json:"phase"` // "base", "adapted", "baseline_passage", "context", ...
	Repeat   int    `json:"repeat"`
	Question string `json:"question"`
	Answer   string `json:"answer"`
	Gold     string `json:"gold"`
	Correct  bool   `json:"correct"`
}

// Reward closes a candidate: it has been committed to the store.
type Reward struct {
	Where
	CandidateID int64   `json:"candidate_id"`
	Kind        string  `json:"kind"`
	Status      string  `json:"status"`
	Reason      string  `json:"reason,omitempty"`
	Base        float64 `json:"base"`
	Adapted     float64 `json:"adapted"`
	Reward      float64 `json:"reward"`
	Std         float64 `json:"std"`
}

// NeedsReview asks a person for a verdict on a candidate (review gate on).
type NeedsReview struct {
	Where
	CandidateID int64   `json:"candidate_id"`
	Edit        string  `json:"edit"`
	Reward      float64 `json:"reward"`
	Reason      string  `json:"reason,omitempty"` // why the guard held it (empty for the review gate's routine ask)
}

// Reviewed confirms a verdict was recorded.
type Reviewed struct {
	CandidateID int64  `json:"candidate_id"`
	Verdict     string `json:"verdict"`
	Reason      string `json:"reason,omitempty"`
}

// RoundDone summarises a ReST-EM round.
type RoundDone struct {
	Run        int64   `json:"run"`
	Round      int     `json:"round"`
	MeanReward float64 `json:"mean_reward"`
	StdReward  float64 `json:"std_reward"`
	Kept       int     `json:"kept"`
	PolicyLoss float64 `json:"policy_loss"`
}

// RetentionPoint is one cell of the continual-mode retention matrix.
type RetentionPoint struct {
	Run      int64   `json:"run"`
	Step     int     `json:"step"`
	Task     int     `json:"task"`
	Accuracy float64 `json:"accuracy"`
}

// Metric is a run-level figure (a baseline row, a CPT accuracy).
type Metric struct {
	Run   int64   `json:"run"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Status reports pause and resume.
type Status struct {
	Run    int64  `json:"run"`
	Status string `json:"status"`
}

// Error is a failure that ends the run.
type Error struct {
	Run     int64  `json:"run"`
	Message string `json:"message"`
}

// Finished is always the last event.
type Finished struct {
	Run    int64  `json:"run"`
	Status string `json:"status"`
}

func (RunStarted) EventType() string     { return "run_started" }
func (Token) EventType() string          { return "token" }
func (EditDone) EventType() string       { return "edit_done" }
func (TrainStep) EventType() string      { return "train_step" }
func (EvalItem) EventType() string       { return "eval_item" }
func (Reward) EventType() string         { return "reward" }
func (NeedsReview) EventType() string    { return "needs_review" }
func (Reviewed) EventType() string       { return "reviewed" }
func (RoundDone) EventType() string      { return "round_done" }
func (RetentionPoint) EventType() string { return "retention" }
func (Metric) EventType() string         { return "metric" }
func (Status) EventType() string         { return "status" }
func (Error) EventType() string          { return "error" }
func (Finished) EventType() string       { return "finished" }
