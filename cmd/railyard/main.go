// Command railyard is Railyard's single binary: `railyard serve` runs the
// server, every other command is a client of its HTTP API.
//
// This is the only package that wires the others together: the sqlite
// store, the engine of package railyard and the http server for serve, the
// http client for everything else.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
	// Deploy windows and scheduled release trains name IANA time zones:
	// the binary carries the zone database, so that it evaluates them on
	// hosts (and in containers) without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	err := m.Run(ctx, os.Args[1:])
	stop()
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	os.Exit(m.ReportError(err))
}

// Main is the railyard program: it parses the arguments, runs one command
// and reports how it went. Its fields are everything the program takes from
// its surroundings, so that tests can run it in-process. A Main runs one
// command at a time.
type Main struct {
	// Stdin, Stdout and Stderr are the standard streams: results go to
	// Stdout, errors, hints and serve's log to Stderr.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable.
	Getenv func(key string) string
	// Now is the clock (lock expiry times are computed from it).
	Now func() time.Time
	// HTTPClient is what client commands send their requests with.
	HTTPClient *http.Client
	// GitConfig returns a value of `git config` ("" if unset), the
	// fallback for the author's name and e-mail.
	GitConfig func(ctx context.Context, key string) string
	// Build is what `railyard version` prints; nil means this binary's
	// own (currentBuild).
	Build *buildInfo

	// started is set once a command's own code runs: an error before that
	// came from parsing the command line, and is a usage error.
	started bool
	// failed is the command whose run failed, named in usage hints.
	failed *cobra.Command
	// server is the URL client commands talk to, named when it is unreachable.
	server string
	// closers release what a command left open, in reverse order.
	closers []func() error
}

// NewMain returns a Main wired to the process: standard streams, the
// environment, the system clock and git.
func NewMain() *Main {
	return &Main{
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		Getenv:     os.Getenv,
		Now:        time.Now,
		HTTPClient: &http.Client{Timeout: 2 * time.Minute},
		GitConfig:  gitConfig,
	}
}

// Run runs the command that args name (without the program name). It
// returns when the command is done; for serve, when ctx is cancelled and
// the server has shut down.
func (m *Main) Run(ctx context.Context, args []string) error {
	m.started, m.failed = false, nil
	root := m.newRootCommand()
	// A nil slice would make cobra read os.Args.
	root.SetArgs(append([]string{}, args...))
	root.SetIn(m.Stdin)
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return nil
	}
	m.failed = cmd
	switch {
	case !m.started && classify(err) == exitError:
		err = &usageError{err: err}
	case m.server != "" && classify(err) == exitUnreachable:
		err = &unreachableError{server: m.server, err: err}
	}
	return err
}

// Close releases whatever a command left open. It is safe to call more
// than once.
func (m *Main) Close() error {
	var first error
	for i := len(m.closers) - 1; i >= 0; i-- {
		if err := m.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	m.closers = nil
	return first
}

// newRootCommand builds the command tree. It is built anew for every Run,
// so that flag values never outlive one command line.
func (m *Main) newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "railyard",
		Short: "Railyard decides which version of which application runs in which environment",
		Long: `Railyard is a GitOps release manager for Kubernetes. It decides which version
of which application runs in which environment and writes that decision as
plain manifests into a Git repository that Argo CD applies to the clusters.

Run "railyard serve" to start the server; every other command talks to it
(see --server). Documentation: docs/cli.md.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// With subcommands and no Run, cobra rejects unknown commands itself.
		Version: m.build().String(),
	}
	root.SetVersionTemplate("{{.Version}}")
	// Declared here so that cobra adds no -v shorthand, which reads as
	// "verbose" to many.
	root.Flags().Bool("version", false, "print the version, commit and build time (as \"railyard version\" does)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })
	root.AddCommand(
		m.newServeCommand(),
		m.newReleaseCommand(),
		m.newDeployCommand(),
		m.newTrainCommand(),
		m.newPromoteCommand(),
		m.newRollbackCommand(),
		m.newLockCommand(),
		m.newLocksCommand(),
		m.newUnlockCommand(),
		m.newStatusCommand(),
		m.newHistoryCommand(),
		m.newEnvCommand(),
		m.newAppCommand(),
		m.newVersionCommand(),
	)
	return root
}

// run wraps the body of a command: from here on, errors are the command's
// own and not usage errors, unless the body says so.
func (m *Main) run(fn func(ctx context.Context, cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		m.started = true
		return fn(cmd.Context(), cmd, args)
	}
}

// newGroupCommand returns a command that only holds subcommands: without
// arguments it prints its help, with an unknown one it is a usage error
// (cobra would print the help and succeed).
func newGroupCommand(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			names := make([]string, 0, len(cmd.Commands()))
			for _, c := range cmd.Commands() {
				if c.IsAvailableCommand() {
					names = append(names, c.Name())
				}
			}
			return usageErrorf("unknown command %q for %q: use one of %s", args[0], cmd.CommandPath(), strings.Join(names, ", "))
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}

// gitConfig returns `git config --get key`, or "" if git or the key is
// missing.
func gitConfig(ctx context.Context, key string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "config", "--get", key).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// printf writes to standard output; a failing terminal is not worth an
// error of its own.
func (m *Main) printf(format string, args ...any) {
	fmt.Fprintf(m.Stdout, format, args...)
}
