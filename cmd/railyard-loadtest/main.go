// Command railyard-loadtest is a load generator for Railyard and for any
// server that implements Kuberpult's REST API: it publishes releases,
// creates and deletes locks and runs release trains through the
// Kuberpult-compatible endpoints, watches the manifest repository with
// git until every acknowledged release has arrived, and reports
// throughput, latency per operation, errors, end-to-end time into Git and
// the server's peak memory. docs/benchmarks.md describes its use and the
// scenarios.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
	// exitMissing: the run finished, but acknowledged releases never
	// reached Git within --git-timeout.
	exitMissing = 3
	// exitChaos: the chaos scenario missed a target: something
	// acknowledged was lost, duplicated or out of order, the repository
	// is damaged, or export hid or did not recover from a stall.
	exitChaos = 4
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := NewMain().Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Main is the program: its fields are what it takes from its
// surroundings, so that tests can run it in-process.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer
}

// NewMain returns a Main on the standard streams.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr}
}

// cliOptions are the command-line flags: the Options of the run and what
// only the command line has.
type cliOptions struct {
	Options
	envs        int
	envNames    []string
	mix         string
	output      string
	scenario    string
	railyardBin string
	keepData    bool
	chaos       chaosOptions
	help        bool
	// serveArgs are passed to the scenario's railyard serve.
	serveArgs []string
	// attack parameterizes --scenario slow-bodies.
	attack attackOptions
	// remote (file or http) makes the scenario's server push to a bare
	// repository of the tool's; backlog publishes that many releases
	// with the remote unreachable before the measured run.
	remote  string
	backlog int
}

// defaultCLIOptions are the flags' defaults.
func defaultCLIOptions() cliOptions {
	return cliOptions{Options: DefaultOptions(), envs: 3, mix: "releases=100", output: "table", attack: defaultAttackOptions(),
		chaos: chaosOptions{kills: 4, hang: 5 * time.Second, gitTimeout: 5 * time.Second}}
}

