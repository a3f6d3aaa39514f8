package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"seal/engine"
	"seal/store/termsafe"
)

// The launcher: a list of the run's settings, prefilled; left/right change a choice,
// enter edits a value, s starts. Presets are TOML files with the keys of
// `seal run --config` in the user's config folder.

type fieldKind int

const (
	kindText fieldKind = iota
	kindInt
	kindFloat
	kindChoice
	kindBool
)

type field struct {
	label   string
	name    string // the setting's name (its flag), as engine.ApplyPreset's given set holds it
	kind    fieldKind
	choices []string
	get     func(*engine.RunSpec) string
	set     func(*engine.RunSpec, string) error
	empty   string // what an empty text means
}

func intField(label, name string, p func(*engine.RunSpec) *int) field {
	return field{label: label, name: name, kind: kindInt,
		get: func(s *engine.RunSpec) string { return strconv.Itoa(*p(s)) },
		set: func(s *engine.RunSpec, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%s: %q is not a whole number", label, v)
			}
			*p(s) = n
			return nil
		}}
}

// floatField shows a value with the precision it is stored in (bits 32 or 64), so
// 0.95 in a float32 does not read 0.949999988.
func floatField(label, name string, bits int, get func(*engine.RunSpec) float64, set func(*engine.RunSpec, float64)) field {
	return field{label: label, name: name, kind: kindFloat,
		get: func(s *engine.RunSpec) string { return strconv.FormatFloat(get(s), 'g', -1, bits) },
		set: func(s *engine.RunSpec, v string) error {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return fmt.Errorf("%s: %q is not a number", label, v)
			}
			set(s, f)
			return nil
		}}
}

func choiceField(label, name string, choices []string, p func(*engine.RunSpec) *string) field {
	return field{label: label, name: name, kind: kindChoice, choices: choices,
		get: func(s *engine.RunSpec) string { return *p(s) },
		set: func(s *engine.RunSpec, v string) error {
			if !slices.Contains(choices, v) {
				return fmt.Errorf("%s: %q is not one of %s", label, v, strings.Join(choices, ", "))
			}
			*p(s) = v
			return nil
		}}
}

func boolField(label, name string, p func(*engine.RunSpec) *bool) field {
	return field{label: label, name: name, kind: kindBool,
		get: func(s *engine.RunSpec) string { return map[bool]string{true: "on", false: "off"}[*p(s)] },
		set: func(s *engine.RunSpec, v string) error { *p(s) = v == "on"; return nil }}
}

func textField(label, name, empty string, p func(*engine.RunSpec) *string) field {
	return field{label: label, name: name, kind: kindText, empty: empty,
		get: func(s *engine.RunSpec) string { return *p(s) },
		set: func(s *engine.RunSpec, v string) error { *p(s) = strings.TrimSpace(v); return nil }}
}

// launcherLabelWidth is the launcher's label column; every label fits it, so the values
// line up (TestLauncherLabelsFitTheirColumn).
const launcherLabelWidth = 16

var launcherFields = []field{
	choiceField("domain", "domain", launcherDomains(), func(s *engine.RunSpec) *string { return &s.Domain }),
	choiceField("mode", "mode", engine.ModeNames(), func(s *engine.RunSpec) *string { return &s.Mode }),
	textField("model", "model", "the embedded default model", func(s *engine.RunSpec) *string { return &s.Model }),
	textField("data", "data", "the domain's default: the synthetic world's val split, or procedural ARC tasks", func(s *engine.RunSpec) *string { return &s.Data }),
	intField("passages", "passages", func(s *engine.RunSpec) *int { return &s.Tasks }),
	choiceField("self-edit style", "style", engine.StyleNames(), func(s *engine.RunSpec) *string { return &s.Style }),
	intField("k (candidates)", "k", func(s *engine.RunSpec) *int { return &s.K }),
	intField("rounds", "rounds", func(s *engine.RunSpec) *int { return &s.Rounds }),
	textField("RL data", "rl-data", "the default data's: the world's train split, or procedural ARC training tasks; else the evaluation data", func(s *engine.RunSpec) *string { return &s.RLData }),
	intField("RL tasks/round", "rl-passages", func(s *engine.RunSpec) *int { return &s.RLPassages }),
	intField("repeats", "repeats", func(s *engine.RunSpec) *int { return &s.Repeats }),
	intField("edit tokens", "edit-tokens", func(s *engine.RunSpec) *int { return &s.EditTokens }),
	intField("answer tokens", "qa-tokens", func(s *engine.RunSpec) *int { return &s.QATokens }),
	floatField("temperature", "temperature", 32, func(s *engine.RunSpec) float64 { return float64(s.Temp) }, func(s *engine.RunSpec, f float64) { s.Temp = float32(f) }),
	floatField("top-p", "top-p", 32, func(s *engine.RunSpec) float64 { return float64(s.TopP) }, func(s *engine.RunSpec, f float64) { s.TopP = float32(f) }),
	intField("LoRA rank", "lora-rank", func(s *engine.RunSpec) *int { return &s.Inner.Rank }),
	floatField("LoRA alpha", "lora-alpha", 64, func(s *engine.RunSpec) float64 { return s.Inner.Alpha }, func(s *engine.RunSpec, f float64) { s.Inner.Alpha = f }),
	floatField("learning rate", "lr", 64, func(s *engine.RunSpec) float64 { return s.Inner.LR }, func(s *engine.RunSpec, f float64) { s.Inner.LR = f }),
	intField("epochs", "epochs", func(s *engine.RunSpec) *int { return &s.Inner.Epochs }),
	intField("batch", "batch", func(s *engine.RunSpec) *int { return &s.Inner.Batch }),
	choiceField("filter", "filter", []string{"best", "positive"}, func(s *engine.RunSpec) *string { return &s.Filter }),
	floatField("min grounding", "min-grounding", 64, func(s *engine.RunSpec) float64 { return s.MinGrounding }, func(s *engine.RunSpec, f float64) { s.MinGrounding = f }),
	boolField("review gate", "review", func(s *engine.RunSpec) *bool { return &s.ReviewGate }),
	boolField("baselines", "baselines", func(s *engine.RunSpec) *bool { return &s.Baselines }),
	textField("teacher", "teacher", "none (world: the synthetic world's own edit, implications or self-qa pairs as the style asks)", func(s *engine.RunSpec) *string { return &s.Teacher }),
	textField("name", "name", "mode, model and time", func(s *engine.RunSpec) *string { return &s.Name }),
}

