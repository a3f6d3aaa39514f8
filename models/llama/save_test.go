package llama_test

import (
	"reflect"
	"testing"

	"seal/models/llama"
)

func TestSaveRoundTrip(t *testing.T) {
	for _, f := range fixtures(t) {
		for _, file := range []string{"model.safetensors", "model.bf16.safetensors"} {
			t.Run(f.name()+"/"+file, func(t *testing.T) {
				ids, shape := f.ints(t, "input_ids")
				m := f.load(t, file)
				want, _ := m.Forward(ids, shape[0], shape[1], nil, nil)
				dir := t.TempDir()
				if err := m.Save(dir); err != nil {
					t.Fatal(err)
				}
				ck, err := llama.OpenCheckpoint(dir)
				if err != nil {
					t.Fatal(err)
				}
				defer ck.Close()
				if !reflect.DeepEqual(ck.Config, m.Config) {
					t.Errorf("config changed:\n got %+v\nwant %+v", ck.Config, m.Config)
				}
				again, err := llama.Load(ck, f.be, llama.LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				got, _ := again.Forward(ids, shape[0], shape[1], nil, nil)
				if d, at := maxAbsDiff(got.F32, want.F32); d != 0 {
					t.Fatalf("logits after save and load differ by %g at %d", d, at)
				}
			})
		}
	}
}
