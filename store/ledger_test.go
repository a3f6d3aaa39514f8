package store

import (
	"errors"
	"strings"
	"testing"
)

func TestLedgerVersionsAndTree(t *testing.T) {
	db := openTemp(t)
	run := mustRun(t, db, Run{Name: "a"})
	base, err := db.SaveLedgerEntry(LedgerEntry{RunID: run, Kind: LedgerBase, Status: LedgerCommitted, BaseHash: "b0", Merged: true})
	if err != nil {
		t.Fatal(err)
	}
	step := func(run, parent int64, k int, status string) int64 {
		t.Helper()
		id, err := db.SaveLedgerEntry(LedgerEntry{RunID: run, Parent: parent, Kind: LedgerContinual, Step: k, Status: status,
			AdapterPath: "/a", AdapterHash: "h", Merged: true, Guard: []byte(`{"reasons":["x"]}`), Edit: "e", Source: "s", Reward: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	v1 := step(run, base, 0, LedgerCommitted)
	held := step(run, v1, 1, LedgerHeld)
	// A held entry is not a version: nothing builds on it.
	if _, err := db.SaveLedgerEntry(LedgerEntry{RunID: run, Parent: held, Kind: LedgerContinual, Step: 2, Status: LedgerCommitted, AdapterHash: "h"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("entry on a held parent: %v", err)
	}
	if _, err := db.VersionChain(held); !errors.Is(err, ErrInvalid) {
		t.Errorf("chain of a held entry: %v", err)
	}
	if err := db.SettleLedgerEntry(held, LedgerCommitted, "approve", "fine", "fp"); err != nil {
		t.Fatal(err)
	}
	if err := db.SettleLedgerEntry(held, LedgerRejected, "reject", "late", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("settling twice: %v", err)
	}
	chain, err := db.VersionChain(held)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 3 || chain[0].ID != base || chain[2].ID != held || chain[2].Fingerprint != "fp" || chain[2].Review != "approve" {
		t.Errorf("chain %+v", chain)
	}
	if _, err := db.SaveLedgerEntry(LedgerEntry{RunID: run, Parent: v1, Kind: LedgerContinual, Step: 1, Status: LedgerRejected, AdapterHash: "h"}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second entry for one step: %v", err)
	}
	head, ok, err := db.HeadVersion(run)
	if err != nil || !ok || head.ID != held {
		t.Errorf("head %d %v %v, want %d", head.ID, ok, err, held)
	}
	// A branch run: its first entry's parent is in the first run.
	branch := mustRun(t, db, Run{Name: "b", Parent: run})
	bv := step(branch, v1, 1, LedgerCommitted)
	other := mustRun(t, db, Run{Name: "unrelated"})
	if _, err := db.SaveLedgerEntry(LedgerEntry{RunID: other, Kind: LedgerBase, Status: LedgerCommitted, BaseHash: "b1"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []int64{run, branch} {
		tree, err := db.VersionTree(r)
		if err != nil {
			t.Fatal(err)
		}
		if len(tree) != 4 || tree[3].ID != bv || tree[3].RunID != branch || string(tree[1].Guard) != `{"reasons":["x"]}` {
			t.Errorf("tree of run %d: %+v", r, tree)
		}
	}
	e, ok, err := db.LedgerStep(run, LedgerContinual, 0)
	if err != nil || !ok || e.ID != v1 || e.Reward != 0.5 || e.Edit != "e" {
		t.Errorf("ledger step: %+v %v %v", e, ok, err)
	}
	if _, ok, _ := db.LedgerStep(run, LedgerPolicy, 0); ok {
		t.Error("found a policy entry that was never written")
	}
}

func TestLedgerRejectsBadEntries(t *testing.T) {
	db := openTemp(t)
	run := mustRun(t, db, Run{Name: "a"})
	for _, c := range []struct {
		e    LedgerEntry
		want string
	}{
		{LedgerEntry{RunID: run, Kind: "merge", Status: LedgerCommitted}, "ledger kind"},
		{LedgerEntry{RunID: run, Kind: LedgerBase, Status: "done", BaseHash: "x"}, "ledger status"},
		{LedgerEntry{RunID: run, Kind: LedgerBase, Status: LedgerCommitted}, "base hash"},
		{LedgerEntry{RunID: run, Kind: LedgerPolicy, Status: LedgerCommitted, AdapterHash: "h"}, "parent version"},
		{LedgerEntry{RunID: run, Kind: LedgerBase, Status: LedgerCommitted, BaseHash: "x", Guard: []byte("{")}, "not valid JSON"},
		{LedgerEntry{RunID: run, Parent: 77, Kind: LedgerPolicy, Status: LedgerCommitted, AdapterHash: "h"}, "no model version 77"},
		{LedgerEntry{RunID: 999, Kind: LedgerBase, Status: LedgerCommitted, BaseHash: "x"}, "no run 999"},
	} {
		if _, err := db.SaveLedgerEntry(c.e); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.e, err, c.want)
		}
	}
	if err := db.SettleLedgerEntry(5, "held", "", "", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("settle to held: %v", err)
	}
	if err := db.SettleLedgerEntry(5, LedgerRejected, "", "", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("settle a missing entry: %v", err)
	}
	if _, err := db.VersionChain(5); !errors.Is(err, ErrNotFound) {
		t.Errorf("chain of a missing version: %v", err)
	}
}
