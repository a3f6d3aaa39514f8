package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"seal/engine/knowledge"
	"seal/engine/knowledge/world"
	"seal/engine/redact"
	"seal/models/llama"
	"seal/store"
)

// The teacher baseline: the edit for each task written by another writer than the
// policy, trained and scored exactly as a self-edit is, and stored as a candidate of
// kind "teacher" in round 0. It is the paper's "GPT-4.1 synthetic data" row, the one a
// small model's own trained self-edits are meant to beat; the policy never trains on it.
// A run has at most one teacher (RunSpec.Teacher, TeacherURL, TeacherDir):
//
//   - an OpenAI-compatible chat API (--teacher-url, --teacher-model; the key from
//     $SEAL_TEACHER_KEY, never stored), asked with the self-edit prompt at temperature 0;
//   - a local model folder (--teacher-dir), continuing the self-edit prompt with the
//     run's sampling settings (--temperature 0 is greedy);
//   - --teacher world: the synthetic world's own written self-edit of the passage in the
//     run's style (its implications, or with --style self-qa every fact the passage states
//     asked and answered), the perfect teacher for the embedded default's data.

// TeacherWorld is RunSpec.Teacher's one value: the synthetic world's implications.
const TeacherWorld = "world"

// teacherKeyEnv holds the API teacher's key; each process reads it, nothing stores it.
const teacherKeyEnv = "SEAL_TEACHER_KEY"

// HasTeacher says whether the run writes teacher edits.
func (s RunSpec) HasTeacher() bool {
	return s.Teacher != "" || s.TeacherURL != "" || s.TeacherDir != ""
}

// validateTeacher refuses teacher settings that cannot work, naming the flag.
func (s RunSpec) validateTeacher() error {
	given := 0
	for _, v := range []string{s.Teacher, s.TeacherURL, s.TeacherDir} {
		if v != "" {
			given++
		}
	}
	switch {
	case s.TeacherModel != "" && s.TeacherURL == "":
		return fmt.Errorf("--teacher-model %q needs --teacher-url, the API that serves it", s.TeacherModel)
	case given == 0:
		return nil
	case given > 1:
		return fmt.Errorf("give one teacher: --teacher %s, --teacher-url or --teacher-dir (got more than one)", TeacherWorld)
	case s.Teacher != "" && s.Teacher != TeacherWorld:
		return fmt.Errorf("--teacher %q is not %q (an API teacher is --teacher-url, a model folder --teacher-dir)", s.Teacher, TeacherWorld)
	case s.Teacher == TeacherWorld && s.Domain != "knowledge":
		return fmt.Errorf("--teacher %s writes the synthetic world's implications of passages; --domain %s has none", TeacherWorld, s.Domain)
	case s.Teacher == TeacherWorld && validStyle(s.Style) && worldWrites(s.Style) == "":
		return fmt.Errorf("--teacher %s writes the synthetic world's implications or self-qa pairs; --style %s is neither", TeacherWorld, s.Style)
	case redact.HasUserinfo(s.TeacherURL): // the spec is stored whole: no password may ride in it
		return fmt.Errorf("--teacher-url %q: %w; give the key in $%s", redact.Secrets(s.TeacherURL), redact.ErrCredentialsInURL, teacherKeyEnv)
	case s.TeacherURL != "" && strings.TrimSpace(s.TeacherModel) == "":
		return fmt.Errorf("--teacher-url needs --teacher-model, the model the API is to run")
	case s.Mode != "restem":
		return fmt.Errorf("a teacher (--teacher, --teacher-url, --teacher-dir) is a baseline of ReST-EM runs; --mode %s has none", s.Mode)
	case s.Domain == "knowledge" && strings.EqualFold(strings.TrimSpace(s.Style), string(knowledge.StylePassage)):
		return fmt.Errorf("a teacher writes an edit for the self-edit prompt, and --style passage has none")
	}
	return nil
}

// A teacher writes the edit for one task.
type teacher interface {
	// write returns the edit for task t of the run, its length in tokens where the
	// teacher counts them (0 otherwise); prompt is the policy's self-edit prompt.
	write(x *runner, t int, prompt string, at Where) (string, int, error)
	// settings name the teacher in its candidates (stored as Sampling): no secret.
	settings() json.RawMessage
	close()
}

