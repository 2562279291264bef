package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// scenario is one of the documented load scenarios (docs/benchmarks.md):
// the parameters of the run and the targets it is held to. A scenario
// starts its own `railyard serve` in a temporary directory.
type scenario struct {
	name  string
	title string
	// set applies the scenario's parameters; flags given on the command
	// line override them.
	set func(c *cliOptions)
	// targets judges a report.
	targets func(rep *Report) []TargetResult
	// run runs the scenario against the server it started, with o's
	// Server, GitRemote and PID set; nil runs the load of the options.
	run func(m *Main, ctx context.Context, c *cliOptions, o Options) (*Report, error)
}

// scenarioNames are the scenarios --scenario knows.
const scenarioNames = "a, b, c, slow-bodies or chaos"

// scenarioByName returns a scenario: a, b, c, slow-bodies or chaos.
func scenarioByName(name string) (scenario, bool) {
	switch name {
	case "slow-bodies":
		return scenario{
			name: "slow-bodies",
			title: "slow and large requests: 30 connections announcing 64 MiB and sending a byte a second, 10 bodies at 0.5 byte/s and " +
				"10 idle keep-alive connections, while 4 clients publish releases and lock at 20 operations/s",
			set: func(c *cliOptions) {
				c.Apps, c.envs, c.Clients, c.ManifestSize = 50, 3, 4, 2048
				c.Rate, c.Duration, c.Releases = 20, 90*time.Second, 0
				c.Setup, c.mix = SetupChain, "releases=90,locks=10"
			},
			targets: slowBodiesTargets,
			run:     (*Main).runSlowBodies,
		}, true
	case "a":
		return scenario{
			name:  "a",
			title: "CI burst: 32 clients, 2,000 releases over 500 apps × 3 environments",
			set: func(c *cliOptions) {
				c.Apps, c.envs, c.Clients, c.Releases, c.Duration = 500, 3, 32, 2000, 0
				c.Setup, c.mix = SetupChain, "releases=100"
			},
			targets: func(rep *Report) []TargetResult {
				return []TargetResult{
					atLeast("releases created per second", rep.ReleasesPerSecond, 500, "/s"),
					latencyBelow("release latency p99", rep.Operations["release"].LatencyMs, p99, 100),
					endToEndBelow("slowest release ack → in git", rep.EndToEnd, 2000),
				}
			},
		}, true
	case "b":
		return scenario{
			name:  "b",
			title: "steady state, large repository: 5,000 apps × 10 environments present, 10 releases/s for a minute",
			set: func(c *cliOptions) {
				c.Apps, c.envs, c.Clients, c.Prepopulate = 5000, 10, 8, 5000
				c.Rate, c.Duration, c.Releases = 10, time.Minute, 0
				c.Setup, c.mix = SetupLatest, "releases=100"
			},
			targets: func(rep *Report) []TargetResult {
				return []TargetResult{
					latencyBelow("release latency p99", rep.Operations["release"].LatencyMs, p99, 50),
					endToEndBelow("slowest release ack → in git", rep.EndToEnd, 1000),
				}
			},
		}, true
	case "c":
		return scenario{
			name:  "c",
			title: "release train into a group of 5 environments over 1,000 apps while releases continue",
			set: func(c *cliOptions) {
				c.Apps, c.Clients, c.Prepopulate = 1000, 8, 1000
				c.envNames = []string{"staging", "prod-1", "prod-2", "prod-3", "prod-4", "prod-5"}
				c.Rate, c.Duration, c.Releases = 50, time.Minute, 0
				c.Setup, c.Group, c.mix = SetupGroup, "production", "releases=98,trains=2"
			},
			targets: func(rep *Report) []TargetResult {
				var during *Latency
				if rep.ReleasesDuringTrains != nil {
					during = rep.ReleasesDuringTrains.LatencyMs
				}
				return []TargetResult{
					latencyBelow("slowest release while a train runs", during, maxOf, 500),
				}
			},
		}, true
	case "chaos":
		return scenario{
			name:  "chaos",
			title: "kill -9 under load and a Git remote that hangs: nothing acknowledged lost, duplicated or out of order",
			set: func(c *cliOptions) {
				c.Apps, c.envs, c.Clients, c.ManifestSize = 50, 3, 8, 2048
				c.Rate, c.Duration, c.Releases = 100, 30*time.Second, 0
				c.Setup, c.mix = SetupChain, "releases=90,locks=8,trains=2"
			},
			targets: chaosTargets,
		}, true
	}
	return scenario{}, false
}

// Pickers of a latency figure.
func p99(l *Latency) float64   { return l.P99 }
func maxOf(l *Latency) float64 { return l.Max }

func boolPtr(b bool) *bool { return &b }

