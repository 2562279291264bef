package gitrepo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/argocd"
	"github.com/railyard-cd/railyard/gitrepo"
	"github.com/railyard-cd/railyard/sqlite"
)

// The export property: whatever sequence of commands the engine accepts,
// every event it records is exported exactly once — one commit per event,
// trailers Railyard-Event 1..N in order on the branch's first-parent
// chain — and the repository passes `git fsck --strict`. It holds for an
// exporter committing in place and for one pushing to a remote, across
// restarts and batch boundaries at random points.
//
// The normal suite runs the fixed seeds of propRegressionSeeds, so that
// CI is deterministic. Random
// seeds are for exploring (-runs or RAILYARD_PROPERTY_RUNS); to replay a
// failure, or to explore longer:
//
//	go test ./gitrepo -run TestExportProperty -args -seed=N [-steps=N]
//	RAILYARD_PROPERTY_SEED=N go test ./gitrepo -run TestExportProperty
//	RAILYARD_PROPERTY_RUNS=200 RAILYARD_PROPERTY_STEPS=1000 go test ./gitrepo -run TestExportProperty -timeout 1h
//
// -batch (RAILYARD_PROPERTY_BATCH) sets the exporters' batch size, which
// the seed otherwise chooses between 25 and 500; -avoid
// (RAILYARD_PROPERTY_AVOID) leaves out classes of input, to explore past
// a known failure while its fix is under way.
var (
	propSeed  = flag.Uint64("seed", 0, "export property: seed of the one run to replay (0: random seeds; env RAILYARD_PROPERTY_SEED)")
	propRuns  = flag.Int("runs", 0, "export property: number of random runs (default none: the regression seeds only; env RAILYARD_PROPERTY_RUNS)")
	propSteps = flag.Int("steps", 0, "export property: steps per run (default 120, 50 with -short; env RAILYARD_PROPERTY_STEPS)")
	propBatch = flag.Int("batch", 0, "export property: the exporters' batch size (default: 25 or 500, chosen by the seed; env RAILYARD_PROPERTY_BATCH)")
	propAvoid = flag.String("avoid", "", "export property: classes of input to leave out, comma-separated: control, big-version, argocd, cleaned-up (env RAILYARD_PROPERTY_AVOID)")
)

// propSettings are the runs of the export property that the flags (or
// the environment) ask for.
type propSettings struct {
	seeds []uint64
	steps int
	// batch is the exporters' batch size, 0 for the seed's choice.
	batch int
	avoid map[string]bool
}

// propertySettings reads the flags, falling back to the environment.
func propertySettings(t *testing.T) propSettings {
	t.Helper()
	seed := *propSeed
	ps := propSettings{steps: *propSteps, batch: *propBatch, avoid: map[string]bool{}}
	runs := *propRuns
	for name, p := range map[string]*int{"RAILYARD_PROPERTY_RUNS": &runs, "RAILYARD_PROPERTY_STEPS": &ps.steps, "RAILYARD_PROPERTY_BATCH": &ps.batch} {
		if v := os.Getenv(name); v != "" && *p == 0 {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				t.Fatalf("%s=%q: want a whole number", name, v)
			}
			*p = n
		}
	}
	if v := os.Getenv("RAILYARD_PROPERTY_SEED"); v != "" && seed == 0 {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("RAILYARD_PROPERTY_SEED=%q: want a whole number", v)
		}
		seed = n
	}
	if ps.steps == 0 {
		ps.steps = 120
		if testing.Short() {
			ps.steps = 50
		}
	}
	ps.avoid = propertyAvoid(t)
	if seed != 0 {
		ps.seeds = []uint64{seed}
		return ps
	}
	if runs == 0 {
		ps.seeds = propRegressionSeeds
		return ps
	}
	for range runs {
		ps.seeds = append(ps.seeds, rand.Uint64()>>1) // >>1: fits the -seed flag of any tool
	}
	return ps
}

// propRegressionSeeds are the seeds the normal suite runs: sequences
// that exercise much (many events, restarts, both batch sizes) and every
// seed that once failed. Add the seed of each new failure with its fix.
var propRegressionSeeds = []uint64{
	2764167229628586339, // 120 events, batch size 500, 3 restarts
	1632495366997437069, // 49 events, batch size 25: batch boundaries
	3297900354905880300, // 28 events, batch size 25, 5 restarts
	// Every command of the run was refused: no event, no branch, and the
	// check ran git fsck on an empty repository (a harness bug).
	458236703059273652,
	1371119395523723925,
}

