package llama_test

import (
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"seal/models/cpu"
	"seal/models/llama"
	"seal/models/lora"
	"seal/models/train"
)

// TestLoRATraining1BPeakMemory measures what `seal bench` measures for the
// Llama-3.2-1B-shaped model's LoRA training (r32 on all seven projections, 4x128 tokens,
// AdamW), alone: the random bf16 model saved and loaded back memory-mapped, the peak
// resident size (VmHWM) above what the process held before loading. It holds the peak to
// issue 16's target of 3.5 GB. It writes 2.5 GB to a temporary folder and takes minutes,
// so it runs only with SEAL_MEASURE_1B=1:
//
//	SEAL_MEASURE_1B=1 go test ./models/llama -run TestLoRATraining1BPeakMemory -v
func TestLoRATraining1BPeakMemory(t *testing.T) {
	if os.Getenv("SEAL_MEASURE_1B") == "" {
		t.Skip("set SEAL_MEASURE_1B=1 to measure the 1B model's LoRA training peak (minutes, 2.5 GB on disk)")
	}
	c := &llama.Config{Arch: llama.ArchLlama, VocabSize: 128256, HiddenSize: 2048, IntermediateSize: 8192, NumLayers: 16,
		NumHeads: 32, NumKVHeads: 8, HeadDim: 64, MaxPositions: 131072, RMSNormEps: 1e-5, RopeTheta: 500000,
		RopeScaling:       llama.RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192},
		TieWordEmbeddings: true}
	be := cpu.New()
	dir := t.TempDir()
	if err := llama.NewRandom(c, be, true, 1).Save(dir); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	base := procStatus(t, "VmRSS:")
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets VmHWM to the current size
	ck, err := llama.OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	m, err := llama.Load(ck, be, llama.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := lora.New(&lora.Config{Rank: 32, Alpha: 64, TargetModules: llama.Projections}, c.NumLayers, llama.Projections, c.ProjectionShape, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetAdapter(a); err != nil {
		t.Fatal(err)
	}
	params, err := m.TrainLoRA()
	if err != nil {
		t.Fatal(err)
	}
	opt := train.NewAdamW(be, params, train.DefaultAdamW(), nil)
	seqs, T := 4, 128
	rng := rand.New(rand.NewPCG(5, 5))
	ids, targets := make([]int32, seqs*T), make([]int32, seqs*T)
	for i := range ids {
		ids[i], targets[i] = int32(rng.IntN(c.VocabSize)), int32(rng.IntN(c.VocabSize))
	}
	step := func() {
		opt.ZeroGrad()
		if _, _, err := m.Loss(ids, targets, seqs, T, true, 1); err != nil {
			t.Fatal(err)
		}
		opt.Step()
	}
	step() // the first step grows the buffers; the timed ones are the steady state
	const steps = 2
	start := time.Now()
	for range steps {
		step()
	}
	elapsed := time.Since(start)
	peak := float64(procStatus(t, "VmHWM:")-base) / 1e9
	t.Logf("1B LoRA training r32, %dx%d: peak %.2f GB above the %.2f GB held before loading (weights %.2f GB); %.1f tokens/s over %d steps after the first",
		seqs, T, peak, float64(base)/1e9, float64(m.WeightBytes())/1e9, float64(steps*seqs*T)/elapsed.Seconds(), steps)
	if peak > 3.5 {
		t.Errorf("peak %.2f GB, issue 16's target is at most 3.5 GB", peak)
	}
}

// procStatus reads a size field of /proc/self/status, in bytes.
func procStatus(t *testing.T, name string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == name {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Skipf("no %s in /proc/self/status", name)
	return 0
}
