package cpu

import (
	"testing"

	"seal/models/tensor/backendtest"
)

// TestConformance runs the suite every backend passes (forward against float64
// references, backward against finite differences, AdamW against torch's formula).
func TestConformance(t *testing.T) { backendtest.Run(t, New()) }
