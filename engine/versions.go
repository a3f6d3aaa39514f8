package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"seal/store"
)

// Rollback starts a new run that branches from a model version of run id's family:
// the same spec, with FromVersion set and the run recorded as a child of id. The new
// run rebuilds the version from the ledger (checked against its fingerprint) and goes
// on from the step after it.
func (e *Engine) Rollback(ctx context.Context, id, version int64) (*Run, error) {
	rec, spec, err := e.storedSpec(id)
	if err != nil {
		return nil, err
	}
	tree, err := e.DB.VersionTree(id)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(tree, func(v store.LedgerEntry) bool { return v.ID == version })
	switch {
	case i < 0:
		return nil, fmt.Errorf("version %d is not in the version tree of run %d (see seal versions %d)", version, id, id)
	case tree[i].Status != store.LedgerCommitted:
		return nil, fmt.Errorf("version %d was %s, never applied: only committed entries are versions", version, tree[i].Status)
	}
	spec.FromVersion = version
	if err := e.recordDevice(&spec); err != nil {
		return nil, err
	}
	spec.Name = fmt.Sprintf("%s (from v%d)", strings.TrimSuffix(rec.Name, fmt.Sprintf(" (from v%d)", version)), version)
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	return e.create(ctx, store.Run{Name: spec.Name, Domain: spec.Domain, Model: spec.Model, Config: cfg, Parent: id}, spec)
}

// VersionLogits rebuilds a model version from the ledger onto the model folder (each
// adapter verified by hash, the result checked against the recorded fingerprint) and
// returns its logits for ids, one row per position; nil ids means the fixed input whose
// logits the version's fingerprint hashes (FingerprintLogits of the result is then the
// recorded fingerprint).
func (e *Engine) VersionLogits(ctx context.Context, version int64, modelDir string, ids []int32) ([]float32, error) {
	x, err := e.ledgerRunner(ctx, modelDir)
	if err != nil {
		return nil, err
	}
	defer x.lm.close()
	if err := x.rebuild(version); err != nil {
		return nil, err
	}
	if ids == nil {
		ids = x.lm.fingerprintIDs()
	}
	out, err := x.lm.model.Forward(ids, 1, len(ids), nil, nil)
	if err != nil {
		return nil, err
	}
	return out.F32, nil
}

// ledgerRunner is a runner that belongs to no run: the model folder loaded and hashed,
// and an empty guard state, which is all rebuilding a version from the ledger needs.
// The caller closes x.lm.
func (e *Engine) ledgerRunner(ctx context.Context, modelDir string) (*runner, error) {
	l, err := loadLM(modelDir, e.Backend)
	if err != nil {
		return nil, err
	}
	base, err := ModelHash(modelDir)
	if err != nil {
		l.close()
		return nil, err
	}
	return &runner{e: e, ctx: ctx, spec: RunSpec{Model: modelDir}, lm: l, version: ModelVersion{Base: base}, g: &guardState{}}, nil
}

// VersionTreeLines renders ledger entries (store.VersionTree) as plain-text lines, one
// per entry, children indented under their parent in id order. Held and rejected
// entries show as leaves marked with their status; head, when not 0, is marked "*".
func VersionTreeLines(entries []store.LedgerEntry, head int64) []string {
	kids := map[int64][]store.LedgerEntry{}
	ids := map[int64]bool{}
	for _, e := range entries {
		ids[e.ID] = true
	}
	var roots []store.LedgerEntry
	for _, e := range entries {
		if e.Parent == 0 || !ids[e.Parent] {
			roots = append(roots, e)
		} else {
			kids[e.Parent] = append(kids[e.Parent], e)
		}
	}
	var out []string
	var walk func(e store.LedgerEntry, prefix, branch string)
	walk = func(e store.LedgerEntry, prefix, branch string) {
		out = append(out, prefix+branch+versionLabel(e, head))
		next := prefix
		switch branch {
		case "├─ ":
			next += "│  "
		case "└─ ":
			next += "   "
		}
		cs := kids[e.ID]
		for i, c := range cs {
			b := "├─ "
			if i == len(cs)-1 {
				b = "└─ "
			}
			walk(c, next, b)
		}
	}
	for _, r := range roots {
		walk(r, "", "")
	}
	return out
}

// VersionName is how every screen and command names a model version: its ledger id
// (the number rollback takes; ids are shared by every run in the database, so a new
// run's base may be v4), what the weights are, and the run, i.e. the branch, that
// made it: "v4 base (run 2)", "v5 policy round 0 (run 2)", "v7 continual step 1 (run 3)".
func VersionName(id int64, kind string, step int, run int64) string {
	switch kind {
	case store.LedgerBase:
		return fmt.Sprintf("v%d base (run %d)", id, run)
	case store.LedgerContinual:
		return fmt.Sprintf("v%d continual step %d (run %d)", id, step, run)
	default:
		return fmt.Sprintf("v%d %s round %d (run %d)", id, kind, step, run)
	}
}

