package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// A run's settings have one set of names: the flags of `seal run`. A settings file
// (`seal run --config`, the workbench's presets) uses the same names as keys, and every
// way of starting a run takes one path: DefaultSpec, then the preset the run calls for
// (ARCSpec, EmbeddedSpec) for each setting not given, then the file, then the flags.

// setting is one flag-named run setting: where it lives in a RunSpec (ptr gives *int,
// *float64, *float32, *string, *bool, *uint64 or *[]string) and the key older settings
// files used for it (the RunSpec field's name, "inner.rank" for a field of a table).
type setting struct {
	name, old string
	ptr       func(*RunSpec) any
}

var settings = []setting{
	{"name", "", func(s *RunSpec) any { return &s.Name }},
	{"domain", "", func(s *RunSpec) any { return &s.Domain }},
	{"mode", "", func(s *RunSpec) any { return &s.Mode }},
	{"model", "", func(s *RunSpec) any { return &s.Model }},
	{"data", "", func(s *RunSpec) any { return &s.Data }},
	{"solutions", "", func(s *RunSpec) any { return &s.Solutions }},
	{"arc-vote", "arc_vote", func(s *RunSpec) any { return &s.ARCVote }},
	{"offset", "", func(s *RunSpec) any { return &s.Offset }},
	{"passages", "tasks", func(s *RunSpec) any { return &s.Tasks }},
	{"rl-data", "rl_data", func(s *RunSpec) any { return &s.RLData }},
	{"rl-passages", "rl_passages", func(s *RunSpec) any { return &s.RLPassages }},
	{"style", "", func(s *RunSpec) any { return &s.Style }},
	{"k", "", func(s *RunSpec) any { return &s.K }},
	{"rounds", "", func(s *RunSpec) any { return &s.Rounds }},
	{"repeats", "", func(s *RunSpec) any { return &s.Repeats }},
	{"filter", "", func(s *RunSpec) any { return &s.Filter }},
	{"min-grounding", "min_grounding", func(s *RunSpec) any { return &s.MinGrounding }},
	{"temperature", "", func(s *RunSpec) any { return &s.Temp }},
	{"top-p", "top_p", func(s *RunSpec) any { return &s.TopP }},
	{"edit-tokens", "edit_tokens", func(s *RunSpec) any { return &s.EditTokens }},
	{"qa-tokens", "qa_tokens", func(s *RunSpec) any { return &s.QATokens }},
	{"baselines", "", func(s *RunSpec) any { return &s.Baselines }},
	{"review", "review_gate", func(s *RunSpec) any { return &s.ReviewGate }},
	{"guard", "guard.on", func(s *RunSpec) any { return &s.Guard.On }},
	{"guard-probes", "guard.probes", func(s *RunSpec) any { return &s.Guard.Probes }},
	{"guard-margin", "guard.margin", func(s *RunSpec) any { return &s.Guard.Margin }},
	{"seed", "", func(s *RunSpec) any { return &s.Seed }},
	{"lora-rank", "inner.rank", func(s *RunSpec) any { return &s.Inner.Rank }},
	{"lora-alpha", "inner.alpha", func(s *RunSpec) any { return &s.Inner.Alpha }},
	{"lr", "inner.lr", func(s *RunSpec) any { return &s.Inner.LR }},
	{"epochs", "inner.epochs", func(s *RunSpec) any { return &s.Inner.Epochs }},
	{"batch", "inner.batch", func(s *RunSpec) any { return &s.Inner.Batch }},
	{"targets", "inner.targets", func(s *RunSpec) any { return &s.Inner.Targets }},
	{"grader", "", func(s *RunSpec) any { return &s.Grader }},
	{"grader-url", "grader_url", func(s *RunSpec) any { return &s.GraderURL }},
	{"grader-model", "grader_model", func(s *RunSpec) any { return &s.GraderName }},
	{"teacher", "", func(s *RunSpec) any { return &s.Teacher }},
	{"teacher-url", "teacher_url", func(s *RunSpec) any { return &s.TeacherURL }},
	{"teacher-model", "teacher_model", func(s *RunSpec) any { return &s.TeacherModel }},
	{"teacher-dir", "teacher_dir", func(s *RunSpec) any { return &s.TeacherDir }},
}

