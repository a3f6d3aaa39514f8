package engine

import "seal/engine/knowledge"

// GuardVerdict is the guard's judgement of one weight change before it is committed:
// pass (committed), hold (a person decides; NeedsReview follows) or reject (never
// applied). The numbers are the probe-set comparison that led to it.
type GuardVerdict struct {
	Where
	Entry   int64  `json:"entry"` // ledger id (the version id when it is committed)
	Kind    string `json:"kind"`  // "continual" or "policy"
	Step    int    `json:"step"`
	Verdict string `json:"verdict"` // "pass", "hold", "reject"
	GuardReport
}

// VersionCommitted says the model's weights are now a new version (a ledger entry):
// the parent version plus one adapter, or the base when a run starts.
type VersionCommitted struct {
	Run         int64  `json:"run"`
	Version     int64  `json:"version"`
	Parent      int64  `json:"parent"`
	Kind        string `json:"kind"`
	Step        int    `json:"step"`
	Fingerprint string `json:"fingerprint"`
}

// GuardReport is what the guard measured and why it decided as it did. It is stored
// in the ledger as JSON and carried by GuardVerdict.
type GuardReport struct {
	Reasons []string `json:"reasons,omitempty"`
	// Warnings name what the guard could not check (nothing to probe): the change
	// passed on the rules alone, and the report says so.
	Warnings  []string        `json:"warnings,omitempty"`
	Retention Retention       `json:"retention"`
	Flips     []Flip          `json:"flips,omitempty"`
	Hits      []knowledge.Hit `json:"hits,omitempty"`
}

// Flip is a probe question the model answered confidently before the change and
// differently after it: the change contradicts what the model knew.
type Flip struct {
	Question   string  `json:"question"`
	Before     string  `json:"before"`
	After      string  `json:"after"`
	Confidence float64 `json:"confidence"` // mean token probability of the answer before
}

func (GuardVerdict) EventType() string     { return "guard_verdict" }
func (VersionCommitted) EventType() string { return "version_committed" }