// replay returns the flags that replay seed up to step.
func (ps propSettings) replay(seed uint64, step int) string {
	flags := fmt.Sprintf("-seed=%d -steps=%d", seed, step)
	if ps.batch > 0 {
		flags += fmt.Sprintf(" -batch=%d", ps.batch)
	}
	if len(ps.avoid) > 0 {
		flags += " -avoid=" + strings.Join(slices.Sorted(maps.Keys(ps.avoid)), ",")
	}
	return flags
}

// propertyAvoid reads -avoid (or RAILYARD_PROPERTY_AVOID).
func propertyAvoid(t *testing.T) map[string]bool {
	t.Helper()
	list := *propAvoid
	if list == "" {
		list = os.Getenv("RAILYARD_PROPERTY_AVOID")
	}
	avoid := map[string]bool{}
	for _, class := range strings.Split(list, ",") {
		if class = strings.TrimSpace(class); class == "" {
			continue
		}
		if _, ok := propAvoidClasses[class]; !ok {
			t.Fatalf("-avoid %q: no such class of input; the classes are %v", class, slices.Sorted(maps.Keys(propAvoidClasses)))
		}
		avoid[class] = true
	}
	return avoid
}

// TestExportProperty checks the export property on random command
// sequences (see the comment above for replaying a seed).
func TestExportProperty(t *testing.T) {
	t.Parallel()
	ps := propertySettings(t)
	for _, seed := range ps.seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := newPropRun(t, seed, ps)
			if err := r.run(ps.steps); err != nil {
				t.Errorf("export property failed with seed %d: %v\n\nreplay: go test ./gitrepo -run TestExportProperty -args %s\n%s",
					seed, err, ps.replay(seed, r.step), r.history())
			}
			t.Logf("seed %d: %d steps, %d events, batch size %d, %d batches of commands accepted, %d refused, %d restarts; refusals: %v",
				seed, r.step, r.lastEvent(), r.batchSize, r.accepted, r.refused, r.restarts, r.refusals)
		})
	}
}

// propRun is one run of the property: an engine over real SQLite and two
// exporters of its events, one committing in place, one pushing to a
// remote bare repository.
type propRun struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	rng  *rand.Rand
	gen  *propGen
	eng  *railyard.Engine
	now  time.Time
	step int
	// scheduled is when scheduled trains were last run for.
	scheduled time.Time
	targets   []*propTarget
	batchSize int
	// recent are the last accepted batches, for the failure report.
	recent            []string
	accepted, refused int
	// refusals counts refused batches by command kind, error code and
	// field, to keep the generator honest: most of what it sends should be
	// accepted.
	refusals    map[string]int
	restarts    int
	lastEventID int64
}

// propTarget is one exporter and the repository whose branch it writes.
type propTarget struct {
	name      string
	dir       string // the exporter's repository
	remoteURL string // "" when dir is the published repository
	published string // the repository the branch is checked in
	x         *gitrepo.Exporter
}

// propStart is the clock's start: a Monday morning, when deploy windows
// of working hours are open.
var propStart = time.Date(2026, 11, 2, 8, 30, 0, 0, time.UTC)

