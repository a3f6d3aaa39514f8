package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"

	"seal/engine/knowledge"
	"seal/models/lora"
	"seal/store"
)

// The edit ledger: base weights are never overwritten in place. A model version is the
// base (the model folder, by content hash) plus an ordered list of adapters, each
// verified by its hash when it is applied; the merged weights in memory are a cache
// that rebuild makes again from the ledger. Each committed version also records a
// fingerprint, the hash of its logits' float32 bits on a fixed input, so a rebuilt
// version is checked bit for bit against the one the run first reached.

// guardState is the run's ledger position and guard configuration.
type guardState struct {
	head    int64 // the version the weights are now
	rules   *knowledge.Rules
	general []probe
	learned []int // continual: the tasks whose steps the weights hold (their questions are probes)
}

// fingerprintText is the fixed input whose logits identify a version.
const fingerprintText = "Question: Topic: Fingerprint\nWhich version of the weights is this?\nAnswer:\n"

// FingerprintLogits hashes logits by their float32 bits: equal fingerprints mean
// bit-identical logits.
func FingerprintLogits(logits []float32) string {
	h := sha256.New()
	var b [4]byte
	for _, v := range logits {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fingerprintIDs is the fixed input, clipped to 32 tokens.
func (l *lm) fingerprintIDs() []int32 {
	ids := l.encode(fingerprintText)
	return ids[:min(len(ids), 32)]
}

func (x *runner) fingerprint() (string, error) {
	ids := x.lm.fingerprintIDs()
	out, err := x.lm.model.Forward(ids, 1, len(ids), nil, nil)
	if err != nil {
		return "", err
	}
	return FingerprintLogits(out.F32), nil
}

// startVersion puts the weights at the run's starting version and records it: the
// base (a base entry, written once per run) or, for a branch, the version it starts
// from, rebuilt from the ledger and checked against its fingerprint. A resumed run's
// head moves on to its own latest committed entry, whose weights the mode's replay
// restores.
func (x *runner) startVersion() error {
	x.g = &guardState{}
	var err error
	if x.spec.Guard.On {
		if x.g.rules, err = knowledge.CompileRules(x.spec.Guard.rules()); err != nil {
			return err
		}
		if x.g.general, err = x.loadGeneralProbes(); err != nil {
			return err
		}
	}
	if x.spec.FromVersion != 0 {
		if err := x.rebuild(x.spec.FromVersion); err != nil {
			return err
		}
		x.g.head = x.spec.FromVersion
		chain, err := x.e.DB.VersionChain(x.spec.FromVersion)
		if err != nil {
			return err
		}
		for _, e := range chain {
			if e.Kind == store.LedgerContinual && e.Step < len(x.tasks) {
				x.g.learned = append(x.g.learned, e.Step)
			}
		}
	} else {
		base, ok, err := x.e.DB.LedgerStep(x.r.ID, store.LedgerBase, 0)
		if err != nil {
			return err
		}
		if ok && base.BaseHash != x.version.Base {
			return fmt.Errorf("model folder %s has content hash %s; run %d started from %s: the model changed since the run started", x.spec.Model, x.version.Base, x.r.ID, base.BaseHash)
		}
		if ok && base.Fingerprint != "" {
			// The bytes hashed alike; the weights must also compute alike, as the
			// version was recorded (rollback checks every rebuilt version this way).
			fp, err := x.fingerprint()
			if err != nil {
				return err
			}
			if fp != base.Fingerprint {
				return fmt.Errorf("model folder %s gives logits fingerprint %s; run %d's base version recorded %s: the weights differ", x.spec.Model, short(fp), x.r.ID, short(base.Fingerprint))
			}
		}
		if !ok {
			fp, err := x.fingerprint()
			if err != nil {
				return err
			}
			base = store.LedgerEntry{RunID: x.r.ID, Kind: store.LedgerBase, Status: store.LedgerCommitted, BaseHash: x.version.Base,
				Fingerprint: fp, Source: x.spec.Model, Merged: true}
			if base.ID, err = x.e.DB.SaveLedgerEntry(base); err != nil {
				return err
			}
			x.r.send(VersionCommitted{Run: x.r.ID, Version: base.ID, Kind: store.LedgerBase, Fingerprint: fp})
		}
		x.g.head = base.ID
	}
	head, ok, err := x.e.DB.HeadVersion(x.r.ID)
	if err != nil {
		return err
	}
	if ok {
		x.g.head = head.ID
	}
	return nil
}

// rebuild applies a version's adapters in order onto the freshly loaded base, each
// verified by hash, and checks the result against the version's fingerprint.
func (x *runner) rebuild(version int64) error {
	chain, err := x.e.DB.VersionChain(version)
	if err != nil {
		return err
	}
	if chain[0].BaseHash != x.version.Base {
		return fmt.Errorf("version %d was built on a model with content hash %s; %s has %s", version, chain[0].BaseHash, x.spec.Model, x.version.Base)
	}
	for _, e := range chain[1:] {
		if err := x.applySaved(e.AdapterPath, e.AdapterHash, e.Merged); err != nil {
			return fmt.Errorf("version %d: %w", e.ID, err)
		}
	}
	want := chain[len(chain)-1].Fingerprint
	got, err := x.fingerprint()
	if err != nil {
		return err
	}
	if want != "" && got != want {
		return fmt.Errorf("version %d rebuilt with logits fingerprint %s, but it was recorded as %s: the weights differ", version, got[:12], want[:12])
	}
	return nil
}

// firstStep is where a branch goes on: the step after the one its version came from
// (continual task or ReST-EM round), when that version is of the run's kind.
func (x *runner) firstStep(kind string) (int, error) {
	if x.spec.FromVersion == 0 {
		return 0, nil
	}
	e, err := x.e.DB.LedgerEntryByID(x.spec.FromVersion)
	if err != nil {
		return 0, err
	}
	if e.Kind == kind {
		return e.Step + 1, nil
	}
	return 0, nil
}

// change is one weight change at its commit point: the adapter is trained, saved and
// attached to the model.
type change struct {
	kind    string // store.LedgerContinual or store.LedgerPolicy
	step    int
	adapter *lora.Adapter
	path    string
	hash    string
	merge   bool
	source  string
	edit    string
	reward  float64
	learned []int    // tasks whose questions join the probe set
	texts   []string // the inputs the rules read
	cand    *store.Candidate
	w       Where
}

// commitChange is the one door through which weights change: it asks the guard,
// writes the ledger entry, and merges (or keeps attached) an accepted adapter or
// detaches a rejected one. A held change waits for a person's verdict. It reports
// whether the change was applied. A step the ledger already decided (a resumed run)
// keeps its decision.
func (x *runner) commitChange(ch change) (bool, error) {
	if old, ok, err := x.e.DB.LedgerStep(x.r.ID, ch.kind, ch.step); err != nil {
		return false, err
	} else if ok {
		if old.AdapterHash != ch.hash {
			return false, fmt.Errorf("ledger entry %d has adapter %s for %s step %d, the update now is %s", old.ID, old.AdapterHash, ch.kind, ch.step, ch.hash)
		}
		switch old.Status {
		case store.LedgerCommitted:
			return true, x.apply(ch, old.ID)
		case store.LedgerRejected:
			return false, x.lm.model.SetAdapter(nil)
		}
		var rep GuardReport
		_ = jsonUnmarshal(old.Guard, &rep)
		return x.hold(ch, old.ID, rep)
	}
	var rep GuardReport
	verdict := "pass"
	if x.spec.Guard.On {
		var err error
		if rep, err = x.judge(ch.adapter, ch.learned, ch.texts); err != nil {
			x.lm.model.SetAdapter(nil)
			return false, err
		}
		if len(rep.Reasons) > 0 {
			verdict = x.stopVerdict()
		}
	}
	e := store.LedgerEntry{RunID: x.r.ID, Parent: x.g.head, Kind: ch.kind, Step: ch.step, AdapterPath: ch.path, AdapterHash: ch.hash,
		Merged: ch.merge, Source: ch.source, Edit: ch.edit, Reward: ch.reward, Reason: strings.Join(rep.Reasons, "; ")}
	if x.spec.Guard.On {
		e.Guard = reportJSON(rep)
	}
	if ch.cand != nil {
		e.CandidateID = ch.cand.ID
	}
	switch verdict {
	case "pass":
		e.Status = store.LedgerCommitted
		if err := x.finish(ch); err != nil {
			return false, err
		}
		fp, err := x.fingerprint()
		if err != nil {
			return false, err
		}
		e.Fingerprint = fp
	case "reject":
		e.Status, e.Review = store.LedgerRejected, "auto"
		if err := x.lm.model.SetAdapter(nil); err != nil {
			return false, err
		}
	case "hold":
		e.Status = store.LedgerHeld
		if ch.cand == nil {
			c, err := x.policyCandidate(ch)
			if err != nil {
				return false, err
			}
			ch.cand, e.CandidateID = &c, c.ID
		}
	}
	id, err := x.e.DB.SaveLedgerEntry(e)
	if err != nil {
		return false, err
	}
	if x.spec.Guard.On {
		x.r.send(GuardVerdict{Where: ch.w, Entry: id, Kind: ch.kind, Step: ch.step, Verdict: verdict, GuardReport: rep})
	}
	switch verdict {
	case "pass":
		x.g.head = id
		x.r.send(VersionCommitted{Run: x.r.ID, Version: id, Parent: e.Parent, Kind: ch.kind, Step: ch.step, Fingerprint: e.Fingerprint})
		return true, nil
	case "reject":
		return false, nil
	}
	return x.hold(ch, id, rep)
}

// hold waits for a person's verdict on a held change and carries it out. An approval
// applies the adapter that was judged; an edited text in it is kept in the review only
// (the update was trained from the original input).
func (x *runner) hold(ch change, id int64, rep GuardReport) (bool, error) {
	e, err := x.e.DB.LedgerEntryByID(id)
	if err != nil {
		return false, err
	}
	if ch.cand == nil {
		c, err := x.e.DB.Candidate(e.CandidateID)
		if err != nil {
			return false, err
		}
		ch.cand = &c
	}
	rv, err := x.awaitVerdict(*ch.cand, ch.w, rep.Reasons)
	if err != nil {
		return false, err
	}
	if rv.Verdict != store.VerdictApprove {
		if err := x.lm.model.SetAdapter(nil); err != nil {
			return false, err
		}
		return false, x.e.DB.SettleLedgerEntry(id, store.LedgerRejected, rv.Verdict, rv.Reason, "")
	}
	if err := x.finish(ch); err != nil {
		return false, err
	}
	fp, err := x.fingerprint()
	if err != nil {
		return false, err
	}
	if err := x.e.DB.SettleLedgerEntry(id, store.LedgerCommitted, rv.Verdict, rv.Reason, fp); err != nil {
		return false, err
	}
	x.g.head = id
	x.r.send(VersionCommitted{Run: x.r.ID, Version: id, Parent: e.Parent, Kind: ch.kind, Step: ch.step, Fingerprint: fp})
	return true, nil
}

// apply carries out a committed entry for the attached adapter (a resumed step).
func (x *runner) apply(ch change, id int64) error {
	if err := x.finish(ch); err != nil {
		return err
	}
	x.g.head = id
	return nil
}

// finish merges the attached adapter into the weights, or leaves it attached.
func (x *runner) finish(ch change) error {
	if ch.merge {
		if err := x.lm.model.MergeAdapter(); err != nil {
			return err
		}
		return x.merged(ch.hash, ch.path)
	}
	return nil
}

// idxPolicy is the candidate index of a held policy update (the review hangs on it).
const idxPolicy = -4

// policyCandidate stores a held policy update as a candidate, so the review flow (which
// reviews candidates) can decide on it.
func (x *runner) policyCandidate(ch change) (store.Candidate, error) {
	c := store.Candidate{RunID: x.r.ID, Round: ch.step, Task: 0, Index: idxPolicy, Kind: "policy_update", Edit: ch.edit,
		Status: "done", Reward: ch.reward, Repeats: 1, AdapterPath: ch.path, AdapterHash: ch.hash}
	if id, ok := x.finished[store.CandidateKey{Round: ch.step, Index: idxPolicy}]; ok {
		return x.e.DB.Candidate(id)
	}
	return c, x.commit(&c, ch.w)
}

// commitPolicy is ReST-EM's commit point: the trained policy adapter goes through the
// guard and the ledger; a change that is not applied leaves the round without a saved
// policy update, so a resumed run does not apply it either.
func (x *runner) commitPolicy(round int, a *lora.Adapter, rec *store.Round, edits, passages []string) error {
	ch := change{kind: store.LedgerPolicy, step: round, adapter: a, path: rec.PolicyAdapterPath, hash: rec.PolicyHash,
		merge: x.spec.Policy.Merge, source: fmt.Sprintf("ReST-EM round %d: %d kept self-edits", round, len(edits)),
		edit: strings.Join(edits, "\n---\n"), reward: rec.MeanReward, texts: append(slices.Clip(edits), passages...), w: Where{Run: x.r.ID, Round: round}}
	applied, err := x.commitChange(ch)
	if err != nil {
		return err
	}
	if !applied {
		rec.PolicyAdapterPath, rec.PolicyHash = "", ""
	}
	return nil
}
