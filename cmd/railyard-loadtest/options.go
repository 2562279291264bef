package main

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Setups are the environment topologies --setup creates through
// Railyard's own API before the run.
const (
	// SetupChain: the first environment takes every new release
	// (upstream.latest), each next one has the previous as upstream.
	SetupChain = "chain"
	// SetupLatest: every environment takes every new release, so each
	// release is deployed everywhere it has a manifest.
	SetupLatest = "latest"
	// SetupGroup: the first environment takes every new release; the
	// others form the environment group --group with the first as
	// upstream, the target of a group release train.
	SetupGroup = "group"
)

// Options are the parameters of one load run. The zero value is not
// useful: start from DefaultOptions.
type Options struct {
	// Server is the base URL of the Kuberpult-compatible server.
	Server string
	// Apps is the number of applications; releases go round-robin over
	// app-00000 … app-<Apps-1>.
	Apps int
	// Envs are the environments every release has a manifest for.
	Envs []string
	// Clients is the number of concurrent workers.
	Clients int
	// Releases stops the run after this many release requests (0: no
	// limit); Duration stops it after this long (0: no limit). Whichever
	// comes first ends the run.
	Releases int
	Duration time.Duration
	// Rate is the open-loop target of operations per second; 0 runs a
	// closed loop (each worker sends its next request when the last one
	// is answered).
	Rate float64
	// ManifestSize is the size in bytes of each environment's manifest.
	ManifestSize int
	// Mix weighs the operations.
	Mix Mix
	// Team is the team every release names.
	Team string
	// FirstVersion is the version of each application's first release in
	// this run; later releases of the application count up from it.
	FirstVersion int64
	// Prepopulate is the number of releases published (and waited for in
	// Git) before the measured run.
	Prepopulate int
	// Setup creates the environments first (SetupChain, SetupLatest,
	// SetupGroup) through Railyard's /api/v1; "" leaves them as they are.
	Setup string
	// Group is the environment group of SetupGroup.
	Group string
	// TrainTarget is where release trains go: an environment name, or
	// "group:<name>" for an environment group. Default: the last
	// environment (or the group with SetupGroup).
	TrainTarget string
	// TrainTeam restricts trains to a team (?team=); "" sends none.
	TrainTeam string
	// GitRemote is the repository to watch (a local path or a URL), ""
	// for none; GitBranch is its branch.
	GitRemote string
	GitBranch string
	// GitPoll is how often the remote is polled (0: every 50 ms for a
	// local repository, every 500 ms for a URL); GitTimeout how long the
	// tool waits after the last acknowledgement for every release to
	// arrive.
	GitPoll    time.Duration
	GitTimeout time.Duration
	// PrepopulateTimeout bounds the wait for the prepopulated releases.
	PrepopulateTimeout time.Duration
	// PID is the server's process id for memory sampling (0: none).
	PID int
	// Seed makes the choice of operations and lock targets reproducible.
	Seed uint64
	// RequestTimeout bounds one request.
	RequestTimeout time.Duration
	// Progress prints a progress line on the progress writer every second.
	Progress bool
	// Stop, if set, ends the measured phase when it is closed (besides
	// Releases and Duration): the chaos scenario ends the load when its
	// plan is done.
	Stop <-chan struct{}
}

// DefaultOptions returns the defaults of the command-line flags.
func DefaultOptions() Options {
	return Options{
		Server:             "http://127.0.0.1:8080",
		Apps:               100,
		Envs:               envNames(3),
		Clients:            8,
		ManifestSize:       10240,
		Mix:                Mix{Releases: 100},
		Team:               "loadtest",
		FirstVersion:       1,
		Group:              "production",
		GitBranch:          "main",
		GitTimeout:         2 * time.Minute,
		PrepopulateTimeout: 30 * time.Minute,
		Seed:               1,
		RequestTimeout:     time.Minute,
	}
}

// envNames returns env-00 … env-<n-1>.
func envNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("env-%02d", i)
	}
	return names
}

// appName is the name of application i.
func appName(i int) string {
	return fmt.Sprintf("app-%05d", i)
}