type launcher struct {
	spec      engine.RunSpec
	cursor    int
	editing   bool
	naming    bool // typing a preset name
	input     textinput.Model
	err, note string
	presetDir string
	presets   []string
	presetIdx int
	given     map[string]bool // settings changed by hand (by name), which a domain's defaults leave alone
}

func newLauncher(spec engine.RunSpec, presetDir string) launcher {
	ti := textinput.New()
	ti.Prompt = ""
	return launcher{spec: spec, input: ti, presetDir: presetDir}
}

// typing says whether keys go to a text input (global single keys are off then).
func (l *launcher) typing() bool { return l.editing || l.naming }

// start is returned by update when s was pressed on valid settings.
type startMsg struct{ spec engine.RunSpec }

func (l *launcher) keys() help.KeyMap { return launcherKeyMap }

func (l *launcher) update(m tea.Msg) tea.Cmd {
	msg, ok := m.(tea.KeyMsg)
	if !ok {
		return nil
	}
	if l.naming || l.editing {
		return l.typeKey(msg)
	}
	f := launcherFields[l.cursor]
	km := launcherKeyMap
	switch {
	case key.Matches(msg, km.Up):
		l.cursor = (l.cursor + len(launcherFields) - 1) % len(launcherFields)
	case key.Matches(msg, km.Down):
		l.cursor = (l.cursor + 1) % len(launcherFields)
	case key.Matches(msg, km.Prev, km.Next):
		step := 1
		if key.Matches(msg, km.Prev) {
			step = -1
		}
		switch f.kind {
		case kindChoice:
			i := slices.Index(f.choices, f.get(&l.spec))
			l.change(f, f.choices[(i+step+len(f.choices))%len(f.choices)])
		case kindBool:
			l.change(f, map[string]string{"on": "off", "off": "on"}[f.get(&l.spec)])
		}
	case key.Matches(msg, km.Edit):
		if f.kind == kindChoice || f.kind == kindBool {
			return nil
		}
		l.editing = true
		l.input.SetValue(f.get(&l.spec))
		l.input.CursorEnd()
		return l.input.Focus()
	case key.Matches(msg, km.Save):
		l.naming = true
		l.input.SetValue("")
		l.input.Placeholder = "preset name"
		return l.input.Focus()
	case key.Matches(msg, km.Load):
		l.loadNextPreset()
	case key.Matches(msg, km.Start):
		spec := l.spec
		return func() tea.Msg { return startMsg{spec} }
	}
	return nil
}

// change sets a field the person changed and remembers it as given. A new domain
// brings its defaults (engine.SwitchDomain, as `seal run --domain` applies them) to
// every setting not given by hand since the launcher opened or a preset was loaded.
func (l *launcher) change(f field, v string) error {
	if f.name == "domain" {
		if v == l.spec.Domain {
			return nil
		}
		if !slices.Contains(f.choices, v) {
			return f.set(&l.spec, v) // its error names the choices
		}
		l.spec = engine.SwitchDomain(l.spec, v, l.given)
		return nil
	}
	if err := f.set(&l.spec, v); err != nil {
		return err
	}
	if l.given == nil {
		l.given = map[string]bool{}
	}
	l.given[f.name] = true
	return nil
}

