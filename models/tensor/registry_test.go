package tensor

import (
	"errors"
	"strings"
	"testing"
)

// fakeBackend is a Backend by name only: the registry never runs an op.
type fakeBackend struct {
	Backend
	name string
}

func (f fakeBackend) Name() string { return f.name }

// withRegistry runs f against a registry holding only regs, restoring the real one after.
func withRegistry(t *testing.T, regs []registration, f func()) {
	t.Helper()
	registryMu.Lock()
	saved := registry
	registry = regs
	registryMu.Unlock()
	defer func() {
		registryMu.Lock()
		registry = saved
		registryMu.Unlock()
	}()
	f()
}

func opener(name string, err error) Opener {
	return func() (Backend, error) {
		if err != nil {
			return nil, err
		}
		return fakeBackend{name: name}, nil
	}
}

func TestOpenChoosesTheDevice(t *testing.T) {
	noCard := errors.New("no card")
	cases := []struct {
		regs    []registration
		device  string
		want    string // backend name, or "" for an error
		wantErr string
	}{
		{[]registration{{"cpu", false, opener("cpu", nil)}}, "cpu", "cpu", ""},
		{[]registration{{"cpu", false, opener("cpu", nil)}}, "auto", "cpu", ""},
		// auto prefers a GPU that works, and passes over one that does not.
		{[]registration{{"cpu", false, opener("cpu", nil)}, {"cuda", true, opener("cuda", nil)}}, "auto", "cuda", ""},
		{[]registration{{"cpu", false, opener("cpu", nil)}, {"cuda", true, opener("", noCard)}}, "auto", "cpu", ""},
		{[]registration{{"cpu", false, opener("cpu", nil)}, {"cuda", true, opener("", noCard)}}, "cuda", "", "device cuda: no card"},
		{[]registration{{"cpu", false, opener("cpu", nil)}}, "cuda", "", "no CUDA backend in this build (built in: cpu)"},
		{[]registration{{"cpu", false, opener("cpu", nil)}}, "tpu", "", `device "tpu" is not one of cpu, cuda, auto`},
		{nil, "auto", "", "no CPU backend in this build (built in: none)"},
	}
	for _, c := range cases {
		withRegistry(t, c.regs, func() {
			b, err := Open(c.device)
			switch {
			case c.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Errorf("Open(%q) with %d backends: error %v, want %q", c.device, len(c.regs), err, c.wantErr)
				}
			case err != nil:
				t.Errorf("Open(%q) with %d backends: %v", c.device, len(c.regs), err)
			case b.Name() != c.want:
				t.Errorf("Open(%q) with %d backends chose %s, want %s", c.device, len(c.regs), b.Name(), c.want)
			}
		})
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	withRegistry(t, nil, func() {
		Register("x", false, opener("x", nil))
		defer func() {
			if recover() == nil {
				t.Error("a second registration of x did not panic")
			}
		}()
		Register("x", false, opener("x", nil))
	})
}