// openTeacher readies the run's teacher, if it has one, after the tasks are loaded:
// a world teacher checks here that the world has every passage, a folder is loaded.
func (x *runner) openTeacher() error {
	s := x.spec
	switch {
	case s.Teacher == TeacherWorld:
		wt := worldTeacher{edits: map[int]string{}, style: worldWrites(s.Style)}
		for t, task := range x.tasks {
			p := task.(passageTask).Passage
			edit, err := worldEdit(p, wt.style)
			if err != nil {
				return fmt.Errorf("--teacher %s: passage %d %q: %w", TeacherWorld, t, p.Title, err)
			}
			wt.edits[t] = edit
		}
		x.teach = wt
	case s.TeacherURL != "":
		th, err := knowledge.NewHTTPTeacher(knowledge.HTTPGraderConfig{BaseURL: s.TeacherURL, APIKey: os.Getenv(teacherKeyEnv),
			Model: s.TeacherModel, Timeout: 120 * time.Second, Retries: knowledge.DefaultHTTPRetries, Backoff: time.Second})
		if err != nil {
			return fmt.Errorf("--teacher-url: %w", err)
		}
		x.teach = apiTeacher{th: th, model: s.TeacherModel}
	case s.TeacherDir != "":
		l, err := loadLM(s.TeacherDir, x.e.Backend)
		if err != nil {
			return fmt.Errorf("--teacher-dir %s: %w", s.TeacherDir, err)
		}
		x.teach = dirTeacher{lm: l, spec: s}
	}
	return nil
}

// teacherEdit writes, trains and scores task t's teacher edit once, in round 0,
// exactly as a self-edit (the same job, the domain's reward against base).
func (x *runner) teacherEdit(t int, base float64) error {
	if x.teach == nil {
		return nil
	}
	if _, ok := x.finished[store.CandidateKey{Task: t, Index: idxTeacher}]; ok {
		return nil
	}
	w := Where{Run: x.r.ID, Task: t, Cand: idxTeacher}
	prompt, err := x.dom.SelfEditPrompt(x.spec, x.tasks[t])
	if err != nil {
		return err
	}
	edit, tokens, err := x.teach.write(x, t, prompt, w)
	if err != nil {
		return fmt.Errorf("%s %d: the teacher's edit: %w", x.dom.Info().Noun, t, err)
	}
	c := store.Candidate{RunID: x.r.ID, Task: t, Index: idxTeacher, Kind: store.KindTeacher, Prompt: prompt,
		Edit: strings.TrimSpace(edit), Tokens: tokens, Seed: x.seed(0, t, idxTeacher), BaseScore: base, Sampling: x.teach.settings()}
	x.r.send(EditDone{Where: w, Edit: c.Edit, Tokens: c.Tokens})
	if c.Edit == "" {
		c.Status, c.Reason = store.CandidateInvalid, "the teacher's edit is empty"
		return x.commit(&c, w)
	}
	j, err := x.innerJob(Where{Task: t, Cand: idxTeacher}, store.KindTeacher, c.Edit, false, c.Seed)
	if err != nil {
		return err
	}
	return x.runJobs([]InnerJob{j}, func(_ int, res InnerResult) error {
		x.score(&c, res, base)
		return x.commit(&c, w)
	})
}

func (x *runner) closeTeacher() {
	if x.teach != nil {
		x.teach.close()
	}
}

// worldTeacher is the synthetic world's written self-edits, by task, in one style.
type worldTeacher struct {
	edits map[int]string
	style knowledge.Style
}

func (w worldTeacher) write(_ *runner, t int, _ string, _ Where) (string, int, error) {
	return w.edits[t], 0, nil
}

// settings name the style only where it is not implications, so the implications
// teacher's stored settings read as they always have.
func (w worldTeacher) settings() json.RawMessage {
	if w.style == knowledge.StyleSelfQA {
		return json.RawMessage(`{"teacher":"world","style":"self-qa"}`)
	}
	return json.RawMessage(`{"teacher":"world"}`)
}
func (worldTeacher) close() {}

