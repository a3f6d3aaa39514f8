//go:build !unix

package bench

import "os/exec"

// killGroupOnCancel leaves exec's own cancel (killing the script alone) where there are no process groups.
func killGroupOnCancel(*exec.Cmd) {}
