package engine_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"seal/engine"
	"seal/internal/shareddata"
	"seal/models/llama/llamatest"
	"seal/models/safetensors"
	"seal/store"
)

// TestExportModelReSTEM exports a ReST-EM run's versions: the first policy version
// (one adapter on the base) as a PEFT adapter with the golden fixture's layout, the
// head (two adapters) merged; each loads back in seal with the version's fingerprint.
// The head is refused as one adapter, and nothing is ever written over.
func TestExportModelReSTEM(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	db := openDB(t, dir)
	e := engine.New(db, llamatest.Backend())
	spec := smallSpec(f)
	spec.Guard.On = false
	r, err := e.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	collect(t, r)
	vs := committed(t, db, r.ID)
	if len(vs) != 3 || vs[1].Kind != store.LedgerPolicy || vs[2].Kind != store.LedgerPolicy {
		t.Fatalf("ledger %+v, want base + 2 policy versions", vs)
	}
	ctx := context.Background()

	// One adapter on the base: a PEFT folder of that base.
	out := filepath.Join(dir, "adapter")
	x, err := e.ExportModel(ctx, r.ID, vs[1].ID, out, false)
	if err != nil {
		t.Fatal(err)
	}
	if x.Fingerprint != vs[1].Fingerprint || x.Version != vs[1].ID || x.Kind != store.LedgerPolicy {
		t.Errorf("export %+v, want version %d with fingerprint %s", x, vs[1].ID, vs[1].Fingerprint[:12])
	}
	if fp, err := e.FolderFingerprint(f.model, out, vs[1].Merged); err != nil || fp != vs[1].Fingerprint {
		t.Errorf("base + exported adapter: fingerprint %.12s (%v), version recorded %.12s", fp, err, vs[1].Fingerprint)
	}
	checkPEFTLayout(t, out, f.model)
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("exported folder: %v %v, want mode 0755 like any folder seal writes", st.Mode(), err)
	}

	// Two adapters merged one after another are not one adapter of the base.
	if _, err := e.ExportModel(ctx, r.ID, 0, filepath.Join(dir, "head-adapter"), false); err == nil || !strings.Contains(err.Error(), "--merged") {
		t.Errorf("head as one adapter: %v, want a refusal pointing to --merged", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "head-adapter")); !os.IsNotExist(err) {
		t.Errorf("a refused export left %s behind: %v", "head-adapter", err)
	}

	// The head merged: a complete model folder (an empty folder may be named, with a
	// trailing separator too).
	out = filepath.Join(dir, "merged")
	os.Mkdir(out, 0o755)
	x, err = e.ExportModel(ctx, r.ID, 0, out+string(filepath.Separator), true)
	if err != nil {
		t.Fatal(err)
	}
	if x.Version != vs[2].ID || x.Fingerprint != vs[2].Fingerprint {
		t.Errorf("merged head: version %d fingerprint %.12s, want %d %.12s", x.Version, x.Fingerprint, vs[2].ID, vs[2].Fingerprint)
	}
	checkMergedFolder(t, e, out, vs[2].Fingerprint)
	leftovers(t, dir)

	// Never overwritten: a non-empty folder and a file are refused and kept.
	for _, bad := range []string{out, filepath.Join(dir, "data.json")} {
		before, _ := os.ReadDir(filepath.Dir(bad))
		if _, err := e.ExportModel(ctx, r.ID, 0, bad, true); err == nil || !strings.Contains(err.Error(), "nothing is overwritten") {
			t.Errorf("export to %s: %v, want a refusal", bad, err)
		}
		if after, _ := os.ReadDir(filepath.Dir(bad)); len(after) != len(before) {
			t.Errorf("a refused export changed %s", filepath.Dir(bad))
		}
	}
	checkMergedFolder(t, e, out, vs[2].Fingerprint)
	if _, err := e.ExportModel(ctx, r.ID, 999, filepath.Join(dir, "x"), true); err == nil || !strings.Contains(err.Error(), "not in the version tree") {
		t.Errorf("a missing version: %v", err)
	}
	if _, err := e.ExportModel(ctx, r.ID, vs[0].ID, filepath.Join(dir, "x"), false); err == nil || !strings.Contains(err.Error(), "base model itself") {
		t.Errorf("the base as an adapter: %v", err)
	}
}

