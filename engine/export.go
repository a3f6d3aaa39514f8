package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"seal/models/lora"
	"seal/store"
)

// Exporting a model version out of seal, into the formats the next tools read: a PEFT
// adapter folder (adapter_config.json + adapter_model.safetensors, for PEFT on the
// base) or, merged, a complete Hugging Face model folder. Every export is loaded back
// before it is published, and must give the version's recorded logits fingerprint.

// Exported is what ExportModel wrote.
type Exported struct {
	Run         int64  `json:"run"`
	Version     int64  `json:"version"`
	Kind        string `json:"kind"` // the ledger kind of the version: base, policy, continual
	Dir         string `json:"dir"`
	Merged      bool   `json:"merged"`
	Base        string `json:"base"`        // the model folder the version is built on
	Fingerprint string `json:"fingerprint"` // the exported folder's, equal to the version's
}

// tokenizerFiles are the files of a model folder, besides config and weights, that a
// merged export copies when the base has them: what transformers' AutoTokenizer and
// generation read (tokenizer.json is required).
var tokenizerFiles = []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
	"chat_template.jinja", "chat_template.json", "generation_config.json", "vocab.json", "merges.txt", "tokenizer.model"}

// ExportModel writes version (0: the run's head) of run's family to out, which must
// not exist or be an empty folder: nothing is overwritten. Unmerged, the version must
// be exactly one adapter on the base, which is then a PEFT adapter of that base; a
// version of several adapters merged one after another is no single LoRA of the base
// (ranks add up and each was trained on the weights before it), so it is refused with
// a pointer to merged. The folder is written beside out under a temporary name,
// loaded back and checked against the version's fingerprint, then renamed into place.
func (e *Engine) ExportModel(ctx context.Context, run, version int64, out string, merged bool) (Exported, error) {
	if out != "" {
		out = filepath.Clean(out) // "dir/" would put the temporary folder inside dir
	}
	x := Exported{Run: run, Merged: merged, Dir: out}
	_, spec, err := e.storedSpec(run)
	if err != nil {
		return x, err
	}
	x.Base = spec.Model
	entry, err := e.exportedVersion(run, version)
	if err != nil {
		return x, err
	}
	x.Version, x.Kind = entry.ID, entry.Kind
	if err := checkOut(out); err != nil {
		return x, err
	}
	chain, err := e.DB.VersionChain(entry.ID)
	if err != nil {
		return x, err
	}
	if !merged {
		if err := adapterOnly(entry.ID, chain); err != nil {
			return x, err
		}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-")
	if err != nil {
		return x, fmt.Errorf("--out %s: %w", out, err)
	}
	defer os.RemoveAll(tmp) // gone once renamed; removes what a failure left
	// MkdirTemp's 0700 is not a model folder's mode.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return x, err
	}
	want := entry.Fingerprint
	if merged {
		var fp string
		if fp, err = e.writeMerged(ctx, spec.Model, entry.ID, tmp); fp != "" {
			want = fp // an attached adapter was folded in: the weights are now those
		}
	} else {
		err = writeAdapter(chain[1], spec.Model, tmp)
	}
	if err != nil {
		return x, err
	}
	if x.Fingerprint, err = e.exportFingerprint(spec.Model, tmp, merged, chain); err != nil {
		return x, fmt.Errorf("export check: %w", err)
	}
	if want != "" && x.Fingerprint != want {
		return x, fmt.Errorf("export check: the exported folder gives logits fingerprint %s, version %d computes %s; nothing written to %s",
			short(x.Fingerprint), entry.ID, short(want), out)
	}
	if err := publish(tmp, out); err != nil {
		return x, err
	}
	return x, nil
}

// exportedVersion is the committed ledger entry to export: version, which must be in
// run's version tree, or the run's head.
func (e *Engine) exportedVersion(run, version int64) (store.LedgerEntry, error) {
	if version == 0 {
		head, ok, err := e.DB.HeadVersion(run)
		if err != nil {
			return head, err
		}
		if !ok {
			return head, fmt.Errorf("run %d has no committed model version (see seal versions %d)", run, run)
		}
		return head, nil
	}
	tree, err := e.DB.VersionTree(run)
	if err != nil {
		return store.LedgerEntry{}, err
	}
	i := slices.IndexFunc(tree, func(v store.LedgerEntry) bool { return v.ID == version })
	switch {
	case i < 0:
		return store.LedgerEntry{}, fmt.Errorf("version %d is not in the version tree of run %d (see seal versions %d)", version, run, run)
	case tree[i].Status != store.LedgerCommitted:
		return store.LedgerEntry{}, fmt.Errorf("version %d was %s, never applied: only committed entries are versions", version, tree[i].Status)
	}
	return tree[i], nil
}

