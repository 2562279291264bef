// Package gitcli runs the git command line for package gitrepo: one
// command at a time (Git.Run) or a long-running `git cat-file --batch`
// that answers object lookups over a pipe (CatFile).
//
// Every command runs with a fixed environment, so that a user's or the
// system's git configuration cannot change what Railyard writes, and in a
// process group of its own, so that a command killed at its deadline (or
// when its context ends) takes every process it started with it: git push
// runs git-remote-http or ssh as children, which would otherwise stay
// hanging on the network. Errors carry git's standard error with
// credentials redacted (Redact).
package gitcli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// waitDelay is how long a killed git may keep its output pipes open
// (a child that left its process group) before Wait gives up on them.
const waitDelay = 5 * time.Second

// Git runs git in one repository. The zero Timeout means no deadline.
// A Git is not changed by its methods and may be used concurrently.
type Git struct {
	// Dir is the repository (or the directory a command such as clone
	// runs in).
	Dir string
	// Env is added to BaseEnv: the remote's address and credentials,
	// transfer limits.
	Env []string
	// Timeout is the deadline of each command; for a CatFile, of each
	// request. A command still running then is killed with its children.
	Timeout time.Duration
	// Nice, if positive, lowers the CPU priority of Run's commands and of
	// every process they start (nice(1)): background work that must
	// not slow down the server's requests.
	Nice int
}

// BaseEnv isolates git from the user's and the system's configuration and
// never lets it prompt for credentials.
func BaseEnv() []string {
	env := []string{
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=/bin/false",
		"SSH_ASKPASS=/bin/false",
		"LC_ALL=C",
	}
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Command returns an exec.Cmd for git with args, in a process group of
// its own that is killed whole when ctx ends. It applies no Timeout: the
// caller owns the process (CatFile, the tests' fast-import).
func (g *Git) Command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.Dir
	cmd.Env = append(BaseEnv(), g.Env...)
	inOwnGroup(cmd)
	cmd.Cancel = func() error { return killGroup(cmd.Process) }
	cmd.WaitDelay = waitDelay
	return cmd
}

// WithTimeout returns a copy of g with another deadline per command.
func (g *Git) WithTimeout(d time.Duration) *Git {
	c := *g
	c.Timeout = d
	return &c
}

// WithNice returns a copy of g whose commands run at niceness n.
func (g *Git) WithNice(n int) *Git {
	c := *g
	c.Nice = n
	return &c
}

// errDeadline is the cause of a context that ended at a command's
// deadline.
var errDeadline = errors.New("git deadline")

// Run runs git and returns its standard output. A failure is an *Error
// carrying git's standard error, with credentials redacted; a command
// still running at its deadline is killed with its children and ends in a
// *TimeoutError.
func (g *Git) Run(ctx context.Context, args ...string) (string, error) {
	return g.RunInput(ctx, nil, args...)
}

// RunInput is Run with stdin as git's standard input.
func (g *Git) RunInput(ctx context.Context, stdin []byte, args ...string) (string, error) {
	if g.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, g.Timeout, errDeadline)
		defer cancel()
	}
	cmd := g.Command(ctx, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Start()
	if err == nil {
		// git starts its children after this: they inherit it.
		lowerPriority(cmd.Process, g.Nice)
		err = cmd.Wait()
	}
	if err != nil {
		if context.Cause(ctx) == errDeadline {
			return stdout.String(), &TimeoutError{Cmd: "git " + args[0], After: g.Timeout}
		}
		return stdout.String(), &Error{Args: redactArgs(args), Stderr: Redact(strings.TrimSpace(stderr.String())), Err: err}
	}
	return stdout.String(), nil
}

// TimeoutError is a git command killed at its deadline.
type TimeoutError struct {
	// Cmd says what timed out: "git cat-file", or, named by the caller,
	// "git push to <url>".
	Cmd   string
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s timed out after %s", e.Cmd, e.After)
}

// IsTimeout reports whether err is or wraps a *TimeoutError.
func IsTimeout(err error) bool {
	var te *TimeoutError
	return errors.As(err, &te)
}

// Error is a git command that failed.
type Error struct {
	Args   []string // the command's arguments, credentials redacted
	Stderr string   // git's standard error, trimmed, credentials redacted
	Err    error    // how the process ended (*exec.ExitError) or failed to start
}

func (e *Error) Error() string {
	if e.Stderr == "" {
		return fmt.Sprintf("git %s: %v", e.Args[0], e.Err)
	}
	return fmt.Sprintf("git %s: %s", e.Args[0], e.Stderr)
}

func (e *Error) Unwrap() error { return e.Err }

// userinfoRE finds what stands before an '@' followed by a host, with or
// without a scheme: "https://TOKEN@host", "user:password@host", and the
// "TOKEN@host: Permission denied" of ssh. Any of it may be a token.
var userinfoRE = regexp.MustCompile(`[^\s'"@/<>()\[\]{}]+@([A-Za-z0-9\[])`)

// Redact removes credentials from free text (git's messages, errors), so
// that errors, logs and the export status never carry a token: every
// user@host, with or without a scheme, becomes ***@host.
func Redact(s string) string {
	return userinfoRE.ReplaceAllString(s, "***@$1")
}

func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = Redact(a)
	}
	return out
}