// TestExportModelContinual exports a continual run: the head (three merged steps)
// merged, and the first step's version as one adapter; both reproduce the fingerprint.
func TestExportModelContinual(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	db := openDB(t, dir)
	e := engine.New(db, llamatest.Backend())
	spec := smallSpec(f)
	spec.Mode, spec.Guard.On = "continual", false
	r, err := e.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	collect(t, r)
	vs := committed(t, db, r.ID)
	if len(vs) != 4 || vs[3].Kind != store.LedgerContinual {
		t.Fatalf("ledger %+v, want base + 3 continual steps", vs)
	}
	ctx := context.Background()
	out := filepath.Join(dir, "merged")
	if _, err := e.ExportModel(ctx, r.ID, 0, out, true); err != nil {
		t.Fatal(err)
	}
	checkMergedFolder(t, e, out, vs[3].Fingerprint)
	out = filepath.Join(dir, "step0")
	if _, err := e.ExportModel(ctx, r.ID, vs[1].ID, out, false); err != nil {
		t.Fatal(err)
	}
	if fp, err := e.FolderFingerprint(f.model, out, true); err != nil || fp != vs[1].Fingerprint {
		t.Errorf("base + exported step adapter: %.12s (%v), want %.12s", fp, err, vs[1].Fingerprint)
	}
	if _, err := e.ExportModel(ctx, r.ID, vs[3].ID, filepath.Join(dir, "x"), false); err == nil || !strings.Contains(err.Error(), "3 adapters") {
		t.Errorf("three steps as one adapter: %v", err)
	}
	leftovers(t, dir)
}

func committed(t *testing.T, db *store.DB, run int64) []store.LedgerEntry {
	t.Helper()
	all, err := db.Ledger(run)
	if err != nil {
		t.Fatal(err)
	}
	var vs []store.LedgerEntry
	for _, v := range all {
		if v.Status == store.LedgerCommitted {
			vs = append(vs, v)
		}
	}
	return vs
}

// checkMergedFolder: a Hugging Face folder with the base's tokenizer and chat
// template, which loads in seal with the version's logits.
func checkMergedFolder(t *testing.T, e *engine.Engine, dir, want string) {
	t.Helper()
	for _, n := range []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("merged export: %v", err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
	if !strings.Contains(string(b), "chat_template") {
		t.Errorf("merged export's tokenizer_config.json has no chat template: %s", b)
	}
	if fp, err := e.FolderFingerprint(dir, "", false); err != nil || fp != want {
		t.Errorf("merged export loaded back: fingerprint %.12s (%v), want %.12s", fp, err, want)
	}
}

// checkPEFTLayout compares an exported adapter with the golden PEFT fixture made by
// peft for the same base: the same tensor names with shapes [r, in] and [out, r], and
// the config fields PEFT reads.
func checkPEFTLayout(t *testing.T, dir, base string) {
	t.Helper()
	golden, err := shareddata.Golden()
	if err != nil {
		t.Fatal(err)
	}
	gdir := filepath.Join(golden, "llama32_tiny", "adapter")
	gf, err := safetensors.Open(filepath.Join(gdir, "adapter_model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer gf.Close()
	xf, err := safetensors.Open(filepath.Join(dir, "adapter_model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer xf.Close()
	gn, xn := gf.Names(), xf.Names()
	slices.Sort(gn)
	slices.Sort(xn)
	if !slices.Equal(gn, xn) {
		t.Fatalf("tensor names differ from the golden adapter's:\n got %v\nwant %v", xn, gn)
	}
	gcfg, xcfg := readJSON(t, filepath.Join(gdir, "adapter_config.json")), readJSON(t, filepath.Join(dir, "adapter_config.json"))
	r := int(xcfg["r"].(float64))
	for _, n := range gn {
		g, _ := gf.Info(n)
		x, _ := xf.Info(n)
		want := slices.Clone(g.Shape)
		if strings.Contains(n, "lora_A") {
			want[0] = r
		} else {
			want[1] = r
		}
		if !slices.Equal(x.Shape, want) {
			t.Errorf("%s: shape %v, want %v", n, x.Shape, want)
		}
	}
	for _, k := range []string{"peft_type", "task_type", "bias", "fan_in_fan_out", "use_dora", "use_rslora", "modules_to_save", "layers_to_transform", "inference_mode"} {
		if g, x := gcfg[k], xcfg[k]; !jsonEqual(g, x) {
			t.Errorf("adapter_config.json %s = %v, the golden fixture has %v", k, x, g)
		}
	}
	gt, xt := strs(gcfg["target_modules"]), strs(xcfg["target_modules"])
	if !slices.Equal(gt, xt) {
		t.Errorf("target_modules %v, golden %v", xt, gt)
	}
	if abs, _ := filepath.Abs(base); xcfg["base_model_name_or_path"] != abs {
		t.Errorf("base_model_name_or_path %v, want the run's model folder %s", xcfg["base_model_name_or_path"], abs)
	}
	if _, ok := xcfg["lora_alpha"].(float64); !ok {
		t.Errorf("lora_alpha %v", xcfg["lora_alpha"])
	}
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func strs(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	slices.Sort(out)
	return out
}

// leftovers fails when an export left a temporary folder beside its output.
func leftovers(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary folder %s left behind", e.Name())
		}
	}
}
