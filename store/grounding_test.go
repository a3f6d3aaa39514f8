package store

import (
	"database/sql"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestGroundingUpgradesAnOldFile builds a file at schema version 3 (before the
// grounding column) with a candidate in it, opens it with this program, and checks
// that the file migrates, the old candidate reads back whole with no grounding share,
// and a new candidate keeps its share.
func TestGroundingUpgradesAnOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v3.db")
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
	for _, m := range migrations[:3] {
		if !strings.HasPrefix(m.name, "000") || m.version > 3 {
			t.Fatalf("unexpected migration %s", m.name)
		}
		mustExec(m.sql)
		mustExec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, '')`, m.version, m.name)
	}
	mustExec(`INSERT INTO runs (id, name, status, created_at, updated_at) VALUES (1, 'old', 'done', '2025-01-01T00:00:00.000000000Z', '2025-01-01T00:00:00.000000000Z')`)
	mustExec(`INSERT INTO candidates (run_id, round, task, idx, kind, edit, status, reward, created_at)
		VALUES (1, 0, 0, 0, 'self_edit', 'The Veda Summer lasted four days.', 'done', 0.25, '2025-01-01T00:00:00.000000000Z')`)
	raw.Close()

	db, err := Open(path)
	if err != nil {
		t.Fatalf("open of a version 3 file: %v", err)
	}
	defer db.Close()
	var v int
	if err := db.r.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil || v != SchemaVersion() || v < 4 {
		t.Fatalf("schema version %d (err %v), want %d", v, err, SchemaVersion())
	}
	old, err := db.Candidates(1, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(old) != 1 || old[0].Edit != "The Veda Summer lasted four days." || old[0].Reward != 0.25 || old[0].Grounding != nil {
		t.Fatalf("the old candidate after the upgrade: %+v", old)
	}
	c := cand(1, CandidateKey{1, 0, 0}, 0, 0)
	g := 0.4
	c.Grounding = &g
	if _, err := db.SaveCandidate(&c); err != nil {
		t.Fatal(err)
	}
	back, err := db.Candidate(c.ID)
	if err != nil || back.Grounding == nil || *back.Grounding != 0.4 {
		t.Fatalf("a new candidate's grounding: %v (err %v), want 0.4", back.Grounding, err)
	}
}

func TestSaveCandidateRefusesABadGrounding(t *testing.T) {
	db := openTemp(t)
	run := mustRun(t, db, Run{})
	for i, g := range []float64{-0.1, 1.5, math.NaN(), math.Inf(1)} {
		c := cand(run, CandidateKey{0, 0, i}, 0, 0)
		c.Grounding = &g
		_, err := db.SaveCandidate(&c)
		if err == nil || !strings.Contains(err.Error(), "grounding") || !strings.Contains(err.Error(), "outside [0, 1]") {
			t.Errorf("grounding %v: %v, want a refusal naming it", g, err)
		}
	}
	for i, g := range []float64{0, 1} {
		c := cand(run, CandidateKey{1, 0, i}, 0, 0)
		c.Grounding = &g
		if _, err := db.SaveCandidate(&c); err != nil {
			t.Errorf("grounding %v: %v", g, err)
		}
	}
}
