package tensor

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Opener makes a backend ready to compute; an error means its device is absent or
// unusable on this machine (no driver, no card), not a bug.
type Opener func() (Backend, error)

type registration struct {
	name string
	gpu  bool
	open Opener
}

var (
	registryMu sync.Mutex
	registry   []registration
)

// Devices are the names --device accepts; a name here that no package registered is
// a device this build lacks, which Open says plainly.
var Devices = []string{"cpu", "cuda", "auto"}

// Register adds a backend under name, as ollama's RegisterBackend does: a backend
// package calls it from init, and a program links the backends it wants with a blank
// import. gpu marks a backend that "auto" prefers over the CPU. A name registered
// twice is a programming error and panics.
func Register(name string, gpu bool, open Opener) {
	registryMu.Lock()
	defer registryMu.Unlock()
	for _, r := range registry {
		if r.name == name {
			panic(fmt.Sprintf("tensor: backend %q registered twice", name))
		}
	}
	registry = append(registry, registration{name: name, gpu: gpu, open: open})
}

// Registered lists the backends built into this program, in registration order.
func Registered() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	names := make([]string, len(registry))
	for i, r := range registry {
		names[i] = r.name
	}
	return names
}

// Open is the one place that chooses the device. "auto" opens the first GPU backend
// that registered and opens without error, else "cpu"; any other name opens that
// backend or says why it cannot.
func Open(name string) (Backend, error) {
	registryMu.Lock()
	regs := slices.Clone(registry)
	registryMu.Unlock()
	if name == "auto" {
		for _, r := range regs {
			if r.gpu {
				if b, err := r.open(); err == nil {
					return b, nil
				}
			}
		}
		name = "cpu"
	}
	for _, r := range regs {
		if r.name == name {
			b, err := r.open()
			if err != nil {
				return nil, fmt.Errorf("device %s: %w", name, err)
			}
			return b, nil
		}
	}
	built := "none"
	if len(regs) > 0 {
		built = strings.Join(Registered(), ", ")
	}
	if slices.Contains(Devices, name) {
		return nil, fmt.Errorf("no %s backend in this build (built in: %s)", strings.ToUpper(name), built)
	}
	return nil, fmt.Errorf("device %q is not one of %s", name, strings.Join(Devices, ", "))
}