// adapterOnly refuses a version that is not one adapter on the base.
func adapterOnly(version int64, chain []store.LedgerEntry) error {
	switch n := len(chain) - 1; {
	case n == 0:
		return fmt.Errorf("version %d is the base model itself, with no adapter to export; use --merged for a copy of it", version)
	case n > 1:
		return fmt.Errorf("version %d is %d adapters applied one after another; no single PEFT adapter on the base holds it exactly: export it with --merged", version, n)
	}
	return nil
}

// checkOut refuses an output path that holds anything, and one whose parent is missing.
func checkOut(out string) error {
	if out == "" {
		return errors.New("--out: no output folder given")
	}
	f, err := os.Open(out)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("--out %s: %w", out, err)
	default:
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("--out %s: %w", out, err)
		}
		if !st.IsDir() {
			return fmt.Errorf("--out %s: exists and is not a folder; nothing is overwritten", out)
		}
		if _, err := f.Readdirnames(1); err != io.EOF {
			return fmt.Errorf("--out %s: the folder is not empty; nothing is overwritten", out)
		}
	}
	if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
		return fmt.Errorf("--out %s: its parent folder %s does not exist", out, filepath.Dir(out))
	}
	return nil
}

// publish renames the finished folder into place; an empty folder at out (allowed by
// checkOut) is removed first, and one that filled meanwhile is kept.
func publish(tmp, out string) error {
	if err := os.Remove(out); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	return nil
}

// writeAdapter writes the version's one adapter, checked by hash, as a PEFT folder
// whose base_model_name_or_path names the run's model folder.
func writeAdapter(e store.LedgerEntry, base, dir string) error {
	a, err := loadCheckedAdapter(e.AdapterPath, e.AdapterHash)
	if err != nil {
		return fmt.Errorf("version %d: %w", e.ID, err)
	}
	if abs, err := filepath.Abs(base); err == nil {
		base = abs
	}
	a.Config.BaseModel = base
	return a.Save(dir)
}

// writeMerged rebuilds the version from the ledger (checked against its fingerprint)
// and writes the model folder with the base's tokenizer files. An adapter the version
// keeps attached (policy.merge off) is folded into the weights first, which moves the
// logits by rounding; folded then returns the merged weights' fingerprint, which the
// written folder must give instead of the version's.
func (e *Engine) writeMerged(ctx context.Context, modelDir string, version int64, dir string) (folded string, err error) {
	x, err := e.ledgerRunner(ctx, modelDir)
	if err != nil {
		return "", err
	}
	defer x.lm.close()
	if err := x.rebuild(version); err != nil {
		return "", err
	}
	if x.lm.model.Adapter() != nil {
		if err := x.lm.model.MergeAdapter(); err != nil {
			return "", err
		}
		if folded, err = x.fingerprint(); err != nil {
			return "", err
		}
	}
	if err := x.lm.model.Save(dir); err != nil {
		return "", err
	}
	return folded, copyTokenizerFiles(modelDir, dir)
}

func copyTokenizerFiles(from, to string) error {
	for _, n := range tokenizerFiles {
		b, err := os.ReadFile(filepath.Join(from, n))
		if errors.Is(err, os.ErrNotExist) && n != "tokenizer.json" {
			continue
		}
		if err != nil {
			return fmt.Errorf("model %s: %w", from, err)
		}
		if err := os.WriteFile(filepath.Join(to, n), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// exportFingerprint loads the exported folder back as a user would (the merged model
// alone, or the base with the adapter applied as the ledger applied it) and returns
// its logits fingerprint.
func (e *Engine) exportFingerprint(modelDir, dir string, merged bool, chain []store.LedgerEntry) (string, error) {
	if merged {
		return e.FolderFingerprint(dir, "", false)
	}
	return e.FolderFingerprint(modelDir, dir, chain[1].Merged)
}

// FolderFingerprint loads a model folder, with a PEFT adapter folder applied when
// adapter is not empty (merged into the weights, or attached), and returns the logits
// fingerprint of the fixed input that a version's fingerprint hashes.
func (e *Engine) FolderFingerprint(modelDir, adapter string, merge bool) (string, error) {
	l, err := loadLM(modelDir, e.Backend)
	if err != nil {
		return "", err
	}
	defer l.close()
	if adapter != "" {
		a, err := lora.Load(adapter)
		if err != nil {
			return "", err
		}
		if err := l.model.SetAdapter(a); err != nil {
			return "", err
		}
		if merge {
			if err := l.model.MergeAdapter(); err != nil {
				return "", err
			}
		}
	}
	ids := l.fingerprintIDs()
	out, err := l.model.Forward(ids, 1, len(ids), nil, nil)
	if err != nil {
		return "", err
	}
	return FingerprintLogits(out.F32), nil
}

// ExportedLine says in one line what an export wrote, for the CLI and the version tree.
func ExportedLine(x Exported) string {
	what := "a PEFT adapter for " + x.Base
	if x.Merged {
		what = "a Hugging Face model folder"
	}
	return fmt.Sprintf("run %d version v%d (%s) written to %s as %s; logits fingerprint %s checked", x.Run, x.Version, x.Kind, x.Dir, what, short(x.Fingerprint))
}
