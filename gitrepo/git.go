// Package gitrepo is the only code that writes Git: it exports Railyard's
// event log into a manifest repository (one commit per event, batched
// pushes, exactly once across crashes), and serves that repository
// read-only over Git's smart HTTP protocol.
//
// Commits are built without a worktree by a Go pack writer (packwriter.go)
// that touches only the trees an event changes and writes new objects
// straight into a pack; `git cat-file --batch` answers the few lookups an
// event needs; fetch and push drive the git command line, so any remote
// it supports works.
package gitrepo

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// gitCmd runs git in a repository directory with a fixed environment, so
// that a user's global configuration cannot change what Railyard writes.
type gitCmd struct {
	dir string
	env []string
}

// baseEnv isolates git from the user's and the system's configuration and
// never lets it prompt for credentials.
func baseEnv() []string {
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

// command returns an exec.Cmd for git with args.
func (g *gitCmd) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.dir
	cmd.Env = append(baseEnv(), g.env...)
	return cmd
}

// run runs git and returns its standard output. The error carries git's
// standard error, with credentials redacted.
func (g *gitCmd) run(ctx context.Context, args ...string) (string, error) {
	return g.runInput(ctx, nil, args...)
}

// runInput is run with standard input.
func (g *gitCmd) runInput(ctx context.Context, stdin []byte, args ...string) (string, error) {
	cmd := g.command(ctx, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &gitError{args: redactArgs(args), stderr: Redact(strings.TrimSpace(stderr.String())), err: err}
	}
	return stdout.String(), nil
}

// gitError is a failed git command.
type gitError struct {
	args   []string
	stderr string
	err    error
}

func (e *gitError) Error() string {
	if e.stderr == "" {
		return fmt.Sprintf("git %s: %v", e.args[0], e.err)
	}
	return fmt.Sprintf("git %s: %s", e.args[0], e.stderr)
}

func (e *gitError) Unwrap() error { return e.err }

// userinfoRE finds credentials in URLs inside free text (git's messages).
var userinfoRE = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@`)

// Redact removes credentials from URLs in s, so that errors and logs never
// carry a token.
func Redact(s string) string {
	return userinfoRE.ReplaceAllString(s, "${1}***@")
}

func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = Redact(a)
	}
	return out
}

// PublicURL returns the URL without its password or token, keeping the
// user name (ssh://git@host/… needs it): what Argo CD is told to clone.
func PublicURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return Redact(raw)
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}

// RedactURL returns the URL without its credentials, for display.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return Redact(raw)
	}
	u.User = nil
	return u.String()
}