// typeKey types a field's value or a preset's name: enter keeps it, esc drops it.
func (l *launcher) typeKey(msg tea.KeyMsg) tea.Cmd {
	km := launcherKeyMap
	switch {
	case key.Matches(msg, km.Cancel):
		l.editing, l.naming = false, false
		l.input.Blur()
		return nil
	case key.Matches(msg, km.Edit):
		v := l.input.Value()
		l.input.Blur()
		if l.naming {
			l.naming = false
			if err := l.savePreset(v); err != nil {
				l.err = err.Error()
			}
			return nil
		}
		l.editing = false
		if err := l.change(launcherFields[l.cursor], v); err != nil {
			l.err = err.Error()
		} else {
			l.err = ""
		}
		return nil
	}
	var cmd tea.Cmd
	l.input, cmd = l.input.Update(msg)
	return cmd
}

func (l *launcher) view(w, h int) string {
	var b strings.Builder
	b.WriteString(styleTitle.Render(" new run") + styleDim.Render("  (settings of `seal run`; presets in "+termsafe.Line(l.presetDir)+")") + "\n\n")
	rows := h - 4
	first := max(0, min(l.cursor-rows/2, len(launcherFields)-rows))
	for i := first; i < len(launcherFields) && i < first+rows; i++ {
		f := launcherFields[i]
		v := termsafe.Line(f.get(&l.spec)) // a preset file may hold anything
		if v == "" && f.empty != "" {
			v = styleDim.Render("(" + f.empty + ")")
		}
		if f.kind == kindChoice || f.kind == kindBool {
			v = "‹ " + v + " ›"
		}
		cur := "  "
		if i == l.cursor {
			cur = styleAccent.Render("▸ ")
			if l.editing {
				v = l.input.View()
			}
		}
		fmt.Fprintf(&b, "%s%-*s %s\n", cur, launcherLabelWidth, f.label, clip(v, w-launcherLabelWidth-4))
	}
	switch {
	case l.naming:
		b.WriteString("\nsave preset as: " + l.input.View())
	case l.err != "":
		b.WriteString("\n" + styleBad.Render(termsafe.Line(l.err)))
	case l.note != "":
		b.WriteString("\n" + styleAccent.Render(termsafe.Line(l.note)))
	}
	return fit(b.String(), w, h)
}

// presetPath is where a preset of that name is kept.
func (l *launcher) presetPath(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("preset name %q: use letters, digits, - or _", name)
	}
	return filepath.Join(l.presetDir, name+".toml"), nil
}

func (l *launcher) savePreset(name string) error {
	path, err := l.presetPath(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(l.presetDir, 0o755); err != nil {
		return err
	}
	if err := writePreset(path, l.spec); err != nil {
		return err
	}
	l.err, l.note = "", "saved "+path
	return nil
}

// writePreset writes a spec as a settings file: the keys `seal run --config` reads
// (the flags' names), every setting written so a preset is complete.
func writePreset(path string, spec engine.RunSpec) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := toml.NewEncoder(f).Encode(engine.SettingsFile(spec)); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// readPreset reads a preset as `seal run --config` reads a file: over the defaults,
// with the run's preset (ARC, the embedded model) for what the file does not give.
// Presets saved before the keys were the flags' names load too.
func readPreset(path string) (engine.RunSpec, error) {
	spec := engine.DefaultSpec()
	given, err := engine.ReadSettings(path, &spec)
	if err != nil {
		return spec, err
	}
	engine.ApplyPreset(&spec, given)
	return spec, nil
}

// loadNextPreset loads the presets one after another, round and round.
func (l *launcher) loadNextPreset() {
	entries, err := os.ReadDir(l.presetDir)
	l.presets = l.presets[:0]
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".toml") {
			l.presets = append(l.presets, e.Name())
		}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) { // unreadable is not empty: say why
		l.err = "presets: " + err.Error()
		return
	}
	if len(l.presets) == 0 {
		l.err = "no presets in " + l.presetDir + " (p saves one)"
		return
	}
	l.presetIdx %= len(l.presets)
	path := filepath.Join(l.presetDir, l.presets[l.presetIdx])
	l.presetIdx++
	spec, err := readPreset(path)
	if err != nil {
		l.err = err.Error()
		return
	}
	l.spec, l.err, l.note, l.given = spec, "", "loaded "+path, nil
}

// launcherDomains are the domains the launcher offers (engine's registry).
func launcherDomains() []string {
	var out []string
	for _, d := range engine.Domains() {
		if d.Info().Launcher {
			out = append(out, d.Info().Name)
		}
	}
	return out
}
