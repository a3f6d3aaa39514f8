package bench

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const cannedTorch = `{"torch": "1.13.0a0", "threads": [1, 2], "models": [
 {"model": "small", "dtype": "float32", "rank": 8, "vocab": 2048, "hidden": 256, "layers": 4,
  "decode_batch1": 400, "decode_batch1_threads": 1, "decode_batch5": 500, "decode_batch5_threads": 2,
  "train": 2000, "train_threads": 2, "decode_peak_bytes": 100000000, "train_peak_bytes": 200000000},
 {"model": "1b", "dtype": "bfloat16", "rank": 32, "vocab": 128256, "hidden": 2048, "layers": 16,
  "decode_batch1": 6, "decode_batch1_threads": 2, "decode_batch5": 30, "decode_batch5_threads": 2,
  "train": 40, "train_threads": 2, "decode_peak_bytes": 3000000000, "train_peak_bytes": 6000000000}]}`

func TestTorchComparisonPrintsRatios(t *testing.T) {
	r, err := ParseTorchReport([]byte(cannedTorch))
	if err != nil {
		t.Fatal(err)
	}
	seal := []Figures{
		{Model: "small", Hidden: 256, Layers: 4, Vocab: 2048, Rank: 8, Decode1: 1000, Decode5: 1500, Train: 3000,
			DecodePeak: 50000000, TrainPeak: 100000000},
		// The 1B line with another layer count (as --quick makes it): named, not compared.
		{Model: "1b", Hidden: 2048, Layers: 2, Vocab: 128256, Rank: 32, Decode1: 9, Decode5: 8, Train: 30},
	}
	var b strings.Builder
	PrintComparison(&b, seal, r)
	out := b.String()
	for _, want := range []string{
		"PyTorch 1.13.0a0", "best of 1 and 2 threads",
		"small model decode batch 1, tokens/s", "1000.0      400.0         1    2.50",
		"small model decode batch 5, tokens/s", "1500.0      500.0         2    3.00",
		"small model LoRA training r 8, tokens/s", "3000.0     2000.0         2    1.50",
		"small model peak memory training, GB", "0.10       0.20         2    0.50",
		"1b model: shapes differ (seal d 2048, 2 layers",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("comparison lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "1B-shaped model decode") {
		t.Errorf("models of different shapes were compared:\n%s", out)
	}
}

func TestParseTorchReportRejectsMissingFigures(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":     `decode 400`,
		"no models":    `{"torch": "1.13", "models": []}`,
		"no figure":    `{"torch": "1.13", "models": [{"model": "small", "hidden": 256, "layers": 4, "vocab": 2048, "decode_batch1": 1, "decode_batch5": 1}]}`,
		"no torch tag": `{"models": [{"model": "small"}]}`,
	} {
		if _, err := ParseTorchReport([]byte(in)); err == nil || !strings.Contains(err.Error(), "torchbench output") {
			t.Errorf("%s: error %v, want one naming torchbench output", name, err)
		}
	}
}

func TestTorchAvailableNamesTheFix(t *testing.T) {
	err := TorchAvailable(filepath.Join(t.TempDir(), "no-python"))
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y python3-torch") {
		t.Fatalf("got %v, want the missing-torch error naming the package", err)
	}
}

func TestFindTorchScriptFromASubfolder(t *testing.T) {
	p, err := FindTorchScript(".") // models/bench, two levels below the module root
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(p, filepath.Join("tools", "torchbench", "torchbench.py")) {
		t.Fatalf("found %s", p)
	}
	if _, err := FindTorchScript(t.TempDir()); err == nil || !strings.Contains(err.Error(), "--torch-script") {
		t.Fatalf("outside the module: %v, want an error naming --torch-script", err)
	}
}

