package ui

import (
	"database/sql"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"seal/engine"
	"seal/store"
)

// screenCase puts a fresh App on one screen in a state where its keys have something
// to act on: a live run with a candidate under review, history with runs, a run's
// detail, a comparison, a version tree.
type screenCase struct {
	name string
	id   screenID
	make func(t *testing.T) *App
}

func screenCases(t *testing.T) []screenCase {
	runs, ledger := storeWithRuns(t), ledgerStore(t)
	onHistory := func(t *testing.T, db *store.DB) *App {
		a := testApp(t, restemSpec(), &clock{t0})
		a.o.DB = db
		a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
		loaded(t, a, press(a, "h"))
		return a
	}
	evs := readRecorded(t, "restem-events.jsonl")
	return []screenCase{
		{"launcher", screenLauncher, func(t *testing.T) *App {
			a := testApp(t, restemSpec(), &clock{t0})
			a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
			return a
		}},
		{"live", screenLive, func(t *testing.T) *App {
			c := &clock{t0}
			a := liveApp(t, restemSpec(), c, 100, 30)
			feed(a, evs[:len(evs)/2]...)
			feed(a, needsReview(11, 0), needsReview(12, 1))
			c.t = t0.Add(time.Second) // past the grace period: the review keys are open
			a.run = nil               // the stand-in run cannot be paused or cancelled
			return a
		}},
		{"history", screenHistory, func(t *testing.T) *App { return onHistory(t, runs) }},
		{"detail", screenDetail, func(t *testing.T) *App {
			a := onHistory(t, runs)
			loaded(t, a, press(a, "enter"))
			return a
		}},
		{"compare", screenCompare, func(t *testing.T) *App {
			a := onHistory(t, runs)
			press(a, " ", " ")
			loaded(t, a, press(a, "c"))
			return a
		}},
		{"versions", screenVersions, func(t *testing.T) *App {
			a := onHistory(t, ledger)
			loaded(t, a, press(a, "v"))
			return a
		}},
	}
}

// withColours renders with colours for one test, so a change that only moves a
// highlight (a cursor bar, the focused pane) shows in the frame.
func withColours(t *testing.T) {
	lipgloss.SetColorProfile(termenv.ANSI)
	t.Cleanup(func() { lipgloss.SetColorProfile(termenv.Ascii) })
}