// fileOnly are the settings without a flag, by their key in a settings file.
var fileOnly = map[string]func(*RunSpec) any{
	"arc_examples":     func(s *RunSpec) any { return &s.ARCExamples },
	"split_newlines":   func(s *RunSpec) any { return &s.Split },
	"from_version":     func(s *RunSpec) any { return &s.FromVersion },
	"policy":           func(s *RunSpec) any { return &s.Policy },
	"inner.dropout":    func(s *RunSpec) any { return &s.Inner.Dropout },
	"inner.merge":      func(s *RunSpec) any { return &s.Inner.Merge },
	"guard.probe_data": func(s *RunSpec) any { return &s.Guard.ProbeData },
	"guard.z":          func(s *RunSpec) any { return &s.Guard.Z },
	"guard.confident":  func(s *RunSpec) any { return &s.Guard.Confident },
	"guard.max_flips":  func(s *RunSpec) any { return &s.Guard.MaxFlips },
	"guard.rules":      func(s *RunSpec) any { return &s.Guard.Rules },
}

// lookup finds the setting a settings-file key (a flag name, or an older key) names.
func lookup(key string) (setting, bool) {
	for _, st := range settings {
		if key == st.name || key == st.old && st.old != "" {
			return st, true
		}
	}
	return setting{}, false
}

// SettingNames lists the flag names, which are the keys of a settings file.
func SettingNames() []string {
	out := make([]string, len(settings))
	for i, st := range settings {
		out[i] = st.name
	}
	return out
}

// ReadSettings reads a TOML settings file over spec and returns what it gave: the flag
// names of the settings it set, and the keys of file-only settings ("inner.dropout").
// An unknown key, a key whose value has the wrong type, and two keys for one setting
// ("tasks" and "passages") are errors naming the key and the file.
func ReadSettings(path string, spec *RunSpec) (map[string]bool, error) {
	var top map[string]toml.Primitive
	md, err := toml.DecodeFile(path, &top)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := settingsReader{path: path, md: md, spec: spec, given: map[string]bool{}, from: map[string]string{}}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := r.key(k, top[k]); err != nil {
			return nil, err
		}
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown key %q", path, und[0].String())
	}
	return r.given, nil
}

type settingsReader struct {
	path  string
	md    toml.MetaData
	spec  *RunSpec
	given map[string]bool
	from  map[string]string // setting name -> the key that set it
}

// key reads one top-level key: a setting, or one of the tables older files have.
func (r *settingsReader) key(k string, v toml.Primitive) error {
	if k == "guard" { // `guard = true` is the flag; [guard] the older table
		var on bool
		if r.md.PrimitiveDecode(v, &on) == nil {
			return r.set("guard", k, v)
		}
	}
	if k == "inner" || k == "guard" {
		var table map[string]toml.Primitive
		if err := r.md.PrimitiveDecode(v, &table); err != nil {
			return fmt.Errorf("%s: key %q: want a table: %v", r.path, k, err)
		}
		subs := make([]string, 0, len(table))
		for sub := range table {
			subs = append(subs, sub)
		}
		slices.Sort(subs)
		for _, sub := range subs {
			if err := r.key(k+"."+sub, table[sub]); err != nil {
				return err
			}
		}
		return nil
	}
	if st, ok := lookup(k); ok {
		return r.set(st.name, k, v)
	}
	if ptr, ok := fileOnly[k]; ok {
		if err := r.md.PrimitiveDecode(v, ptr(r.spec)); err != nil {
			return fmt.Errorf("%s: key %q: %v", r.path, k, err)
		}
		r.given[k] = true
		return nil
	}
	return fmt.Errorf("%s: unknown key %q (the keys are the flags of seal run: %s)", r.path, k, strings.Join(SettingNames(), ", "))
}

// set decodes a flag-named setting given under key k.
func (r *settingsReader) set(name, k string, v toml.Primitive) error {
	if prev, ok := r.from[name]; ok {
		return fmt.Errorf("%s: keys %q and %q both set %s; keep one", r.path, prev, k, name)
	}
	r.from[name] = k
	st, _ := lookup(name)
	ptr := st.ptr(r.spec)
	err := r.md.PrimitiveDecode(v, ptr)
	if err != nil && name == "targets" { // as on the command line: "q_proj,v_proj"
		var list string
		if r.md.PrimitiveDecode(v, &list) == nil {
			*ptr.(*[]string), err = strings.Split(list, ","), nil
		}
	}
	if err != nil {
		return fmt.Errorf("%s: key %q: %v", r.path, k, unwrapTOML(err))
	}
	r.given[name] = true
	return nil
}

