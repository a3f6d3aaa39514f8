package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"seal/models/llama"
	"seal/models/lora"
	"seal/models/tokenizer"
	"seal/store/termsafe"
)

func cmdInspect(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("inspect", stderr)
	weights := fs.String("weights", "", "weight file(s) to read instead of model.safetensors or its index, comma-separated (e.g. model.bf16.safetensors)")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	code := 0
	for i, dir := range fs.Args() {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := inspect(stdout, dir, *weights); err != nil {
			fmt.Fprintf(stderr, "seal inspect: %v\n", err)
			code = 1
		}
	}
	return code
}

// inspect prints what a folder holds: model, adapter and tokenizer parts, each if present.
func inspect(w io.Writer, dir, weights string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	has := func(name string) bool { _, err := os.Stat(filepath.Join(dir, name)); return err == nil }
	found := false
	fmt.Fprintf(w, "%s\n", dir)
	if has("config.json") {
		found = true
		if err := inspectModel(w, dir, weights); err != nil {
			return err
		}
	}
	if has("adapter_config.json") {
		found = true
		if err := inspectAdapter(w, dir); err != nil {
			return err
		}
	}
	if has("tokenizer.json") || has("tokenizer_config.json") {
		found = true
		if err := inspectTokenizer(w, dir); err != nil {
			return err
		}
	} else if has("config.json") {
		fmt.Fprintf(w, "  tokenizer      none (no tokenizer.json)\n")
	}
	if !found {
		return fmt.Errorf("%s holds no config.json, adapter_config.json or tokenizer.json", dir)
	}
	return nil
}

func inspectModel(w io.Writer, dir, weights string) error {
	var files []string
	if weights != "" {
		files = strings.Split(weights, ",")
	}
	ck, err := llama.OpenCheckpoint(dir, files...)
	if err != nil {
		return err
	}
	defer ck.Close()
	c := ck.Config
	tied := ""
	if c.TieWordEmbeddings {
		tied = ", tied embeddings"
	}
	fmt.Fprintf(w, "  architecture   %s (model_type %q)\n", c.Arch, c.ModelType)
	fmt.Fprintf(w, "  shape          %d layers, hidden %d, intermediate %d, heads %d (kv %d), head_dim %d, vocab %d\n",
		c.NumLayers, c.HiddenSize, c.IntermediateSize, c.NumHeads, c.NumKVHeads, c.HeadDim, c.VocabSize)
	fmt.Fprintf(w, "  parameters     %s%s\n", humanCount(c.NumParams()), tied)
	rope := fmt.Sprintf("theta %g", c.RopeTheta)
	if c.RopeScaling.Type == "llama3" {
		rope += fmt.Sprintf(", llama3 scaling x%g (original context %d)", c.RopeScaling.Factor, c.RopeScaling.OriginalMaxPositionEmbeddings)
	}
	fmt.Fprintf(w, "  rope           %s; context %d; rms_norm_eps %g\n", rope, c.MaxPositions, c.RMSNormEps)
	var extras []string
	if c.AttentionBias {
		extras = append(extras, "q/k/v bias")
	}
	if c.OutputBias {
		extras = append(extras, "o bias")
	}
	if c.MLPBias {
		extras = append(extras, "mlp bias")
	}
	if c.QKNorm {
		extras = append(extras, "q/k norm")
	}
	if len(extras) > 0 {
		fmt.Fprintf(w, "  extras         %s\n", strings.Join(extras, ", "))
	}
	var names []string
	for _, f := range ck.Weights.Files() {
		names = append(names, filepath.Base(f))
	}
	fmt.Fprintf(w, "  weights        %s: %d tensors, %s, %s\n", strings.Join(names, ", "), len(ck.Weights.Names()), dtypeSummary(ck.DTypes()), humanBytes(ck.WeightBytes()))
	fmt.Fprintf(w, "  special ids    bos %s, eos %s, pad %s\n", idOrNone(c.BOSTokenID), idsOrNone(c.EOSTokenIDs), idOrNone(c.PadTokenID))
	return nil
}

func inspectAdapter(w io.Writer, dir string) error {
	a, err := lora.Load(dir)
	if err != nil {
		return err
	}
	c := a.Config
	scale := "alpha/r"
	if c.UseRSLoRA {
		scale = "alpha/sqrt(r) (rsLoRA)"
	}
	fmt.Fprintf(w, "  adapter        PEFT LoRA, r %d, alpha %g, scale %s = %g, dropout %g\n", c.Rank, c.Alpha, scale, c.Scale(""), c.Dropout)
	fmt.Fprintf(w, "  targets        %s (%d modules, %s parameters)\n", strings.Join(a.Targets(), ", "), len(a.Modules), humanCount(int64(a.NumParams())))
	if len(c.RankPattern)+len(c.AlphaPattern) > 0 {
		fmt.Fprintf(w, "  patterns       %d rank_pattern, %d alpha_pattern entries\n", len(c.RankPattern), len(c.AlphaPattern))
	}
	if c.BaseModel != "" {
		fmt.Fprintf(w, "  base model     %s\n", termsafe.Line(c.BaseModel)) // from the folder's adapter_config.json
	}
	return nil
}

func inspectTokenizer(w io.Writer, dir string) error {
	path := filepath.Join(dir, "tokenizer.json")
	if _, err := os.Stat(path); err == nil {
		tok, err := tokenizer.Load(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  tokenizer      %s\n", tok.Summary())
	}
	cfg, err := tokenizer.LoadConfig(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  special tokens bos %s, eos %s, pad %s\n", quoteOrNone(cfg.BOSToken), quoteOrNone(cfg.EOSToken), quoteOrNone(cfg.PadToken))
	if _, err := cfg.Template(); errors.Is(err, tokenizer.ErrNoChatTemplate) {
		fmt.Fprintf(w, "  chat template  none\n")
	} else if err != nil {
		return err
	} else {
		fmt.Fprintf(w, "  chat template  present (%s, %d characters)\n", filepath.Base(cfg.ChatTemplateFile), len(cfg.ChatTemplate))
	}
	return nil
}

func dtypeSummary(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s x%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func humanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f B", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2f M", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f K", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func idOrNone(id int) string {
	if id < 0 {
		return "none"
	}
	return fmt.Sprint(id)
}

func idsOrNone(ids []int) string {
	if len(ids) == 0 {
		return "none"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, "/")
}

func quoteOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return fmt.Sprintf("%q", s)
}
