package stricttest

import (
	"strings"
	"testing"

	"seal/models/tensor"
	"seal/models/tensor/backendtest"
)

func TestConformance(t *testing.T) { backendtest.Run(t, New()) }

// TestHostCannotReadItsTensors: what the backend hands out carries no host numbers,
// views included, and comes back only through Download.
func TestHostCannotReadItsTensors(t *testing.T) {
	be := New()
	x := be.UploadShared(tensor.FromF32([]float32{1, 2, 3, 4, 5, 6}, 3, 2))
	for _, v := range []*tensor.Tensor{x, x.RowRange(1, 3), x.View(6), be.Alloc(tensor.BF16, 4)} {
		if v.F32 != nil || v.BF16 != nil || v.OnHost() {
			t.Fatalf("%v: the host sees numbers", v.Shape)
		}
	}
	if got := tensor.ToHost(x.RowRange(1, 3)).F32; len(got) != 4 || got[0] != 3 || got[3] != 6 {
		t.Fatalf("ToHost of rows 1-2: %v", got)
	}
}

// TestBypassesPanic: each way model code could go around the backend is caught at the
// next op, with a message naming the op and the operand.
func TestBypassesPanic(t *testing.T) {
	be := New()
	other := New()
	w := be.Alloc(tensor.F32, 2, 2)
	freed := be.Alloc(tensor.F32, 2, 2)
	be.Free(freed)
	written := be.Alloc(tensor.F32, 2, 2)
	written.F32 = make([]float32, 4)
	outside := *w
	outside.Off = 2
	for _, c := range []struct {
		name string
		b    *tensor.Tensor
		want string
	}{
		{"host tensor", tensor.New(2, 2), "b [2 2] is a host tensor"},
		{"another backend's", other.Alloc(tensor.F32, 2, 2), "belongs to backend strict"},
		{"freed", freed, "was freed"},
		{"given host numbers", written, "was given host numbers"},
		{"view outside", &outside, "outside its allocation"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, "strict: MatMul: ") || !strings.Contains(s, c.want) {
					t.Fatalf("panic %v, want MatMul and %q", r, c.want)
				}
			}()
			be.MatMul(be.Alloc(tensor.F32, 2, 2), w, c.b, false, true, 1, 0)
		})
	}
}
