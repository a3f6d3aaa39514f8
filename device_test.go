package main

import (
	"strings"
	"testing"
)

// TestDeviceFlagOnEveryComputingCommand: each command that computes takes --device, and
// a device this build lacks is a usage error naming the flag before any work is done
// (no database, model or data is touched: the arguments below would fail later).
func TestDeviceFlagOnEveryComputingCommand(t *testing.T) {
	commands := [][]string{
		{"run"}, {"resume"}, {"worker", "--nats", "nats://127.0.0.1:1"}, {"generate", "--model", "x", "--prompt", "p"},
		{"bench"}, {"pretrain", "--out", "x"}, {"effect"}, {"rollback", "1", "--to", "2"}, {},
	}
	for _, cmd := range commands {
		for device, want := range map[string]string{
			"cuda": "no CUDA backend in this build (built in: cpu)",
			"tpu":  `device "tpu" is not one of cpu, cuda, auto`,
		} {
			args := append(append([]string{}, cmd...), "--device", device)
			if len(cmd) == 1 && cmd[0] == "resume" {
				args = append(args, "1") // its flags come before RUN
			}
			code, _, errOut := runCmd(args...)
			if code != 2 || !strings.Contains(errOut, "-device: "+want) {
				t.Errorf("seal %v: exit %d, %q; want exit 2 with %q", args, code, errOut, want)
			}
		}
	}
}

// TestDeviceAutoIsTheCPUAndSaysSo: with no GPU backend built in, auto (the default)
// computes on the CPU and the command says so (engine tests check that runs store it).
func TestDeviceAutoIsTheCPUAndSaysSo(t *testing.T) {
	d := deviceFlag{name: "auto"}
	var errOut strings.Builder
	b, err := d.open("seal x", &errOut)
	if err != nil || b.Name() != "cpu" || errOut.String() != "seal x: computing on cpu\n" {
		t.Fatalf("auto: %v, %v, %q", b, err, errOut.String())
	}
}
