package arc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"seal/models/sidefile"
)

func TestLoadRefusesHugeFilesBeforeReading(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x_challenges.json")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, MaxFile+1); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, "")
	var tl *sidefile.TooLarge
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want a too-large error naming %s", err, path)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		ok := filepath.Join(dir, "ok_challenges.json")
		os.WriteFile(ok, []byte(`{}`), 0o644)
		if _, err := Load(ok, "/dev/zero"); !errors.Is(err, sidefile.ErrNotRegular) {
			t.Fatalf("solutions at /dev/zero: got %v", err)
		}
	}
}

func TestParseRefusesOversizedTask(t *testing.T) {
	row := "[" + strings.Repeat("1,", 29) + "1]"
	grid := "[" + strings.Repeat(row+",", 29) + row + "]"
	pair := `{"input": ` + grid + `, "output": ` + grid + `}`
	train := strings.Repeat(pair+",", 600) + pair // about 1.1 MB of demonstrations
	data := `{"big": {"train": [` + train + `], "test": [{"input": ` + grid + `}]}}`
	_, err := Parse([]byte(data), "c.json", nil, "")
	if err == nil || !strings.Contains(err.Error(), `c.json: task "big" is`) || !strings.Contains(err.Error(), "over the limit of 1048576 bytes") {
		t.Fatalf("got %v", err)
	}
}