// flagSet binds the flags to c; c's values are the defaults.
func (c *cliOptions) flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("railyard-loadtest", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringVar(&c.Server, "server", c.Server, "base URL of the Kuberpult-compatible server")
	fs.IntVar(&c.Apps, "apps", c.Apps, "number of applications (app-00000 …); releases go round-robin over them")
	fs.IntVar(&c.envs, "envs", c.envs, "number of environments, named env-00 …")
	fs.StringSliceVar(&c.envNames, "env-names", c.envNames, "environment names instead of --envs (comma-separated)")
	fs.IntVar(&c.Clients, "clients", c.Clients, "concurrent clients")
	fs.IntVar(&c.Releases, "releases", c.Releases, "stop after this many release requests (0: no limit)")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "stop after this long (0: no limit); the run ends at whichever of --releases and --duration comes first")
	fs.Float64Var(&c.Rate, "rate", c.Rate, "open loop: operations per second, latency counted from each one's scheduled start (0: closed loop)")
	fs.IntVar(&c.ManifestSize, "manifest-size", c.ManifestSize, "bytes of each environment's manifest")
	fs.StringVar(&c.mix, "mix", c.mix, "operation mix by weight: releases=N,locks=N,trains=N")
	fs.StringVar(&c.Team, "team", c.Team, "team every release names")
	fs.Int64Var(&c.FirstVersion, "first-version", c.FirstVersion, "version of each application's first release (raise it to rerun against the same server)")
	fs.IntVar(&c.Prepopulate, "prepopulate", c.Prepopulate, "publish this many releases first, wait until they are in Git, then measure")
	fs.StringVar(&c.Setup, "setup", c.Setup, "create the environments first through Railyard's own API: chain, latest or group (Railyard only)")
	fs.StringVar(&c.Group, "group", c.Group, "environment group of --setup group")
	fs.StringVar(&c.TrainTarget, "train-target", c.TrainTarget, "release train target: an environment, or group:<name> (default: the last environment; the group with --setup group)")
	fs.StringVar(&c.TrainTeam, "train-team", c.TrainTeam, "team of the release trains (?team=), none by default")
	fs.StringVar(&c.GitRemote, "git-remote", c.GitRemote, "manifest repository to watch: a local path or a URL git can fetch (none: no end-to-end figures)")
	fs.StringVar(&c.GitBranch, "git-branch", c.GitBranch, "branch of --git-remote")
	fs.DurationVar(&c.GitPoll, "git-poll", c.GitPoll, "how often the remote is polled (default: 50ms for a local repository, 500ms for a URL)")
	fs.DurationVar(&c.GitTimeout, "git-timeout", c.GitTimeout, "how long to wait after the run for every acknowledged release to reach Git")
	fs.DurationVar(&c.PrepopulateTimeout, "prepopulate-timeout", c.PrepopulateTimeout, "how long to wait for the prepopulated releases to reach Git")
	fs.IntVar(&c.PID, "pid", c.PID, "the server's process id, to sample its memory from /proc")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the operation mix, lock targets and manifest filler")
	fs.DurationVar(&c.RequestTimeout, "timeout", c.RequestTimeout, "timeout of one request")
	fs.StringVarP(&c.output, "output", "o", c.output, "report format: table or json")
	fs.BoolVar(&c.Progress, "progress", c.Progress, "print a progress line on stderr every second")
	fs.StringVar(&c.scenario, "scenario", c.scenario, "run scenario a, b, c, slow-bodies or chaos against a fresh railyard serve (flags given override the scenario's)")
	fs.StringVar(&c.railyardBin, "railyard-bin", c.railyardBin, "railyard binary of --scenario (default: railyard on PATH)")
	fs.BoolVar(&c.keepData, "keep-data", c.keepData, "keep the scenario server's data directory")
	fs.StringArrayVar(&c.serveArgs, "serve-arg", c.serveArgs, "an argument for the scenario's railyard serve, e.g. --serve-arg=--body-timeout=5s (repeatable)")
	fs.IntVar(&c.attack.Announcers, "attack-announce", c.attack.Announcers, "slow-bodies: connections announcing a 64 MiB body and sending a byte a second")
	fs.IntVar(&c.attack.SlowBodies, "attack-slow", c.attack.SlowBodies, "slow-bodies: connections sending a 1,000-byte body at 0.5 byte/s")
	fs.IntVar(&c.attack.Idle, "attack-idle", c.attack.Idle, "slow-bodies: keep-alive connections left idle after one request")
	fs.DurationVar(&c.attack.Baseline, "attack-baseline", c.attack.Baseline, "slow-bodies: how long the ordinary load runs alone before the attack")
	fs.StringVar(&c.remote, "remote", c.remote, "scenarios a, b, c: serve pushes (--git-remote) to a bare repository served over file or http (the real git http-backend on 127.0.0.1); none: the embedded repository")
	fs.IntVar(&c.backlog, "backlog", c.backlog, "with --remote: first publish this many releases while the remote is unreachable, then restart serve with it and measure the run while export catches up")
	fs.IntVar(&c.chaos.kills, "kills", c.chaos.kills, "scenario chaos: SIGKILLs of railyard serve under load, in the first half of --duration")
	fs.DurationVar(&c.chaos.hang, "hang", c.chaos.hang, "scenario chaos: how long the Git remote accepts connections and never answers (0: no hung phase)")
	fs.DurationVar(&c.chaos.gitTimeout, "hang-git-timeout", c.chaos.gitTimeout, "scenario chaos: serve's --git-timeout while the remote hangs")
	fs.BoolVarP(&c.help, "help", "h", false, "show this help")
	return fs
}

// usage is the help text's head.
const usage = `railyard-loadtest loads a Kuberpult-compatible server (Railyard or another) through
POST /api/release, the environment lock PUT/DELETE and PUT …/releasetrain, watches the
manifest repository with git, and reports throughput, latency, errors, end-to-end time
into Git and peak memory. See docs/benchmarks.md.

Usage:
  railyard-loadtest --server URL [--git-remote PATH_OR_URL] [--pid N] [flags]
  railyard-loadtest --scenario a|b|c|slow-bodies|chaos --railyard-bin PATH [flags]

Flags:
`

