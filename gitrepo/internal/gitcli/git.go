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
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// DefaultGitTimeout is the deadline of a git command when Config.GitTimeout
// is not set: long enough for a push of a full batch to a slow host, short
// enough that a hung remote shows in the export status within minutes.
const DefaultGitTimeout = 2 * time.Minute

// waitDelay is how long a killed git may keep its output pipes open
// (a child that left its process group) before Wait gives up on them.
const waitDelay = 5 * time.Second

// gitCmd runs git in a repository directory with a fixed environment, so
// that a user's global configuration cannot change what Railyard writes.
type gitCmd struct {
	dir string
	env []string
	// timeout is the deadline of each command (for cat-file, of each
	// request); 0 means none.
	timeout time.Duration
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

// command returns an exec.Cmd for git with args, in a process group of
// its own that is killed whole when ctx ends.
func (g *gitCmd) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.dir
	cmd.Env = append(baseEnv(), g.env...)
	inOwnGroup(cmd)
	cmd.Cancel = func() error { return killGroup(cmd.Process) }
	cmd.WaitDelay = waitDelay
	return cmd
}

// withTimeout returns g with another deadline per command.
func (g *gitCmd) withTimeout(d time.Duration) *gitCmd {
	c := *g
	c.timeout = d
	return &c
}

// errDeadline is the cause of a context that ended at a command's
// deadline.
var errDeadline = errors.New("git deadline")

// run runs git and returns its standard output. The error carries git's
// standard error, with credentials redacted; a command still running at
// its deadline is killed with its children and ends in a *timeoutError.
func (g *gitCmd) run(ctx context.Context, args ...string) (string, error) {
	return g.runInput(ctx, nil, args...)
}

// runInput is run with standard input.
func (g *gitCmd) runInput(ctx context.Context, stdin []byte, args ...string) (string, error) {
	if g.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, g.timeout, errDeadline)
		defer cancel()
	}
	cmd := g.command(ctx, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if context.Cause(ctx) == errDeadline {
			return stdout.String(), &timeoutError{cmd: "git " + args[0], after: g.timeout}
		}
		return stdout.String(), &gitError{args: redactArgs(args), stderr: Redact(strings.TrimSpace(stderr.String())), err: err}
	}
	return stdout.String(), nil
}

// timeoutError is a git command killed at its deadline.
type timeoutError struct {
	cmd   string // what timed out: "git push to <url>"
	after time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("%s timed out after %s", e.cmd, e.after)
}

// remoteTimeout names the remote in a timeout of a command that talks to
// it ("git push to <url>"), and returns any other error unchanged.
func remoteTimeout(err error, what, remote string) error {
	var te *timeoutError
	if errors.As(err, &te) {
		return &timeoutError{cmd: what + " " + RedactURL(remote), after: te.after}
	}
	return err
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

// parseURL parses raw if it is a URL (scheme://…), as git tells URLs from
// paths and scp-like addresses.
func parseURL(raw string) (*url.URL, bool) {
	if !strings.Contains(raw, "://") {
		return nil, false
	}
	u, err := url.Parse(raw)
	return u, err == nil
}

// cutSCPUser splits git's scp-like address user@host:path (ssh) into the
// user and host:path. Like git, it takes an address for scp-like when a
// colon comes before any slash.
func cutSCPUser(raw string) (user, rest string, ok bool) {
	if strings.Contains(raw, "://") {
		return "", "", false
	}
	colon := strings.IndexByte(raw, ':')
	if colon < 0 || strings.ContainsRune(raw[:colon], '/') {
		return "", "", false
	}
	at := strings.LastIndexByte(raw[:colon], '@')
	if at < 0 {
		return "", raw, true
	}
	return raw[:at], raw[at+1:], true
}

// isSSH reports whether scheme is one of git's names for ssh.
func isSSH(scheme string) bool {
	switch strings.ToLower(scheme) {
	case "ssh", "git+ssh", "ssh+git":
		return true
	}
	return false
}

// HasCredentials reports whether a repository address carries a secret:
// any userinfo of a URL, a user name alone too (http://TOKEN@host/ sends
// the token as the user name), except the user name of an ssh address,
// which names the account (git@host) while the key authenticates.
func HasCredentials(raw string) bool {
	if u, ok := parseURL(raw); ok {
		if u.User == nil {
			return false
		}
		_, hasPassword := u.User.Password()
		return !isSSH(u.Scheme) || hasPassword
	}
	user, _, ok := cutSCPUser(raw)
	return ok && strings.ContainsRune(user, ':')
}

// IsPlainHTTP reports whether raw is an http:// URL, where credentials
// would travel in clear.
func IsPlainHTTP(raw string) bool {
	u, ok := parseURL(raw)
	return ok && strings.EqualFold(u.Scheme, "http")
}

// PublicURL returns the address without its credentials (see
// HasCredentials): what Argo CD is told to clone, which Railyard writes
// into documents that everyone who reads the repository reads. The user
// name of an ssh address stays: Argo CD needs it.
func PublicURL(raw string) string {
	if !HasCredentials(raw) {
		return raw
	}
	if u, ok := parseURL(raw); ok {
		if isSSH(u.Scheme) {
			u.User = url.User(u.User.Username())
		} else {
			u.User = nil
		}
		return u.String()
	}
	return RedactURL(raw)
}

// RedactURL returns the address without any user name or password, for
// display: URLs lose their userinfo, scp-like addresses their user; a
// path is returned as it is.
func RedactURL(raw string) string {
	if u, ok := parseURL(raw); ok {
		u.User = nil
		return u.String()
	}
	if strings.Contains(raw, "://") {
		return Redact(raw) // not a valid URL: remove what looks like userinfo
	}
	if _, rest, ok := cutSCPUser(raw); ok {
		return rest
	}
	return raw
}
