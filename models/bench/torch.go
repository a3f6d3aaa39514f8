package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Figures are one model's measurements, seal's or PyTorch's, for the side by side.
type Figures struct {
	Model                 string // "small" or "1b"
	Hidden, Layers, Vocab int
	Decode1, Decode5      float64 // tokens/s
	Train                 float64 // LoRA training tokens/s
	TrainFull             float64 // full-parameter training tokens/s (the small model; PyTorch's script does not measure it)
	DecodePeak, TrainPeak int64   // bytes above what the process held before loading
	Decode1T, Decode5T    int     // PyTorch: the thread count that gave the figure
	TrainT                int
	Rank                  int
	WeightBytes           int64 // the weights one decode step reads
}

// Results collects seal's figures as Run measures them.
type Results struct{ Models []Figures }

func (r *Results) add(f Figures) {
	if r != nil {
		r.Models = append(r.Models, f)
	}
}

// TorchReport is what tools/torchbench/torchbench.py prints.
type TorchReport struct {
	Torch   string       `json:"torch"`
	Threads []int        `json:"threads"`
	Models  []torchModel `json:"models"`
	// Stopped names the models RunTorch stopped at the time limit, with why (not the script's).
	Stopped map[string]string `json:"-"`
}

type torchModel struct {
	Model    string  `json:"model"`
	Dtype    string  `json:"dtype"`
	Rank     int     `json:"rank"`
	Vocab    int     `json:"vocab"`
	Hidden   int     `json:"hidden"`
	Layers   int     `json:"layers"`
	Decode1  float64 `json:"decode_batch1"`
	Decode1T int     `json:"decode_batch1_threads"`
	Decode5  float64 `json:"decode_batch5"`
	Decode5T int     `json:"decode_batch5_threads"`
	Train    float64 `json:"train"`
	TrainT   int     `json:"train_threads"`
	DecodePk int64   `json:"decode_peak_bytes"`
	TrainPk  int64   `json:"train_peak_bytes"`
}

// ParseTorchReport reads the script's JSON and checks that every figure is there.
func ParseTorchReport(data []byte) (*TorchReport, error) {
	var r TorchReport
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("torchbench output: %v", err)
	}
	if r.Torch == "" || len(r.Models) == 0 {
		return nil, fmt.Errorf("torchbench output: no torch version or no models")
	}
	for _, m := range r.Models {
		if m.Model == "" || m.Hidden <= 0 || m.Layers <= 0 || m.Vocab <= 0 || m.Decode1 <= 0 || m.Decode5 <= 0 || m.Train <= 0 {
			return nil, fmt.Errorf("torchbench output: model %q lacks a shape or a figure", m.Model)
		}
	}
	return &r, nil
}

// Figures returns the report's models in the form seal's are kept.
func (r *TorchReport) Figures() []Figures {
	var out []Figures
	for _, m := range r.Models {
		out = append(out, Figures{Model: m.Model, Hidden: m.Hidden, Layers: m.Layers, Vocab: m.Vocab,
			Decode1: m.Decode1, Decode5: m.Decode5, Train: m.Train, DecodePeak: m.DecodePk, TrainPeak: m.TrainPk,
			Decode1T: m.Decode1T, Decode5T: m.Decode5T, TrainT: m.TrainT, Rank: m.Rank})
	}
	return out
}

// ErrNoTorch says the Python cannot import torch; seal's figures stand alone then.
var ErrNoTorch = errors.New("cannot import torch")

// TorchPython is the interpreter the script runs with: Debian's, where python3-torch installs.
const TorchPython = "/usr/bin/python3"

// TorchAvailable reports whether python can import torch, as an error naming the fix.
func TorchAvailable(python string) error {
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		return fmt.Errorf("%s %w (apt-get install -y python3-torch libopenblas0)", python, ErrNoTorch)
	}
	return nil
}

// FindTorchScript finds tools/torchbench/torchbench.py in the module root above dir.
func FindTorchScript(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if mod, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.HasPrefix(string(mod), "module seal\n") {
			p := filepath.Join(d, "tools", "torchbench", "torchbench.py")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("the module root %s has no tools/torchbench/torchbench.py: pass --torch-script", d)
			}
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no seal module root above %s: pass --torch-script", dir)
		}
	}
}

// TorchOptions say what RunTorch measures and for how long.
type TorchOptions struct {
	Quick, Skip1B bool
	// Limit is the longest one model's run may take (0: no limit). PyTorch's bf16 1B model on a CPU
	// without AVX512_BF16 crawls (1.5 tokens/s decoding 2 of its 16 layers on a 2-core AVX2 EPYC), so
	// its full run takes hours there; past the limit it is stopped and the model named as not compared.
	Limit time.Duration
}

