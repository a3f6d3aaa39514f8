package store

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

// hostile is the attack string: a screen clear, a window title (OSC ended by
// BEL), the 8-bit CSI and a right-to-left override.
const hostile = "x\x1b[2J\x1b]0;pwned\x07 \u009b2J \u202Egnp.exe"

// noTerminalControl fails the test when out holds ESC, BEL, another C0 control
// (newline, tab and CR aside, which CSV quoting uses), DEL, a C1 control or a bidi control.
func noTerminalControl(t *testing.T, what, out string) {
	t.Helper()
	if i := strings.IndexFunc(out, func(r rune) bool {
		return r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r >= 0x7f && r < 0xa0 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
	}); i >= 0 {
		t.Errorf("%s holds %q:\n%q", what, out[i:min(len(out), i+12)], out)
	}
}

func TestExportCSVIsTerminalAndSpreadsheetSafe(t *testing.T) {
	db := openTemp(t)
	run := mustRun(t, db, Run{Name: hostile, Domain: "knowledge", Model: "m", Status: StatusDone, Config: []byte(`{"name":"x"}`)})
	c := cand(run, CandidateKey{0, 0, 0}, 1, 1)
	c.Edit, c.Reason = hostile+"\nsecond line", "=HYPERLINK(\"http://evil\",\"click\")"
	if _, err := db.SaveCandidate(&c); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := db.ExportCSV(run, &buf); err != nil {
		t.Fatal(err)
	}
	noTerminalControl(t, "CSV", buf.String())
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv: %q %v", recs, err)
	}
	row := map[string]string{}
	for i, h := range recs[0] {
		row[h] = recs[1][i]
	}
	if !strings.HasPrefix(row["reason"], "'=HYPERLINK") {
		t.Errorf("formula cell not made inert: %q", row["reason"])
	}
	if !strings.HasPrefix(row["edit"], "x\uFFFD") || !strings.HasSuffix(row["edit"], "gnp.exe\nsecond line") {
		t.Errorf("edit cell %q: want the text kept, each sequence shown as one U+FFFD", row["edit"])
	}
	if row["reward"] != "0.25" || row["seed"] != "18446744073709551615" {
		t.Errorf("numbers changed: reward %q seed %q", row["reward"], row["seed"])
	}

	// JSONL stays the exact record, and is still safe to cat.
	buf.Reset()
	if err := db.ExportJSONL(run, &buf); err != nil {
		t.Fatal(err)
	}
	noTerminalControl(t, "JSONL", buf.String())
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	var got []string
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		switch m["type"] {
		case "run":
			got = append(got, m["name"].(string))
		case "candidate":
			got = append(got, m["edit"].(string), m["reason"].(string))
		}
	}
	if len(got) != 3 || got[0] != hostile || got[1] != c.Edit || got[2] != c.Reason {
		t.Errorf("JSONL strings differ from the stored ones: %q", got)
	}
}
