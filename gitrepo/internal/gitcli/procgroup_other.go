//go:build !unix

package gitcli

import (
	"os"
	"os/exec"
)

// inOwnGroup does nothing where process groups do not exist.
func inOwnGroup(cmd *exec.Cmd) {}

// killGroup kills the process (its children may survive it here).
func killGroup(p *os.Process) error { return p.Kill() }

// lowerPriority does nothing here: Git.Nice is a Unix feature.
func lowerPriority(p *os.Process, n int) {}
