//go:build unix

package gitcli

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// inOwnGroup starts cmd in a process group of its own, so that killGroup
// reaches every process git starts: git push runs git-remote-http or ssh
// as children, and killing git alone would leave them hanging on the
// network with git's output pipes open.
func inOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the process group of a process started by inOwnGroup.
func killGroup(p *os.Process) error {
	err := syscall.Kill(-p.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// lowerPriority lowers the priority of the process group of p, a
// process started by inOwnGroup, by n steps of niceness from the
// server's own (at most to 19). It is best effort: a process that already
// ended, or a system that refuses, keeps its priority.
func lowerPriority(p *os.Process, n int) {
	if n <= 0 {
		return
	}
	// The system call returns 20 - niceness, which Go passes on.
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil {
		return
	}
	_ = syscall.Setpriority(syscall.PRIO_PGRP, p.Pid, min(20-prio+n, 19))
}