// The script itself, in its --quick mode, when Debian's python3-torch is installed.
func TestTorchScriptQuick(t *testing.T) {
	if err := exec.Command(TorchPython, "-c", "import torch").Run(); err != nil {
		t.Skipf("%s cannot import torch (apt-get install -y python3-torch libopenblas0)", TorchPython)
	}
	abs, _ := filepath.Abs(".")
	script, err := FindTorchScript(abs)
	if err != nil {
		t.Fatal(err)
	}
	r, err := RunTorch(TorchPython, script, TorchOptions{Quick: true, Skip1B: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Models) != 1 {
		t.Fatalf("--skip-1b gave %d models", len(r.Models))
	}
	m := r.Models[0]
	if m.Model != "small" || m.Hidden != 256 || m.Layers != 4 || m.Vocab != 2048 || m.Rank != 8 || m.Dtype != "float32" {
		t.Errorf("small model shapes %+v, want seal bench's (d 256, 4 layers, vocab 2048, r 8, f32)", m)
	}
	if m.DecodePk <= 0 || m.TrainPk < m.DecodePk || m.Decode1T < 1 || m.TrainT < 1 {
		t.Errorf("peaks or thread counts missing: %+v", m)
	}
}

// A model whose PyTorch run passes the time limit is stopped, with the processes it started, and named
// in the comparison; the models that finished are compared. The fake interpreter answers the small
// model at once and, for the 1B one, starts a child that sleeps (as the script measures in children)
// and waits for it.
func TestRunTorchStopsAModelPastTheLimit(t *testing.T) {
	dir := t.TempDir()
	small := strings.ReplaceAll(cannedTorch[:strings.Index(cannedTorch, ",\n {\"model\": \"1b\"")]+"]}", "\n", " ")
	fake := filepath.Join(dir, "python")
	pidFile := filepath.Join(dir, "child.pid")
	script := "#!/bin/sh\ncase \"$*\" in\n*'--only 1b'*) sleep 60 & echo $! > " + pidFile + "; wait ;;\n*'--only small'*) echo '" + small + "' ;;\n*) exit 3 ;;\nesac\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r, err := RunTorch(fake, "torchbench.py", TorchOptions{Limit: 2 * time.Second}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("RunTorch took %v: the stopped run's child held it", d)
	}
	if pid, err := os.ReadFile(pidFile); err != nil {
		t.Errorf("the 1b run's child never started: %v", err)
	} else if stat, alive := stillRuns(strings.TrimSpace(string(pid)), 10*time.Second); alive {
		t.Errorf("the stopped run's child %s still runs: %s", strings.TrimSpace(string(pid)), stat)
	}
	if len(r.Models) != 1 || r.Models[0].Model != "small" || !strings.Contains(r.Stopped["1b"], "time limit (2s, --torch-limit)") {
		t.Fatalf("report %+v, stopped %v: want the small model compared and the 1b one stopped", r.Models, r.Stopped)
	}
	var b strings.Builder
	PrintComparison(&b, []Figures{
		{Model: "small", Hidden: 256, Layers: 4, Vocab: 2048, Rank: 8, Decode1: 1000, Decode5: 1500, Train: 3000},
		{Model: "1b", Hidden: 2048, Layers: 16, Vocab: 128256, Rank: 32, Decode1: 9, Decode5: 30, Train: 13},
	}, r)
	for _, want := range []string{"small model decode batch 1, tokens/s", "1b model: PyTorch's run stopped at its time limit (2s, --torch-limit), not compared"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("comparison lacks %q:\n%s", want, b.String())
		}
	}
	// Every model stopped: an error naming the limit. A run that fails otherwise: an error naming it.
	slow := filepath.Join(dir, "slow")
	if err := os.WriteFile(slow, []byte("#!/bin/sh\nsleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := RunTorch(slow, "torchbench.py", TorchOptions{Limit: time.Second, Skip1B: true}, io.Discard); err == nil || !strings.Contains(err.Error(), "every model's run stopped") {
		t.Errorf("all stopped: %v, want an error saying so", err)
	}
	broken := filepath.Join(dir, "broken")
	if err := os.WriteFile(broken, []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := RunTorch(broken, "torchbench.py", TorchOptions{Limit: time.Minute, Skip1B: true}, io.Discard); err == nil || !strings.Contains(err.Error(), "--only small") {
		t.Errorf("a failing run: %v, want an error naming the command", err)
	}
}

// FuzzParseTorchReport: whatever the script prints, parsing never panics, and a report it accepts has
// every figure the comparison divides by, so printing it beside seal's figures cannot panic either.
func FuzzParseTorchReport(f *testing.F) {
	f.Add([]byte(cannedTorch))
	f.Add([]byte(`{"torch": "1.13", "models": []}`))
	f.Add([]byte(`{"torch": "x", "threads": [2], "models": [{"model": "small", "hidden": 256, "layers": 4, "vocab": 2048, "decode_batch1": 1, "decode_batch5": 1, "train": 1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseTorchReport(data)
		if err != nil {
			if !strings.Contains(err.Error(), "torchbench output") {
				t.Fatalf("error %v does not name the torchbench output", err)
			}
			return
		}
		for _, m := range r.Models {
			if m.Decode1 <= 0 || m.Decode5 <= 0 || m.Train <= 0 || m.Hidden <= 0 {
				t.Fatalf("accepted a model without a figure: %+v", m)
			}
		}
		seal := []Figures{{Model: "small", Hidden: 256, Layers: 4, Vocab: 2048, Rank: 8, Decode1: 1, Decode5: 1, Train: 1}}
		PrintComparison(io.Discard, seal, r)
	})
}

// stillRuns reports whether process pid is alive (not gone, not a zombie) after waiting up to
// patience for it to go: a killed process on a loaded machine can show as running for a moment
// before it is scheduled to die, while one that was never killed (the sleep above) outlives it.
func stillRuns(pid string, patience time.Duration) (stat string, alive bool) {
	deadline := time.Now().Add(patience)
	for {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || strings.Contains(string(b), ") Z ") {
			return string(b), false
		}
		if time.Now().After(deadline) {
			return string(b), true
		}
		time.Sleep(20 * time.Millisecond)
	}
}