// worldWrites is the kind of edit the world teacher writes for a run's style: its
// implications for the implications styles, its question and answer pairs for self-qa;
// "" where it has none (rewrite, passage).
func worldWrites(style string) knowledge.Style {
	st, err := knowledge.ParseStyle(style)
	switch {
	case err != nil:
		return ""
	case st == knowledge.StyleSelfQA:
		return st
	case strings.HasPrefix(string(st), string(knowledge.StyleImplications)):
		return knowledge.StyleImplications
	}
	return ""
}

// validStyle says whether style names a style (the knowledge domain refuses one that
// does not, with its own message).
func validStyle(style string) bool {
	_, err := knowledge.ParseStyle(style)
	return err == nil
}

// worldEdit is the world's edit of p of that kind: the implications as a numbered list,
// or the self-qa pairs as a self-qa completion continues its primed prompt.
func worldEdit(p knowledge.Passage, style knowledge.Style) (string, error) {
	imps, err := worldImplications(p)
	if err != nil {
		return "", err
	}
	if style == knowledge.StyleSelfQA {
		return world.SelfQAList(defaultWorld().SelfQA(p)), nil
	}
	return world.NumberedList(imps), nil
}

// defaultWorld is the embedded default's world (world.DefaultConfig), made once.
var defaultWorld = sync.OnceValue(func() *world.World { return world.Generate(world.DefaultConfig()) })

// worldImplications are the default world's written implications of p: the world
// must have a passage of that title and the same text (whatever the split).
func worldImplications(p knowledge.Passage) ([]string, error) {
	w := defaultWorld()
	imps := w.Implications(p)
	if len(imps) == 0 {
		return nil, fmt.Errorf("the synthetic world (world.DefaultConfig, version %d) has no passage of this title", world.Version)
	}
	for _, s := range world.Splits() {
		for _, q := range w.Passages(s) {
			if q.Title == p.Title {
				if strings.TrimSpace(q.Context) != strings.TrimSpace(p.Context) {
					return nil, fmt.Errorf("the synthetic world's passage of this title has another text")
				}
				return imps, nil
			}
		}
	}
	return nil, fmt.Errorf("the synthetic world has no passage of this title")
}

// apiTeacher asks an OpenAI-compatible chat API.
type apiTeacher struct {
	th    *knowledge.HTTPTeacher
	model string
}

func (a apiTeacher) write(x *runner, _ int, prompt string, _ Where) (string, int, error) {
	edit, err := a.th.Write(x.ctx, prompt)
	return edit, 0, err
}

func (a apiTeacher) settings() json.RawMessage {
	b, _ := json.Marshal(map[string]any{"teacher": "api", "model": a.model, "endpoint": a.th.Endpoint(), "temperature": 0})
	return b
}
func (apiTeacher) close() {}

// dirTeacher continues the prompt with a model loaded from a folder, sampled with the
// run's settings and the candidate's seed.
type dirTeacher struct {
	lm   *lm
	spec RunSpec
}

func (d dirTeacher) write(x *runner, t int, prompt string, at Where) (string, int, error) {
	if err := fits(d.lm, fmt.Sprintf("--teacher-dir %s, %s %d", d.spec.TeacherDir, x.dom.Info().Noun, t), "the self-edit prompt", prompt, d.spec.EditTokens, "--edit-tokens"); err != nil {
		return "", 0, err
	}
	sc := llama.SampleConfig{Temperature: d.spec.Temp, TopP: d.spec.TopP, Seed: x.seed(0, t, idxTeacher)}
	gens, err := d.lm.generate(x.ctx, []string{prompt}, 1, d.spec.EditTokens, sc, func(_ int, text string) {
		x.r.send(Token{Where: at, Text: text})
	})
	if err != nil {
		return "", 0, err
	}
	return gens[0].Text, len(gens[0].Tokens), nil
}

func (d dirTeacher) settings() json.RawMessage {
	b, _ := json.Marshal(map[string]any{"teacher": "dir", "dir": d.spec.TeacherDir, "temperature": d.spec.Temp,
		"top_p": d.spec.TopP, "max_tokens": d.spec.EditTokens})
	return b
}
func (d dirTeacher) close() { d.lm.close() }