// Run runs the program with args (without the program name) and returns
// its exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	c, err := parseArgs(args, m.Stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "railyard-loadtest: %v\nRun railyard-loadtest --help for the flags.\n", err)
		return exitUsage
	}
	var rep *Report
	if c.scenario != "" {
		sc, _ := scenarioByName(c.scenario)
		run := m.runScenario
		if sc.name == "chaos" {
			run = m.runChaos
		}
		rep, err = run(ctx, sc, c)
	} else {
		rep, err = Run(ctx, c.Options, m.Stderr)
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "railyard-loadtest: %v\n", err)
		return exitError
	}
	if c.output == "json" {
		err = rep.writeJSON(m.Stdout)
	} else {
		err = rep.writeTable(m.Stdout)
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "railyard-loadtest: write the report: %v\n", err)
		return exitError
	}
	if rep.EndToEnd != nil && rep.EndToEnd.TimedOut {
		return exitMissing
	}
	if rep.Chaos != nil && !targetsMet(rep.Targets) {
		return exitChaos
	}
	return exitOK
}

// parseArgs parses the command line. With --scenario the flags are parsed
// twice: once to learn the scenario, then over the scenario's values, so
// that flags given on the command line override it.
func parseArgs(args []string, stderr io.Writer) (*cliOptions, error) {
	c := defaultCLIOptions()
	fs := c.flagSet()
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if c.help {
		fmt.Fprint(stderr, usage)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		return nil, pflag.ErrHelp
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: every parameter is a flag", fs.Arg(0))
	}
	if c.scenario != "" {
		sc, ok := scenarioByName(c.scenario)
		if !ok {
			return nil, fmt.Errorf("--scenario %q is not known: use %s", c.scenario, scenarioNames)
		}
		for _, name := range []string{"server", "git-remote", "pid"} {
			if fs.Changed(name) {
				return nil, fmt.Errorf("--scenario starts its own server and watches its remote: leave out --%s", name)
			}
		}
		s := defaultCLIOptions()
		sc.set(&s)
		fs = s.flagSet()
		fs.SetOutput(io.Discard)
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		c = s
	}
	if c.output != "table" && c.output != "json" {
		return nil, fmt.Errorf("-o %q is not known: use table or json", c.output)
	}
	mix, err := ParseMix(c.mix)
	if err != nil {
		return nil, fmt.Errorf("--mix: %w", err)
	}
	c.Mix = mix
	c.Envs = envNames(c.envs)
	if len(c.envNames) > 0 {
		c.Envs = c.envNames
	} else if c.envs <= 0 {
		return nil, fmt.Errorf("--envs must be positive, got %d", c.envs)
	}
	if err := c.validateRemote(); err != nil {
		return nil, err
	}
	if c.scenario == "chaos" {
		if err := c.chaos.validate(c.Duration); err != nil {
			return nil, err
		}
	}
	if c.scenario != "" {
		// The scenario fills in the server; validate the rest now.
		o := c.Options
		o.Server = "http://127.0.0.1"
		if err := o.Validate(); err != nil {
			return nil, err
		}
		c.TrainTarget = o.TrainTarget
		return &c, nil
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// validateRemote checks --remote and --backlog.
func (c *cliOptions) validateRemote() error {
	switch {
	case c.backlog < 0:
		return fmt.Errorf("--backlog must not be negative, got %d", c.backlog)
	case c.backlog > 0 && c.remote == "":
		return errors.New("--backlog needs --remote: the backlog is what export to a remote must catch up")
	case c.remote == "":
		return nil
	case c.remote != remoteFile && c.remote != remoteHTTP:
		return fmt.Errorf("--remote %q is not known: use file or http", c.remote)
	case c.scenario != "a" && c.scenario != "b" && c.scenario != "c":
		return errors.New("--remote works with --scenario a, b or c (chaos has its own remote)")
	}
	return nil
}