// everyKey is every key a terminal sends without alt: the printable characters, space
// and each named key (arrows, enter, esc, tab, the ctrl keys, function keys...).
func everyKey() []tea.KeyMsg {
	var ks []tea.KeyMsg
	for r := '!'; r <= '~'; r++ {
		ks = append(ks, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	ks = append(ks, tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
	for t := tea.KeyType(-100); t <= 127; t++ {
		if t != tea.KeyRunes && t != tea.KeySpace && tea.Key(tea.KeyMsg{Type: t}).String() != "" {
			ks = append(ks, tea.KeyMsg{Type: t})
		}
	}
	return ks
}

// helpBindings is what the full help bar lists for a key map.
func helpBindings(km help.KeyMap) []key.Binding {
	var out []key.Binding
	for _, col := range km.FullHelp() {
		for _, b := range col {
			if b.Enabled() {
				out = append(out, b)
			}
		}
	}
	return out
}

func helpKeys(km help.KeyMap) map[string]bool {
	in := map[string]bool{}
	for _, b := range helpBindings(km) {
		for _, k := range b.Keys() {
			in[k] = true
		}
	}
	return in
}

// mapBindings is every binding declared in a key map (its fields, embedded ones too).
func mapBindings(km any) map[string]key.Binding {
	out := map[string]key.Binding{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			switch b := f.Interface().(type) {
			case key.Binding:
				if b.Enabled() {
					out[v.Type().Field(i).Name] = b
				}
			default:
				if f.Kind() == reflect.Struct {
					walk(f)
				}
			}
		}
	}
	walk(reflect.ValueOf(km))
	return out
}

func sameBinding(a, b key.Binding) bool {
	return slices.Equal(a.Keys(), b.Keys()) && a.Help() == b.Help()
}

// A key that changes anything on a screen (what it draws, which screen is in front,
// or a command such as a load, a start or a quit) is in that screen's key map and its
// help bar: a key answered in code but missing from the map fails here.
func TestEveryKeyThatActsIsInTheHelp(t *testing.T) {
	withColours(t)
	for _, sc := range screenCases(t) {
		ref := sc.make(t)
		if ref.screen != sc.id {
			t.Fatalf("%s: the set-up left screen %d in front", sc.name, ref.screen)
		}
		listed, before := helpKeys(ref.active().keys()), ref.View()
		for _, k := range everyKey() {
			a := sc.make(t)
			a.launcher.presetDir = ref.launcher.presetDir // the launcher names it
			_, cmd := a.Update(k)
			acted := cmd != nil || a.screen != sc.id || a.View() != before
			if acted && !listed[k.String()] {
				t.Errorf("%s: %q acts but the help does not list it", sc.name, k.String())
			}
		}
	}
}

// The help bar lists exactly the screen's key map: every binding of the map, and
// nothing but the map's bindings and the global ones; the short help is a part of
// the full help.
func TestHelpListsExactlyTheKeyMap(t *testing.T) {
	globals := mapBindings(global)
	for _, sc := range screenCases(t) {
		km := sc.make(t).active().keys()
		listed := helpBindings(km)
		own := mapBindings(km)
		for name, b := range own {
			if !slices.ContainsFunc(listed, func(l key.Binding) bool { return sameBinding(l, b) }) {
				t.Errorf("%s: %s (%v) is bound but not in the help", sc.name, name, b.Keys())
			}
		}
		for _, l := range listed {
			isOwn := false
			for _, b := range own {
				isOwn = isOwn || sameBinding(l, b)
			}
			for _, b := range globals {
				isOwn = isOwn || sameBinding(l, b)
			}
			if !isOwn {
				t.Errorf("%s: the help lists %v, a binding of another screen", sc.name, l.Keys())
			}
		}
		for _, s := range km.ShortHelp() {
			if !slices.ContainsFunc(listed, func(l key.Binding) bool { return sameBinding(l, s) }) {
				t.Errorf("%s: the short help has %v, which the full help lacks", sc.name, s.Keys())
			}
		}
	}
}

// No key is bound twice within a screen: not in its own map, and not against a global
// key its help lists.
func TestNoKeyBoundTwiceInAScreen(t *testing.T) {
	for _, sc := range screenCases(t) {
		km := sc.make(t).active().keys()
		seen := map[string]string{}
		bind := func(name string, b key.Binding) {
			for _, k := range b.Keys() {
				if other, ok := seen[k]; ok && other != name {
					t.Errorf("%s: %q is bound to both %s and %s", sc.name, k, other, name)
				}
				seen[k] = name
			}
		}
		for name, b := range mapBindings(km) {
			bind(name, b)
		}
		for name, b := range mapBindings(global) {
			if slices.ContainsFunc(helpBindings(km), func(l key.Binding) bool { return sameBinding(l, b) }) {
				bind("global."+name, b)
			}
		}
	}
}

// Each screen answers its own keys: the App adds nothing to a key that is not global,
// so pressing it through the App draws the same as handing it to the screen.
func TestScreensAnswerTheirOwnKeys(t *testing.T) {
	withColours(t)
	globals := map[string]bool{}
	for _, b := range mapBindings(global) {
		for _, k := range b.Keys() {
			globals[k] = true
		}
	}
	for _, sc := range screenCases(t) {
		for name, b := range mapBindings(sc.make(t).active().keys()) {
			for _, k := range b.Keys() {
				if globals[k] {
					continue
				}
				msg := namedKey(t, k)
				viaApp, direct := sc.make(t), sc.make(t)
				direct.launcher.presetDir = viaApp.launcher.presetDir // the launcher names it
				viaApp.Update(msg)
				direct.active().update(msg)
				if viaApp.screen != direct.screen || viaApp.View() != direct.View() {
					t.Errorf("%s: %s (%q) through the App differs from the screen's own answer", sc.name, name, k)
				}
			}
		}
	}
}

// namedKey is the key message whose name is k.
func namedKey(t *testing.T, k string) tea.KeyMsg {
	t.Helper()
	for _, m := range everyKey() {
		if m.String() == k {
			return m
		}
	}
	t.Fatalf("no key is named %q", k)
	return tea.KeyMsg{}
}

// The detail and compare screens scroll with exactly the keys their maps list: the
// viewport's own defaults (b, f, d, u, space) no longer act unlisted, and b is the
// next baseline in compare, never a page up.
func TestScrollKeysAreTheScreensOwn(t *testing.T) {
	for _, sc := range screenCases(t) {
		if sc.id != screenDetail && sc.id != screenCompare {
			continue
		}
		a := sc.make(t)
		a.Update(tea.WindowSizeMsg{Width: 100, Height: 8}) // a short window: the text scrolls
		var vp = &a.detail.vp
		if sc.id == screenCompare {
			vp = &a.compare.vp
		}
		press(a, "f")
		if vp.YOffset == 0 {
			t.Errorf("%s: f did not page down", sc.name)
		}
		press(a, "b")
		if sc.id == screenDetail && vp.YOffset != 0 {
			t.Errorf("detail: b did not page up (offset %d)", vp.YOffset)
		}
		if sc.id == screenCompare && (vp.YOffset == 0 || a.compare.base != 1) {
			t.Errorf("compare: b moved the text (offset %d) or not the baseline (%d)", vp.YOffset, a.compare.base)
		}
	}
}

// A store error on loading history reaches the screen, in its status line.
func TestHistoryStoreErrorReachesTheScreen(t *testing.T) {
	db := storeWithRuns(t)
	a := testApp(t, restemSpec(), &clock{t0})
	a.o.DB = db
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	db.Close()
	cmd := press(a, "h")
	if cmd == nil {
		t.Fatal("h loads nothing")
	}
	loaded(t, a, cmd)
	if a.screen != screenHistory || !strings.Contains(a.history.err, "store is closed") || !strings.Contains(a.View(), "store: list runs") {
		t.Fatalf("screen %d, error %q; the screen:\n%s", a.screen, a.history.err, a.View())
	}
}

// dropTable breaks one table of a store under it, as a damaged file would.
func dropTable(t *testing.T, db *store.DB, table string) {
	t.Helper()
	raw, err := sql.Open("sqlite3", db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("DROP TABLE " + table); err != nil {
		t.Fatal(err)
	}
}

// A run's detail and a what-if from it read several tables; a failure in any of
// them is shown on the history, where the person asked, not left out of the page.
func TestDetailStoreErrorsReachThePerson(t *testing.T) {
	onHistory := func() (*App, *store.DB) {
		db := storeWithRuns(t)
		a := testApp(t, restemSpec(), &clock{t0})
		a.o.DB = db
		a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
		loaded(t, a, press(a, "h"))
		return a, db
	}
	a, db := onHistory()
	dropTable(t, db, "metrics")
	loaded(t, a, press(a, "enter"))
	if a.screen != screenHistory || !strings.Contains(a.history.err, "no such table: metrics") || !strings.Contains(a.View(), "store: read metrics") {
		t.Fatalf("a run whose metrics cannot be read opened: screen %d; the screen:\n%s", a.screen, a.View())
	}
	a, db = onHistory()
	loaded(t, a, press(a, "enter"))
	if a.screen != screenDetail {
		t.Fatalf("enter did not open the run: screen %d, error %q", a.screen, a.history.err)
	}
	dropTable(t, db, "retention")
	loaded(t, a, press(a, "w")) // the editor would open on the stored run rebuilt
	if a.screen != screenHistory || !strings.Contains(a.history.err, "no such table: retention") || !strings.Contains(a.View(), "retention") {
		t.Fatalf("a what-if on a damaged store: screen %d; the screen:\n%s", a.screen, a.View())
	}
}

// A what-if from a run's detail reads the run in a command: t names the passage above
// the detail, w opens the live view's editor on the passage's best self-edit.
func TestWhatIfFromDetailLoadsThroughACommand(t *testing.T) {
	a := testApp(t, restemSpec(), &clock{t0})
	a.o.DB = storeWithRuns(t)
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	loaded(t, a, press(a, "h"))
	press(a, "down") // run 1, the older
	loaded(t, a, press(a, "enter"))
	loaded(t, a, press(a, "t"))
	if a.screen != screenDetail || !strings.Contains(a.View(), "what-if passage 0 (t: next") || !strings.Contains(a.View(), "run 1: run A") {
		t.Fatalf("t on the detail:\n%s", a.View())
	}
	loaded(t, a, press(a, "w"))
	if a.screen != screenLive || a.live.purpose != editWhatIf || a.live.editor.Value() != "Kesa was born in 1880 ." || a.live.whatIf.Run != 1 {
		t.Fatalf("w on the detail: screen %d, purpose %d, edit %q, run %d", a.screen, a.live.purpose, a.live.editor.Value(), a.live.whatIf.Run)
	}
	a.run = &engine.Run{ID: 7} // a live run: edits are tried from the live view
	a.show(screenDetail)
	if cmd := press(a, "w"); cmd != nil || a.screen != screenHistory || !strings.Contains(a.history.err, "run 7 is live") {
		t.Fatalf("w with a live run: screen %d, error %q", a.screen, a.history.err)
	}
}