// Validate checks the options and fills in the derived defaults.
func (o *Options) Validate() error {
	u, err := url.Parse(o.Server)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("--server %q must be an http or https URL", o.Server)
	case o.Apps <= 0:
		return fmt.Errorf("--apps must be positive, got %d", o.Apps)
	case len(o.Envs) == 0:
		return errors.New("--envs must be positive")
	case o.Clients <= 0:
		return fmt.Errorf("--clients must be positive, got %d", o.Clients)
	case o.Releases < 0 || o.Duration < 0 || o.Rate < 0 || o.Prepopulate < 0:
		return errors.New("--releases, --duration, --rate and --prepopulate must not be negative")
	case o.Releases == 0 && o.Duration == 0 && o.Stop == nil:
		return errors.New("give --releases, --duration or both: the run stops after whichever comes first")
	case o.Releases > 0 && o.Mix.Releases == 0 && o.Duration == 0:
		return errors.New("--mix sends no releases, so --releases never ends the run: give --duration")
	case o.ManifestSize < 512:
		return fmt.Errorf("--manifest-size must be at least 512 bytes, got %d", o.ManifestSize)
	case o.FirstVersion <= 0:
		return fmt.Errorf("--first-version must be positive, got %d", o.FirstVersion)
	case o.GitPoll < 0 || o.GitTimeout <= 0 || o.RequestTimeout <= 0 || o.PrepopulateTimeout <= 0:
		return errors.New("--git-poll must not be negative; --git-timeout, --prepopulate-timeout and --timeout must be positive")
	case o.PID < 0:
		return fmt.Errorf("--pid must be positive, got %d", o.PID)
	}
	o.Server = strings.TrimRight(o.Server, "/")
	for i, env := range o.Envs {
		if env == "" || strings.ContainsAny(env, "/[] ") {
			return fmt.Errorf("environment name %q is not usable", env)
		}
		if slices.Contains(o.Envs[:i], env) {
			return fmt.Errorf("environment %q is named twice", env)
		}
	}
	switch o.Setup {
	case "", SetupChain, SetupLatest:
	case SetupGroup:
		if len(o.Envs) < 2 {
			return errors.New("--setup group needs at least two environments: the upstream and the group's members")
		}
	default:
		return fmt.Errorf("--setup %q is not known: use chain, latest or group", o.Setup)
	}
	if o.TrainTarget == "" {
		o.TrainTarget = o.Envs[len(o.Envs)-1]
		if o.Setup == SetupGroup {
			o.TrainTarget = "group:" + o.Group
		}
	}
	return o.Mix.validate()
}

// Mix weighs the operations of a run: each operation is a release, a
// lock operation or a release train with probability weight/total.
type Mix struct {
	Releases int `json:"releases"`
	Locks    int `json:"locks"`
	Trains   int `json:"trains"`
}

// ParseMix parses "releases=90,locks=8,trains=2". Names left out weigh 0.
func ParseMix(s string) (Mix, error) {
	var m Mix
	seen := map[string]bool{}
	for item := range strings.SplitSeq(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return Mix{}, fmt.Errorf("mix %q: %q is not name=weight", s, item)
		}
		if seen[name] {
			return Mix{}, fmt.Errorf("mix %q: %s is given twice", s, name)
		}
		seen[name] = true
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 {
			return Mix{}, fmt.Errorf("mix %q: weight %q of %s must be a whole number ≥ 0", s, value, name)
		}
		switch name {
		case "releases":
			m.Releases = n
		case "locks":
			m.Locks = n
		case "trains":
			m.Trains = n
		default:
			return Mix{}, fmt.Errorf("mix %q: %q is not an operation: use releases, locks and trains", s, name)
		}
	}
	return m, m.validate()
}

func (m Mix) validate() error {
	if m.Releases+m.Locks+m.Trains <= 0 {
		return errors.New("the mix must give some operation a positive weight")
	}
	return nil
}

// String formats the mix as ParseMix reads it.
func (m Mix) String() string {
	return fmt.Sprintf("releases=%d,locks=%d,trains=%d", m.Releases, m.Locks, m.Trains)
}

// op is the kind of an operation.
type op int

const (
	opRelease op = iota
	opLockCreate
	opLockDelete
	opTrain
	numOps
)

// opNames are the operation names of the report.
var opNames = [numOps]string{"release", "lock-create", "lock-delete", "train"}

// pick chooses an operation kind from a number in [0, m.total(…)):
// a release, a lock operation (create or delete: the caller decides) or a
// train. Trains come last, so a total without them never picks one.
func (m Mix) pick(n int) op {
	if n < m.Releases {
		return opRelease
	}
	if n < m.Releases+m.Locks {
		return opLockCreate
	}
	return opTrain
}

// total is the sum of the weights, without trains when noTrains is set.
func (m Mix) total(noTrains bool) int {
	if noTrains {
		return m.Releases + m.Locks
	}
	return m.Releases + m.Locks + m.Trains
}
