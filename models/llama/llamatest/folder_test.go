package llamatest

import (
	"os"
	"slices"
	"testing"

	"seal/models/tensor"
)

// TestWriteFolder writes a folder where SEAL_LLAMATEST_DIR points (for trying the CLI by
// hand); without it, it checks that a folder can be written and loaded.
func TestWriteFolder(t *testing.T) {
	dir := os.Getenv("SEAL_LLAMATEST_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if _, err := Folder(dir, 7); err != nil {
		t.Fatal(err)
	}
}

// TestStrictIsATestBackendNotADevice: $SEAL_TEST_DEVICE=strict gives the strict backend,
// and linking it (every test of the CLI does) adds no device to the registry, so
// --device and its messages are those of the real build.
func TestStrictIsATestBackendNotADevice(t *testing.T) {
	t.Setenv(DeviceEnv, "strict")
	if b := Backend(); b.Name() != "strict" {
		t.Fatalf("%s=strict gave %s", DeviceEnv, b.Name())
	}
	if slices.Contains(tensor.Registered(), "strict") {
		t.Fatalf("the registry lists strict: %v", tensor.Registered())
	}
}
