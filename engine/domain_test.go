package engine

import (
	"fmt"
	"strings"
	"testing"
)

// The registry is what the CLI's --domain help, validation and the job path read:
// the two built-in domains in order, their help as the flag always said it.
func TestDomainRegistry(t *testing.T) {
	if got, want := DomainFlagHelp(), "knowledge (SQuAD-style passages) or arc (few-shot ARC tasks)"; got != want {
		t.Errorf("DomainFlagHelp() = %q, want %q", got, want)
	}
	s := DefaultSpec()
	s.Domain, s.Model, s.Data = "chess", "m", "d"
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), `--domain "chess" is not one of knowledge, arc`) {
		t.Errorf("an unknown domain: %v", err)
	}
	j := InnerJob{ID: "j", Domain: "chess", Model: ModelVersion{Base: "ab"}}
	if err := j.Validate(); err == nil || !strings.Contains(err.Error(), `domain "chess" is not supported (knowledge, arc)`) {
		t.Errorf("a job of an unknown domain: %v", err)
	}
	if i := DomainInfoOf("arc"); i.Noun != "task" || i.Display != DisplayGrids || i.Preset == nil {
		t.Errorf("arc's info %+v", i)
	}
	if i := DomainInfoOf("gone"); i.Display != DisplayText {
		t.Errorf("a stored run of an unknown domain gets display %q, want text", i.Display)
	}
	defer func() {
		if recover() == nil {
			t.Error("a second domain named knowledge was registered")
		}
	}()
	RegisterDomain(knowledgeDomain{})
}

// continual and cpt read passages: a domain of other tasks cannot list them.
func TestDomainModesBeyondReSTEMArePassagesOnly(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "only ReST-EM") {
			t.Errorf("a non-passage domain listing continual was registered (%v)", r)
		}
	}()
	RegisterDomain(continualARC{})
}

type continualARC struct{ arcDomain }

func (continualARC) Info() DomainInfo {
	i := arcDomain{}.Info()
	i.Name, i.Modes = "arc-continual", []string{"restem", "continual"}
	return i
}

// A domain's modes bound --mode: ARC runs ReST-EM only, with the message it always gave.
func TestDomainModes(t *testing.T) {
	s := ARCSpec()
	s.Model, s.Data, s.Mode = "m", "d", "continual"
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "ARC runs restem") {
		t.Errorf("arc in continual mode: %v", err)
	}
}