// unwrapTOML drops the library's prefix when there is a plainer cause.
func unwrapTOML(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// SettingsFile is spec as a settings file holds it: flag-named keys for the settings
// that have a flag, the older tables for the rest (a [guard] table carries the guard's
// three flag settings too, as on, probes and margin, since "guard" cannot be both).
func SettingsFile(spec RunSpec) map[string]any {
	out := map[string]any{}
	for _, st := range settings {
		if strings.HasPrefix(st.old, "guard.") {
			continue
		}
		out[st.name] = deref(st.ptr(&spec))
	}
	out["arc_examples"], out["split_newlines"], out["from_version"] = spec.ARCExamples, spec.Split, spec.FromVersion
	out["inner"] = map[string]any{"dropout": spec.Inner.Dropout, "merge": spec.Inner.Merge}
	out["policy"] = spec.Policy
	g := spec.Guard
	out["guard"] = map[string]any{"on": g.On, "probes": g.Probes, "margin": g.Margin, "probe_data": g.ProbeData,
		"z": g.Z, "confident": g.Confident, "max_flips": g.MaxFlips, "rules": g.rules()}
	return out
}

func deref(p any) any {
	switch v := p.(type) {
	case *string:
		return *v
	case *int:
		return *v
	case *bool:
		return *v
	case *float64:
		return *v
	case *float32:
		return *v
	case *uint64:
		return *v
	case *[]string:
		return *v
	}
	panic(fmt.Sprintf("setting of type %T", p))
}

// Presets: the settings each preset sets, by flag name.
var (
	arcPresetNames = []string{"passages", "rounds", "repeats", "filter", "temperature", "top-p", "edit-tokens", "lora-rank", "lora-alpha", "targets", "arc-vote"}
	embeddedPreset = []string{"lora-rank", "lora-alpha", "targets", "temperature", "edit-tokens", "qa-tokens", "lr", "epochs", "batch"}
)

// ApplyPreset gives every setting of the run's preset that was not given (given holds
// flag names and file-only keys) the preset's value: ARCSpec for the arc domain, else
// EmbeddedSpec when the run uses the embedded model (no model folder).
func ApplyPreset(spec *RunSpec, given map[string]bool) {
	if p := DomainInfoOf(spec.Domain).Preset; p != nil {
		p(spec, given)
	} else if spec.Model == "" {
		applyPreset(spec, EmbeddedSpec(), embeddedPreset, given)
	}
}

// SwitchDomain is spec moved to another domain, as `seal run --domain` would build it
// with the same given settings: every setting a preset may change (ARC's or the
// embedded model's) that was not given goes back to DefaultSpec's value, and then
// the new domain's preset applies. The launcher calls it when the domain changes.
func SwitchDomain(spec RunSpec, domain string, given map[string]bool) RunSpec {
	def := DefaultSpec()
	for _, names := range [][]string{arcPresetNames, embeddedPreset, {"style"}} {
		for _, n := range names {
			if !given[n] {
				st, _ := lookup(n)
				copySetting(st.ptr(&spec), st.ptr(&def))
			}
		}
	}
	if !given["arc_examples"] {
		spec.ARCExamples = def.ARCExamples
	}
	spec.Domain = domain
	ApplyPreset(&spec, given)
	return spec
}

// arcPreset is the ARC domain's preset (DomainInfo.Preset): ARCSpec, or
// EmbeddedARCSpec when the run uses the embedded model (no model folder).
func arcPreset(spec *RunSpec, given map[string]bool) {
	preset := ARCSpec()
	if spec.Model == "" {
		preset = EmbeddedARCSpec()
	}
	spec.Style = "" // ARC self-edits have no style
	if !given["batch"] {
		spec.Inner.Batch = preset.Inner.Batch
	}
	if !given["arc_examples"] {
		spec.ARCExamples = preset.ARCExamples
	}
	applyPreset(spec, preset, arcPresetNames, given)
}

// applyPreset copies the named settings that were not given from preset.
func applyPreset(spec *RunSpec, preset RunSpec, names []string, given map[string]bool) {
	for _, n := range names {
		if given[n] {
			continue
		}
		st, _ := lookup(n)
		copySetting(st.ptr(spec), st.ptr(&preset))
	}
}

func copySetting(dst, src any) {
	switch d := dst.(type) {
	case *string:
		*d = *src.(*string)
	case *int:
		*d = *src.(*int)
	case *bool:
		*d = *src.(*bool)
	case *float64:
		*d = *src.(*float64)
	case *float32:
		*d = *src.(*float32)
	case *uint64:
		*d = *src.(*uint64)
	case *[]string:
		*d = slices.Clone(*src.(*[]string))
	default:
		panic(fmt.Sprintf("setting of type %T", dst))
	}
}