func versionLabel(e store.LedgerEntry, head int64) string {
	var b strings.Builder
	b.WriteString(VersionName(e.ID, e.Kind, e.Step, e.RunID))
	if e.Kind == store.LedgerBase {
		fmt.Fprintf(&b, " · %s", short(e.BaseHash))
	} else {
		fmt.Fprintf(&b, " · adapter %s", short(e.AdapterHash))
	}
	if e.Source != "" && e.Kind != store.LedgerBase {
		fmt.Fprintf(&b, " %s", clip(e.Source, 40))
	}
	if e.Status != store.LedgerCommitted {
		fmt.Fprintf(&b, " [%s", strings.ToUpper(e.Status))
		if e.Reason != "" {
			fmt.Fprintf(&b, ": %s", clip(e.Reason, 60))
		}
		b.WriteString("]")
	} else if e.Review == store.VerdictApprove {
		b.WriteString(" [approved]")
	}
	if e.ID == head {
		b.WriteString(" *")
	}
	return b.String()
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// AuditRecord is one ledger entry as a line of `seal audit`: the weight change, where
// its input came from, what the guard measured and who approved it.
type AuditRecord struct {
	Version     int64           `json:"version"` // the ledger id (a version when committed)
	Run         int64           `json:"run"`
	Parent      int64           `json:"parent,omitempty"`
	Kind        string          `json:"kind"`
	Step        int             `json:"step"`
	Status      string          `json:"status"`
	BaseHash    string          `json:"base_hash,omitempty"`
	AdapterPath string          `json:"adapter_path,omitempty"`
	AdapterHash string          `json:"adapter_hash,omitempty"`
	Merged      bool            `json:"merged"`
	Fingerprint string          `json:"fingerprint,omitempty"`
	CandidateID int64           `json:"candidate_id,omitempty"`
	Source      string          `json:"source,omitempty"`
	Edit        string          `json:"edit,omitempty"`
	Reward      *float64        `json:"reward,omitempty"` // absent when not a number
	Review      string          `json:"review,omitempty"`
	Guard       json.RawMessage `json:"guard,omitempty"`
	Reason      string          `json:"reason,omitempty"`
	At          time.Time       `json:"at"`
	Reviews     []AuditReview   `json:"reviews,omitempty"` // every verdict on the change's candidate, oldest first
}

// AuditReview is one person's (or the guard's) verdict.
type AuditReview struct {
	Verdict string    `json:"verdict"`
	Reason  string    `json:"reason,omitempty"`
	Source  string    `json:"source"`
	Edited  string    `json:"edited,omitempty"`
	At      time.Time `json:"at"`
}

// Audit reads a run's ledger with the reviews of each change's candidate.
func Audit(db *store.DB, runID int64) ([]AuditRecord, error) {
	entries, err := db.Ledger(runID)
	if err != nil {
		return nil, err
	}
	reviews, err := db.Reviews(runID)
	if err != nil {
		return nil, err
	}
	out := make([]AuditRecord, len(entries))
	for i, e := range entries {
		r := AuditRecord{Version: e.ID, Run: e.RunID, Parent: e.Parent, Kind: e.Kind, Step: e.Step, Status: e.Status, BaseHash: e.BaseHash,
			AdapterPath: e.AdapterPath, AdapterHash: e.AdapterHash, Merged: e.Merged, Fingerprint: e.Fingerprint, CandidateID: e.CandidateID,
			Source: e.Source, Edit: e.Edit, Review: e.Review, Guard: e.Guard, Reason: e.Reason, At: e.At.UTC()}
		if !math.IsNaN(e.Reward) && !math.IsInf(e.Reward, 0) {
			v := e.Reward
			r.Reward = &v
		}
		for _, rv := range reviews {
			if rv.CandidateID == e.CandidateID && e.CandidateID != 0 {
				r.Reviews = append(r.Reviews, AuditReview{Verdict: rv.Verdict, Reason: rv.Reason, Source: rv.Source, Edited: rv.Edited, At: rv.At.UTC()})
			}
		}
		out[i] = r
	}
	return out, nil
}

// WriteAudit writes records as JSON lines.
func WriteAudit(w io.Writer, recs []AuditRecord) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// ReadAudit parses JSON lines written by WriteAudit; an error names the line.
func ReadAudit(r io.Reader) ([]AuditRecord, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	var out []AuditRecord
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var rec AuditRecord
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return nil, fmt.Errorf("audit line %d: %w", n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("audit line %d: more than one JSON value", n)
		}
		if rec.Version <= 0 || rec.Kind == "" || rec.Status == "" {
			return nil, fmt.Errorf("audit line %d: version, kind and status are required", n)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return out, nil
}