func newPropRun(t *testing.T, seed uint64, ps propSettings) *propRun {
	t.Helper()
	dir := t.TempDir()
	db := sqlite.NewDB(filepath.Join(dir, "railyard.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &propRun{t: t, ctx: context.Background(), dir: dir, rng: rand.New(rand.NewPCG(seed, 0x5eed)), now: propStart, scheduled: propStart, refusals: map[string]int{}}
	r.eng = railyard.NewEngine(db)
	r.eng.Now = func() time.Time { return r.now }
	r.gen = &propGen{rng: r.rng, eng: r.eng, now: func() time.Time { return r.now }, avoid: ps.avoid}
	// Batch boundaries fall inside syncs and inside multi-command
	// batches; smaller batches (-batch) cost a push each.
	r.batchSize = []int{25, 500}[r.rng.IntN(2)]
	if ps.batch > 0 {
		r.batchSize = ps.batch
	}
	remote := filepath.Join(dir, "remote.git")
	if err := gitrepo.InitBare(r.ctx, remote, "main"); err != nil {
		t.Fatal(err)
	}
	remoteURL := remote
	if r.rng.IntN(2) == 0 {
		remoteURL = "file://" + remote
	}
	local := filepath.Join(dir, "manifests.git")
	r.targets = []*propTarget{
		{name: "in place", dir: local, published: local},
		{name: "pushing to a remote", dir: filepath.Join(dir, "work.git"), remoteURL: remoteURL, published: remote},
	}
	for _, tg := range r.targets {
		if err := r.open(tg); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// open starts a new exporter over the target's repositories, as a
// restarted server does.
func (r *propRun) open(tg *propTarget) error {
	tg.x = gitrepo.NewExporter(r.eng, gitrepo.Config{
		Dir:       tg.dir,
		RemoteURL: tg.remoteURL,
		ArgoCD:    argocd.Options{RepoURL: "https://git.example.com/manifests.git", TargetRevision: "main"},
		BatchSize: r.batchSize,
		Now:       func() time.Time { return r.now },
	})
	return tg.x.Open(r.ctx)
}

// run applies steps random steps, exporting and restarting the exporters
// at random points, then checks both repositories.
func (r *propRun) run(steps int) error {
	for r.step = 1; r.step <= steps; r.step++ {
		r.advanceClock()
		if err := r.act(); err != nil {
			return fmt.Errorf("step %d: %w", r.step, err)
		}
		// Every git process counts: about seven syncs in the default
		// run, a third of them after a restart.
		if r.rng.IntN(100) < 6 {
			if err := r.export(r.rng.IntN(100) < 33); err != nil {
				return fmt.Errorf("step %d: %w", r.step, err)
			}
		}
	}
	r.step--
	if err := r.export(true); err != nil {
		return fmt.Errorf("final export: %w", err)
	}
	return r.checkRepositories()
}

// advanceClock moves the clock forward: mostly seconds or minutes,
// sometimes hours or days, past lock expiries and deploy windows; and
// rarely back, as a server's clock does when it is corrected.
func (r *propRun) advanceClock() {
	var d time.Duration
	switch n := r.rng.IntN(100); {
	case n < 1:
		d = -time.Duration(r.rng.Int64N(int64(time.Hour)))
	case n < 85:
		d = time.Duration(r.rng.Int64N(int64(2 * time.Minute)))
	case n < 97:
		d = time.Duration(r.rng.Int64N(int64(3 * time.Hour)))
	default:
		d = time.Duration(r.rng.Int64N(int64(72 * time.Hour)))
	}
	r.now = r.now.Add(d + time.Microsecond)
}

// act applies one step: a command, a batch, the scheduler, or a train's
// prognosis (which must change nothing).
func (r *propRun) act() error {
	switch n := r.rng.IntN(100); {
	case n < 80:
		return r.apply(r.gen.actor(), r.gen.command())
	case n < 86:
		cmds := make([]railyard.Command, 2+r.rng.IntN(4))
		for i := range cmds {
			cmds[i] = r.gen.command()
		}
		return r.apply(r.gen.actor(), cmds...)
	case n < 89:
		return r.apply(r.gen.actor(), r.gen.burst()...)
	case n < 91:
		return r.apply(r.gen.actor(), r.gen.retire(r.gen.app())...)
	case n < 95:
		return r.runScheduledTrains()
	default:
		return r.prognosis()
	}
}

// apply applies commands as one batch. A refusal with a domain error is
// fine; an internal error (a 500) or a panic is not.
func (r *propRun) apply(actor railyard.Actor, cmds ...railyard.Command) (err error) {
	desc := describeBatch(actor, cmds)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("engine panicked applying %s: %v\n%s", desc, p, debug.Stack())
		}
	}()
	results, err := r.eng.Apply(r.ctx, actor, cmds...)
	if err != nil {
		if railyard.ErrorCode(err) == railyard.EINTERNAL {
			return fmt.Errorf("engine failed with an internal error (a 500) on %s: %v", desc, err)
		}
		r.refused++
		de := railyard.AsError(err)
		r.refusals[cmds[0].Kind()+" "+de.Code+" "+de.Field]++
		return nil
	}
	r.accepted++
	var ids []string
	for _, res := range results {
		if res.Event != nil {
			ids = append(ids, strconv.FormatInt(res.Event.ID, 10))
		}
	}
	r.remember(fmt.Sprintf("step %d, events [%s]: %s", r.step, strings.Join(ids, " "), desc))
	return nil
}

// runScheduledTrains runs the scheduler's trains that fired since the last
// time, as serve does.
func (r *propRun) runScheduledTrains() error {
	since := r.scheduled
	r.scheduled = r.now
	if !since.Before(r.now) {
		return nil
	}
	events, err := r.eng.RunScheduledTrains(r.ctx, since, r.now)
	if err != nil && railyard.ErrorCode(err) == railyard.EINTERNAL {
		return fmt.Errorf("scheduled trains failed with an internal error: %v", err)
	}
	for _, ev := range events {
		r.remember(fmt.Sprintf("step %d, event %d: scheduled train: %s", r.step, ev.ID, railyard.Truncate(ev.Description, 200)))
	}
	return nil
}

// prognosis computes a train's prognosis (a dry run), which must record
// nothing.
func (r *propRun) prognosis() error {
	before, err := r.eng.LastEventID(r.ctx)
	if err != nil {
		return err
	}
	if _, err := r.eng.Prognosis(r.ctx, r.gen.train()); err != nil && railyard.ErrorCode(err) == railyard.EINTERNAL {
		return fmt.Errorf("prognosis failed with an internal error: %v", err)
	}
	after, err := r.eng.LastEventID(r.ctx)
	if err != nil {
		return err
	}
	if after != before {
		return fmt.Errorf("a release train's prognosis (a dry run) recorded events %d..%d", before+1, after)
	}
	return nil
}

// export syncs both exporters, after restarting them if restart is set,
// and checks that each has exported every event.
func (r *propRun) export(restart bool) error {
	if restart {
		r.restarts++
	}
	last, err := r.eng.LastEventID(r.ctx)
	if err != nil {
		return err
	}
	r.lastEventID = last
	for _, tg := range r.targets {
		if restart {
			if err := r.open(tg); err != nil {
				return fmt.Errorf("exporter %s: reopen: %w", tg.name, err)
			}
		}
		if err := syncRecovering(r.ctx, tg.x); err != nil {
			return fmt.Errorf("exporter %s: %w%s", tg.name, err, r.pendingEvent(tg.x))
		}
		st, err := tg.x.Status(r.ctx)
		if err != nil {
			return err
		}
		if st.LastExportedEventID != last || st.PendingEvents != 0 || st.LastError != "" {
			return fmt.Errorf("exporter %s: after a successful sync the status says last exported %d of %d, %d pending, error %q",
				tg.name, st.LastExportedEventID, last, st.PendingEvents, st.LastError)
		}
		// Check the branch after every sync, so that a hidden trailer
		// or a duplicate shows at the step that wrote it.
		if err := checkHistory(tg.published, last); err != nil {
			return fmt.Errorf("exporter %s: %w", tg.name, err)
		}
	}
	return nil
}

// syncRecovering runs one Sync and turns a panic into an error: the
// exporter must never take the process down.
func syncRecovering(ctx context.Context, x *gitrepo.Exporter) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sync panicked: %v\n%s", p, debug.Stack())
		}
	}()
	if err := x.Sync(ctx); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}

