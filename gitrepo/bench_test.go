package gitrepo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// manifest10KB is a 10 KB manifest, different per application and version.
func manifest10KB(app string, version int64, env string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  labels:\n    env: %s\ndata:\n  version: \"%d\"\n", app, env, version)
	for i := 0; b.Len() < 10<<10; i++ {
		fmt.Fprintf(&b, "  key%04d: value-%s-%d-%04d\n", i, app, version, i)
	}
	return b.String()
}

func releaseWith10KB(app string, version int64, envs []string) *railyard.CreateRelease {
	m := make(map[string]string, len(envs))
	for _, env := range envs {
		m[env] = manifest10KB(app, version, env)
	}
	return &railyard.CreateRelease{Application: app, Version: version, Team: "team-" + app[len(app)-1:], Manifests: m,
		SourceCommitID: "0123456789abcdef0123456789abcdef01234567", SourceAuthor: "CI <ci@example.com>", SourceMessage: "Build " + app}
}

// seed creates envs (all upstream.latest) and apps applications deployed
// in every one of them, and exports it all.
func seed(b *testing.B, e *testEnv, envs []string, apps int) {
	b.Helper()
	var cmds []railyard.Command
	for _, env := range envs {
		cmds = append(cmds, envCmd(env, railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	}
	e.must(cmds...)
	for i := 0; i < apps; i += 100 {
		cmds = cmds[:0]
		for j := i; j < min(i+100, apps); j++ {
			cmds = append(cmds, releaseWith10KB(fmt.Sprintf("app-%05d", j), 1, envs))
		}
		e.must(cmds...)
	}
	e.sync()
}

// BenchmarkExportDeploy exports one deploy event into a small repository
// and into one with 5,000 applications × 10 environments, committing in
// place as serve does by default (mode=local) and pushing to a remote:
// the cost of an event must not depend on the repository's size. Besides
// the mean it reports the median and the slowest event.
func BenchmarkExportDeploy(b *testing.B) {
	for _, size := range []struct {
		name       string
		apps, envs int
	}{{"apps=10,envs=1", 10, 1}, {"apps=5000,envs=10", 5000, 10}} {
		for _, mode := range []string{"local", "remote"} {
			for _, w := range benchWriters {
				b.Run(size.name+"/mode="+mode+"/"+w.name, func(b *testing.B) {
					benchmarkExportDeploy(b, w.open, mode == "local", size.apps, size.envs)
				})
			}
		}
	}
}

// benchmarkExportDeploy is BenchmarkExportDeploy with one writer.
func benchmarkExportDeploy(b *testing.B, open openWriterFunc, local bool, apps, envCount int) {
	e := newTestEnvMode(b, local)
	e.x.openWriter = open
	var envs []string
	for i := 0; i < envCount; i++ {
		envs = append(envs, fmt.Sprintf("env-%02d", i))
	}
	seed(b, e, envs, apps)
	// Two releases of the app to deploy alternately.
	e.must(releaseWith10KB("app-00001", 2, envs))
	e.sync()
	ctx := context.Background()
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e.must(&railyard.Deploy{Application: "app-00001", Environment: envs[0], Version: int64(1 + i%2)})
		b.StartTimer()
		start := time.Now()
		if err := e.x.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
}

// benchWriters are the treeWriters the export benchmarks compare.
var benchWriters = []struct {
	name string
	open openWriterFunc
}{{"writer=pack", openPackWriter}, {"writer=fast-import", openFastImport}}

// BenchmarkExportReleases exports 10,000 release events (1 application
// each, 3 environments, 10 KB manifests) into an environment holding
// 1,000 applications, with pushes to a local bare repository, through
// each writer. cpu-ms/event counts Railyard and every git process,
// git-cpu-ms/event the git processes alone.
func BenchmarkExportReleases(b *testing.B) {
	for _, w := range benchWriters {
		b.Run(w.name, func(b *testing.B) {
			e := newTestEnv(b)
			e.x.openWriter = w.open
			envs := []string{"development", "staging", "production"}
			seed(b, e, envs, 1000)
			const n = 10000
			for i := 0; i < n; i += 100 {
				var cmds []railyard.Command
				for j := i; j < i+100; j++ {
					cmds = append(cmds, releaseWith10KB(fmt.Sprintf("app-%05d", j%1000), int64(2+j/1000), envs))
				}
				e.must(cmds...)
			}
			b.ResetTimer()
			measureSync(b, e, n)
		})
	}
}

// measureSync exports the n pending events of e in one sync and reports
// events/s, cpu-ms/event (Railyard and every git process) and
// git-cpu-ms/event (the git processes alone).
func measureSync(b *testing.B, e *testEnv, n int) {
	start, self, children := time.Now(), cpuTime(syscall.RUSAGE_SELF), cpuTime(syscall.RUSAGE_CHILDREN)
	e.sync()
	elapsed := time.Since(start)
	self, children = cpuTime(syscall.RUSAGE_SELF)-self, cpuTime(syscall.RUSAGE_CHILDREN)-children
	b.StopTimer()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64((self+children).Microseconds())/1000/float64(n), "cpu-ms/event")
	b.ReportMetric(float64(children.Microseconds())/1000/float64(n), "git-cpu-ms/event")
	b.ReportMetric(0, "ns/op")
}

// cpuTime is the CPU time (user and system) of this process
// (syscall.RUSAGE_SELF) or of its finished children, the git processes
// (syscall.RUSAGE_CHILDREN).
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkResume measures resume on a branch of 5,000 of Railyard's
// commits: with Railyard's last commit at its head (every start), and
// under 200 commits of people (the branch moved). Resume reads only the
// commits above Railyard's newest and the one below it, so its cost does
// not depend on the history's length.
// Run: go test ./gitrepo -run XXX -bench Resume
func BenchmarkResume(b *testing.B) {
	for _, foreign := range []int{0, 200} {
		b.Run(fmt.Sprintf("commits=5000/foreign=%d", foreign), func(b *testing.B) {
			e := newLocalTestEnv(b)
			e.must(envCmd("development", railyard.EnvironmentConfig{}))
			for i := 0; i < 50; i++ {
				var cmds []railyard.Command
				for j := 0; j < 50; j++ { // a lock put and deleted: the trees stay small
					cmds = append(cmds, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "development", ID: "hold"}, Message: "Hold"},
						&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "development", ID: "hold"}})
				}
				e.must(cmds...)
			}
			e.sync()
			if foreign > 0 {
				p := clonePerson(b, e)
				for i := 0; i < foreign; i++ {
					p.git("commit", "--quiet", "--allow-empty", "-m", fmt.Sprintf("Note %d", i))
				}
				p.git("push", "--quiet", "origin", "main")
			}
			ctx := context.Background()
			for b.Loop() {
				e.x.ready = false
				if err := e.x.resume(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if e.x.exported != 5001 {
				b.Fatalf("resumed after event %d, want 5001", e.x.exported)
			}
			// For comparison: reading the whole first-parent line.
			start := time.Now()
			all, err := e.x.logCommits(ctx, "--first-parent", e.x.base)
			if err != nil || len(all) != 5001+foreign {
				b.Fatalf("%d commits, %v", len(all), err)
			}
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/full-scan")
		})
	}
}
