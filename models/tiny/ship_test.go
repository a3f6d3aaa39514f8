package tiny

import (
	"math"
	"path/filepath"
	"testing"

	"seal/models/llama"
	"seal/models/llama/llamatest"
)

func TestShipRoundsMatricesToBF16(t *testing.T) {
	src, err := llamatest.Folder(t.TempDir(), 5)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "shipped")
	if err := Ship(src, dst); err != nil {
		t.Fatal(err)
	}
	load := func(dir string) (*llama.Model, *llama.Checkpoint) {
		ck, err := llama.OpenCheckpoint(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ck.Close() })
		m, err := llama.Load(ck, llamatest.Backend(), llama.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return m, ck
	}
	a, _ := load(src)
	b, ck := load(dst)
	for _, n := range ck.Weights.Names() {
		info, _ := ck.Weights.Info(n)
		if want := map[bool]string{true: "BF16", false: "F32"}[len(info.Shape) == 2]; string(info.DType) != want {
			t.Errorf("%s stored as %s, want %s", n, info.DType, want)
		}
	}
	ids := []int32{3, 70, 300, 9, 257}
	la, _ := a.Forward(ids, 1, len(ids), nil, nil)
	lb, _ := b.Forward(ids, 1, len(ids), nil, nil)
	worst := 0.0
	for i := range la.F32 {
		worst = math.Max(worst, math.Abs(float64(la.F32[i]-lb.F32[i])))
	}
	// bf16 keeps 8 bits of mantissa: logits of this random model move by well under 1e-2.
	if worst > 1e-2 || worst == 0 {
		t.Errorf("shipped logits differ by %g", worst)
	}
	if ck.Config.TorchDType != "bfloat16" {
		t.Errorf("config says %s", ck.Config.TorchDType)
	}
}
