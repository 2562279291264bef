package railyard_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/sqlite"
)

// benchApps is the size of the release train benchmarks (BENCHMARKS.md:
// a train over 2,000 applications under 1 s with the commit, its
// prognosis under 300 ms).
const benchApps = 2000

// trainBench sets up blue (running version 1 of every application) and
// green (running version 2), and production, which the benchmarks point
// at one or the other so that every train deploys every application.
func trainBench(b *testing.B) *harness {
	h := newHarness(b)
	for _, env := range []string{"blue", "green", "production"} {
		h.put(env, railyard.EnvironmentConfig{})
	}
	ctx := context.Background()
	apply := func(cmds []railyard.Command) {
		for len(cmds) > 0 {
			n := min(len(cmds), railyard.MaxBatchCommands)
			if _, err := h.eng.Apply(ctx, alice, cmds[:n]...); err != nil {
				b.Fatal(err)
			}
			cmds = cmds[n:]
		}
	}
	var cmds []railyard.Command
	for i := range benchApps {
		for v := int64(1); v <= 2; v++ {
			cmds = append(cmds, releaseCmd(fmt.Sprintf("app-%04d", i), v, fmt.Sprintf("team-%d", i%20), "blue", "green", "production"))
		}
	}
	apply(cmds)
	cmds = cmds[:0]
	for i := range benchApps {
		app := fmt.Sprintf("app-%04d", i)
		cmds = append(cmds, &railyard.Deploy{Application: app, Environment: "blue", Version: 1},
			&railyard.Deploy{Application: app, Environment: "green", Version: 2})
	}
	apply(cmds)
	return h
}

func BenchmarkReleaseTrain2000(b *testing.B) {
	h := trainBench(b)
	ctx := context.Background()
	upstreams := []string{"green", "blue"}
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		h.put("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: upstreams[i%2]}})
		b.StartTimer()
		res, err := h.eng.ApplyOne(ctx, alice, &railyard.ReleaseTrain{Environment: "production"})
		if err != nil {
			b.Fatal(err)
		}
		if res.Train.Deployed != benchApps {
			b.Fatalf("deployed %d, want %d", res.Train.Deployed, benchApps)
		}
	}
}

func BenchmarkPrognosis2000(b *testing.B) {
	h := trainBench(b)
	h.put("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "green"}})
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		res, err := h.eng.Prognosis(ctx, &railyard.ReleaseTrain{Environment: "production"})
		if err != nil {
			b.Fatal(err)
		}
		if res.Deployed != benchApps {
			b.Fatalf("would deploy %d, want %d", res.Deployed, benchApps)
		}
	}
}

// groupBenchApps and groupBenchMembers are the size of the train under
// load (issue 12, target 6): 5,000 applications into a group of 5.
const (
	groupBenchApps    = 5000
	groupBenchMembers = 5
	// groupBenchReleasers publish releases while the train runs.
	groupBenchReleasers = 4
	// releasesBetweenTrains are published before each train, so that
	// it deploys about 250 (scenario c: 49 releases and 1 train a second).
	releasesBetweenTrains = 50
)

// timedStore measures how long each Update's function holds the single
// writer (the commit's fsync excluded), for the Updates whose context
// carries a *time.Duration under timedKey.
type timedStore struct {
	railyard.Store
}

type timedKey struct{}

func (s timedStore) Update(ctx context.Context, fn func(railyard.Tx) error) error {
	d, ok := ctx.Value(timedKey{}).(*time.Duration)
	if !ok {
		return s.Store.Update(ctx, fn)
	}
	return s.Store.Update(ctx, func(tx railyard.Tx) (err error) {
		start := time.Now()
		// Labelled for the profile: go tool pprof -tagfocus op=train-write.
		pprof.Do(ctx, pprof.Labels("op", "train-write"), func(context.Context) { err = fn(tx) })
		*d += time.Since(start)
		return err
	})
}

// groupBench sets up staging (every new release) and the group
// production of prod-1 … prod-5 fed from staging, with version 1 of
// every application in staging.
func groupBench(b *testing.B) *harness {
	h := newHarness(b)
	db := sqlite.NewDB(filepath.Join(b.TempDir(), "group.db"))
	if err := db.Open(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	h.eng = railyard.NewEngine(timedStore{db})
	h.eng.Now = func() time.Time { return h.now }
	h.put("staging", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}})
	envs := []string{"staging"}
	for i := 1; i <= groupBenchMembers; i++ {
		name := fmt.Sprintf("prod-%d", i)
		envs = append(envs, name)
		h.put(name, railyard.EnvironmentConfig{EnvironmentGroup: "production", Upstream: &railyard.Upstream{Environment: "staging"}})
	}
	var cmds []railyard.Command
	for i := range groupBenchApps {
		cmds = append(cmds, releaseCmd(fmt.Sprintf("app-%04d", i), 1, fmt.Sprintf("team-%d", i%20), envs...))
	}
	for len(cmds) > 0 {
		n := min(len(cmds), railyard.MaxBatchCommands)
		if _, err := h.eng.Apply(context.Background(), alice, cmds[:n]...); err != nil {
			b.Fatal(err)
		}
		cmds = cmds[n:]
	}
	return h
}

// trainRun is what one train under load measured.
type trainRun struct {
	total, writer time.Duration
	// slowestRelease is the slowest release whose request overlapped
	// the train; releases counts them.
	slowestRelease time.Duration
	releases       int
	// slowestIdle is the slowest of as many releases without a train.
	slowestIdle time.Duration
	deployed    int
}