// RunTorch runs the script once per model (progress and errors to stderr) and gathers what the runs
// print into one report. A run past o.Limit is stopped, with every process it started, and recorded in
// the report's Stopped; any other failure is an error, as is every model stopped.
func RunTorch(python, script string, o TorchOptions, stderr io.Writer) (*TorchReport, error) {
	models := []string{"small"}
	if !o.Skip1B {
		models = append(models, "1b")
	}
	var all *TorchReport
	stopped := map[string]string{}
	for _, model := range models {
		args := []string{script, "--only", model}
		if o.Quick {
			args = append(args, "--quick")
		}
		out, err := runLimited(python, args, o.Limit, stderr)
		if errors.Is(err, errTimeLimit) {
			stopped[model] = fmt.Sprintf("PyTorch's run stopped at its time limit (%v, --torch-limit)", o.Limit)
			fmt.Fprintf(stderr, "seal bench: PyTorch's %s model: stopped after %v\n", model, o.Limit)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: %v", python, strings.Join(args, " "), err)
		}
		r, err := ParseTorchReport(out)
		if err != nil {
			return nil, err
		}
		if all == nil {
			all = r
		} else {
			all.Models = append(all.Models, r.Models...)
		}
	}
	if all == nil {
		return nil, fmt.Errorf("%s %s: every model's run stopped at the time limit (%v, --torch-limit)", python, script, o.Limit)
	}
	if len(stopped) > 0 {
		all.Stopped = stopped
	}
	return all, nil
}

var errTimeLimit = errors.New("time limit reached")

// runLimited runs python with args and returns its standard output; past limit (when > 0) it kills
// the process and its children (the script measures in child processes) and returns errTimeLimit.
func runLimited(python string, args []string, limit time.Duration, stderr io.Writer) ([]byte, error) {
	ctx := context.Background()
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Stderr = stderr
	killGroupOnCancel(cmd)
	cmd.WaitDelay = 5 * time.Second // a child that outlives the kill must not hold the output open
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, errTimeLimit
	}
	return out, err
}

// PrintComparison prints each of seal's figures beside PyTorch's with the ratio seal/torch
// (above 1: seal is faster; for memory, above 1: seal uses more). A model whose shapes
// differ between the two is named and left out, never compared.
func PrintComparison(w io.Writer, seal []Figures, t *TorchReport) {
	fmt.Fprintf(w, "\nside by side with PyTorch %s on the CPU (tools/torchbench/torchbench.py, best of %s threads)\n",
		t.Torch, joinInts(t.Threads))
	fmt.Fprintf(w, "  %-46s %10s %10s %9s %7s\n", "figure", "seal", "PyTorch", "threads", "ratio")
	torch := map[string]Figures{}
	for _, f := range t.Figures() {
		torch[f.Model] = f
	}
	for _, s := range seal {
		p, ok := torch[s.Model]
		if !ok {
			why := "not measured by the script"
			if stop, ok := t.Stopped[s.Model]; ok {
				why = stop + ", not compared"
			}
			fmt.Fprintf(w, "  %s model: %s\n", s.Model, why)
			continue
		}
		if s.Hidden != p.Hidden || s.Layers != p.Layers || s.Vocab != p.Vocab {
			fmt.Fprintf(w, "  %s model: shapes differ (seal d %d, %d layers, vocab %d; PyTorch d %d, %d layers, vocab %d), not compared\n",
				s.Model, s.Hidden, s.Layers, s.Vocab, p.Hidden, p.Layers, p.Vocab)
			continue
		}
		name := map[string]string{"small": "small model", "1b": "1B-shaped model"}[s.Model]
		rate := func(what string, a, b float64, threads int) {
			fmt.Fprintf(w, "  %-46s %10.1f %10.1f %9d %7.2f\n", name+" "+what+", tokens/s", a, b, threads, a/b)
		}
		rate("decode batch 1", s.Decode1, p.Decode1, p.Decode1T)
		rate("decode batch 5", s.Decode5, p.Decode5, p.Decode5T)
		rate(fmt.Sprintf("LoRA training r %d", s.Rank), s.Train, p.Train, p.TrainT)
		mem := func(what string, a, b int64, threads int) {
			line := fmt.Sprintf("  %-46s %10.2f %10.2f %9d", name+" "+what+", GB", float64(a)/1e9, float64(b)/1e9, threads)
			if b > 0 {
				line += fmt.Sprintf(" %7.2f", float64(a)/float64(b))
			}
			fmt.Fprintln(w, line)
		}
		mem("peak memory decoding", s.DecodePeak, p.DecodePeak, p.Decode1T)
		mem("peak memory training", s.TrainPeak, p.TrainPeak, p.TrainT)
	}
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, " and ")
}