// pendingEvent describes the first event x has not exported: the first
// of the batch its sync failed on (the error names the event when the
// exporter knows it).
func (r *propRun) pendingEvent(x *gitrepo.Exporter) string {
	st, err := x.Status(r.ctx)
	if err != nil {
		return ""
	}
	events, err := r.eng.FindEvents(r.ctx, railyard.EventFilter{AfterID: st.LastExportedEventID, Ascending: true, Limit: 1})
	if err != nil || len(events) == 0 {
		return ""
	}
	ev := events[0]
	return fmt.Sprintf("\nthe failing batch starts with event %d (%s) by %q: %s\npayload: %s", ev.ID, ev.Kind, ev.Actor.String(),
		railyard.Truncate(ev.Description, 300), railyard.Truncate(string(ev.Payload), 1500))
}

// checkRepositories checks the final state: every event once, in order,
// in both repositories; the same commits in both modes; git fsck clean.
func (r *propRun) checkRepositories() error {
	var heads []string
	for _, tg := range r.targets {
		if err := checkHistory(tg.published, r.lastEventID); err != nil {
			return fmt.Errorf("exporter %s: %w", tg.name, err)
		}
		for _, repo := range []string{tg.dir, tg.published} {
			if r.lastEventID == 0 {
				break // nothing written: git fsck only notices the unborn branch
			}
			if err := fsck(repo); err != nil {
				return fmt.Errorf("exporter %s: %w", tg.name, err)
			}
		}
		head, err := git(tg.published, "rev-parse", "--verify", "--quiet", "refs/heads/main")
		if err != nil && r.lastEventID > 0 {
			return fmt.Errorf("exporter %s: no branch main after %d events: %w", tg.name, r.lastEventID, err)
		}
		heads = append(heads, strings.TrimSpace(head))
	}
	// Commits are a function of the events: both modes write the same.
	if heads[0] != heads[1] {
		return fmt.Errorf("the exporter %s and the exporter %s wrote different commits: heads %s and %s",
			r.targets[0].name, r.targets[1].name, heads[0], heads[1])
	}
	return nil
}