// releaser publishes new versions of its share of the applications
// until stop is closed, reporting each request's start and end.
type releaser struct {
	h       *harness
	apps    []string
	version map[string]int64
}

type span struct{ start, end time.Time }

func (r *releaser) run(stop <-chan struct{}, spans chan<- span, envs []string) error {
	ctx := context.Background()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return nil
		default:
		}
		app := r.apps[i%len(r.apps)]
		r.version[app]++
		start := time.Now()
		_, err := r.h.eng.ApplyOne(ctx, bob, releaseCmd(app, r.version[app], "", envs...))
		if err != nil {
			return err
		}
		spans <- span{start, time.Now()}
	}
}

// trainUnderLoad runs one group train while releasers publish, and
// returns its figures. The train starts once every releaser has
// published a release, so that the train overlaps them.
func trainUnderLoad(b *testing.B, h *harness, releasers []*releaser, envs []string) trainRun {
	stop := make(chan struct{})
	spans := make(chan span, 1<<16)
	errs := make(chan error, len(releasers))
	for _, r := range releasers {
		go func() { errs <- r.run(stop, spans, envs) }()
	}
	for range releasesBetweenTrains {
		<-spans // what the train takes: 10 s of releases at 5/s
	}
	var run trainRun
	ctx := context.WithValue(context.Background(), timedKey{}, &run.writer)
	start := time.Now()
	res, err := h.eng.ApplyOne(ctx, alice, &railyard.ReleaseTrain{Group: "production"})
	end := time.Now()
	close(stop)
	for range releasers {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	close(spans)
	if err != nil {
		b.Fatal(err)
	}
	run.total, run.deployed = end.Sub(start), res.Train.Deployed
	for s := range spans {
		if s.start.Before(end) && s.end.After(start) {
			run.releases++
			run.slowestRelease = max(run.slowestRelease, s.end.Sub(s.start))
		}
	}
	run.slowestIdle = slowestWithoutTrain(b, releasers, envs, run.releases)
	return run
}

// slowestWithoutTrain publishes n releases with no train: the slowest of
// them is what the machine gives anyway.
func slowestWithoutTrain(b *testing.B, releasers []*releaser, envs []string, n int) time.Duration {
	stop := make(chan struct{})
	spans := make(chan span, 1<<16)
	errs := make(chan error, len(releasers))
	for _, r := range releasers {
		go func() { errs <- r.run(stop, spans, envs) }()
	}
	var slowest time.Duration
	for range max(n, releasesBetweenTrains) {
		s := <-spans
		slowest = max(slowest, s.end.Sub(s.start))
	}
	close(stop)
	for range releasers {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	close(spans)
	for s := range spans {
		slowest = max(slowest, s.end.Sub(s.start))
	}
	return slowest
}

// BenchmarkReleaseTrainGroupUnderLoad runs a release train over 5,000
// applications into a group of 5 environments while releases are
// published concurrently (BENCHMARKS.md, "Release trains under load").
// The first train deploys all 25,000; each later one deploys what was
// released since. It reports the time the train holds the single writer
// (writer-ms), its total time, and the slowest release whose request
// overlapped it (release-max-ms) next to the slowest release in as long
// without a train (no-train-release-max-ms), as medians over the iterations; the
// first train's figures are reported separately (first-*).
func BenchmarkReleaseTrainGroupUnderLoad(b *testing.B) {
	h := groupBench(b)
	envs := []string{"staging"}
	for i := 1; i <= groupBenchMembers; i++ {
		envs = append(envs, fmt.Sprintf("prod-%d", i))
	}
	releasers := make([]*releaser, groupBenchReleasers)
	for g := range releasers {
		r := &releaser{h: h, version: map[string]int64{}}
		for i := g; i < groupBenchApps; i += groupBenchReleasers {
			app := fmt.Sprintf("app-%04d", i)
			r.apps = append(r.apps, app)
			r.version[app] = 1
		}
		releasers[g] = r
	}
	first := trainUnderLoad(b, h, releasers, envs)
	var runs []trainRun
	b.ResetTimer()
	for range b.N {
		runs = append(runs, trainUnderLoad(b, h, releasers, envs))
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	median := func(f func(trainRun) time.Duration) float64 {
		v := make([]time.Duration, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return ms(v[len(v)/2])
	}
	b.ReportMetric(ms(first.writer), "first-writer-ms")
	b.ReportMetric(ms(first.total), "first-total-ms")
	b.ReportMetric(ms(first.slowestRelease), "first-release-max-ms")
	b.ReportMetric(float64(first.deployed), "first-deployed")
	b.ReportMetric(median(func(r trainRun) time.Duration { return r.writer }), "writer-ms")
	b.ReportMetric(median(func(r trainRun) time.Duration { return r.total }), "total-ms")
	b.ReportMetric(median(func(r trainRun) time.Duration { return r.slowestRelease }), "release-max-ms")
	b.ReportMetric(median(func(r trainRun) time.Duration { return r.slowestIdle }), "no-train-release-max-ms")
	deployed, writer := 0, time.Duration(0)
	for _, r := range runs {
		deployed, writer = deployed+r.deployed, writer+r.writer
	}
	b.ReportMetric(float64(deployed)/float64(len(runs)), "deployed/op")
	// The writer's time grows with what the train writes, which grows
	// with how long it took to plan: per deployment compares runs.
	b.ReportMetric(float64(writer.Microseconds())/float64(max(deployed, 1)), "writer-us/deployed")
}