// atLeast is the target got ≥ want.
func atLeast(name string, got, want float64, unit string) TargetResult {
	return TargetResult{Name: name, Want: fmt.Sprintf("≥ %g", want), Got: got, Unit: unit, Met: boolPtr(got >= want)}
}

// latencyBelow is the target pick(l) < want ms; not measured without
// samples.
func latencyBelow(name string, l *Latency, pick func(*Latency) float64, want float64) TargetResult {
	t := TargetResult{Name: name, Want: fmt.Sprintf("< %g", want), Unit: "ms"}
	if l != nil {
		t.Got = pick(l)
		t.Met = boolPtr(t.Got < want)
	}
	return t
}

// endToEndBelow is the target that every release reached Git less than
// want ms after its acknowledgement: missed when some never did.
func endToEndBelow(name string, e *EndToEnd, want float64) TargetResult {
	t := TargetResult{Name: name, Want: fmt.Sprintf("< %g", want), Unit: "ms"}
	switch {
	case e == nil:
	case e.TimedOut:
		t.Met = boolPtr(false)
	case e.LatencyMs != nil:
		t.Got = e.LatencyMs.Max
		t.Met = boolPtr(t.Got < want)
	}
	return t
}

// runScenario starts `railyard serve` from c.railyardBin with its data in
// a new temporary directory, runs the scenario against it, watching its
// default remote and sampling its memory, and stops it.
func (m *Main) runScenario(ctx context.Context, sc scenario, c *cliOptions) (*Report, error) {
	bin := c.railyardBin
	if bin == "" {
		bin = "railyard"
	}
	bin, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("--railyard-bin: %w (build it with `go build -o bin/railyard ./cmd/railyard`)", err)
	}
	tmp, err := os.MkdirTemp("", "railyard-loadtest-"+sc.name+"-")
	if err != nil {
		return nil, err
	}
	if c.keepData {
		fmt.Fprintf(m.Stderr, "scenario %s: data kept in %s\n", sc.name, tmp)
	} else {
		defer func() {
			if err := removeData(tmp, filepath.Join(tmp, "data")); err != nil {
				fmt.Fprintf(m.Stderr, "scenario %s: remove %s: %v\n", sc.name, tmp, err)
			}
		}()
	}
	log, err := os.Create(filepath.Join(tmp, "serve.log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	dataDir, serveArgs, gitDir := filepath.Join(tmp, "data"), c.serveArgs, filepath.Join(tmp, "data", "git", "manifests.git")
	var backlog *BacklogReport
	var backlogLast int64
	if c.remote != "" {
		remote, err := newPushRemote(ctx, c.remote, tmp)
		if err != nil {
			return nil, err
		}
		defer remote.close()
		serveArgs, gitDir = append(remote.serveArgs(), serveArgs...), remote.dir
		if c.backlog > 0 {
			if backlog, backlogLast, err = m.publishBacklog(ctx, c, bin, dataDir, tmp, log); err != nil {
				return nil, fmt.Errorf("%w (log: %s)", err, log.Name())
			}
		}
	}
	srv, err := startRailyard(ctx, bin, dataDir, log, serveArgs...)
	if err != nil {
		return nil, fmt.Errorf("%w (log: %s)", err, log.Name())
	}
	fmt.Fprintf(m.Stderr, "scenario %s: %s\nscenario %s: railyard serve (pid %d) at %s, data in %s, manifests in %s\n",
		sc.name, sc.title, sc.name, srv.PID(), srv.URL, srv.DataDir, gitDir)
	o := c.Options
	o.Server = srv.URL
	o.GitRemote = gitDir
	o.PID = srv.PID()
	drained := make(chan struct{})
	drainCtx, stopDrain := context.WithCancel(ctx)
	if backlog != nil {
		// The environments exist; versions go on after the backlog's.
		o.Setup = ""
		o.FirstVersion += int64((c.backlog+o.Apps-1)/o.Apps) + 1
		go func() {
			defer close(drained)
			watchDrain(drainCtx, srv.URL, backlogLast, backlog)
		}()
	} else {
		close(drained)
	}
	var rep *Report
	var runErr error
	if sc.run != nil {
		rep, runErr = sc.run(m, ctx, c, o)
	} else {
		rep, runErr = Run(ctx, o, m.Stderr)
	}
	if runErr == nil {
		// Once the measured releases are in Git, the backlog before them
		// is: the export status says so within a poll.
		select {
		case <-drained:
		case <-time.After(c.GitTimeout):
		}
	}
	stopDrain()
	<-drained
	if err := srv.stop(time.Minute); err != nil && runErr == nil {
		fmt.Fprintf(m.Stderr, "scenario %s: stopping railyard serve: %v\n", sc.name, err)
	}
	if runErr != nil {
		return nil, runErr
	}
	rep.Scenario = sc.name
	rep.Remote, rep.Backlog = c.remote, backlog
	rep.Targets = sc.targets(rep)
	return rep, nil
}