// checkHistory checks that the first-parent chain of main in repo is one
// commit per event 1..last, in order, each with exactly one
// Railyard-Event trailer.
func checkHistory(repo string, last int64) error {
	out, err := git(repo, "log", "--first-parent", "--reverse", "-z",
		"--format=%H %(trailers:key="+gitrepo.EventTrailer+",valueonly,separator=%x2C)", "refs/heads/main", "--")
	if err != nil {
		if last == 0 {
			return nil // no event, no branch
		}
		return fmt.Errorf("read the history of main: %w", err)
	}
	var commits []string
	if out = strings.TrimSuffix(out, "\x00"); out != "" {
		commits = strings.Split(out, "\x00")
	}
	for i, c := range commits {
		sha, trailer, _ := strings.Cut(strings.TrimSpace(c), " ")
		want := strconv.Itoa(i + 1)
		if trailer != want {
			raw, _ := git(repo, "cat-file", "commit", sha)
			return fmt.Errorf("commit %d of main (%.12s) carries %s %q, want %q: an event is missing, duplicated or out of order (%d commits for %d events); the commit:\n%s",
				i+1, sha, gitrepo.EventTrailer, trailer, want, len(commits), last, railyard.Truncate(strconv.Quote(raw), 1500))
		}
	}
	if int64(len(commits)) != last {
		return fmt.Errorf("main has %d commits for %d events", len(commits), last)
	}
	return nil
}

// fsck runs git fsck --strict on repo; any complaint, even a warning,
// fails.
func fsck(repo string) error {
	cmd := exec.Command("git", "--git-dir", repo, "fsck", "--strict", "--no-dangling", "--no-progress")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil || strings.TrimSpace(out.String()) != "" {
		return fmt.Errorf("git fsck --strict %s: %v\n%s", repo, err, railyard.Truncate(out.String(), 2000))
	}
	return nil
}

// git runs git in repo and returns its standard output.
func git(repo string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"--git-dir", repo}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return "", err
	}
	return string(out), nil
}

// remember keeps the description of an accepted batch for the failure
// report.
func (r *propRun) remember(s string) {
	const keep = 12
	r.recent = append(r.recent, s)
	if len(r.recent) > keep {
		r.recent = r.recent[len(r.recent)-keep:]
	}
}

// history is the failure report's list of the last accepted batches.
func (r *propRun) history() string {
	if len(r.recent) == 0 {
		return "no command was accepted"
	}
	return "last accepted commands:\n  " + strings.Join(r.recent, "\n  ")
}

// lastEvent returns the newest event id.
func (r *propRun) lastEvent() int64 {
	id, _ := r.eng.LastEventID(r.ctx)
	return id
}

// describeBatch shows a batch as the JSON of its commands, each cut short.
func describeBatch(actor railyard.Actor, cmds []railyard.Command) string {
	parts := make([]string, len(cmds))
	for i, c := range cmds {
		js, _ := json.Marshal(c)
		parts[i] = c.Kind() + " " + railyard.Truncate(string(js), 400)
	}
	return fmt.Sprintf("by %q: %s", actor.String(), strings.Join(parts, "; "))
}
