package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	railyard "github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/storetest"
)

// seedLarge builds the installation of the benchmarks: a chain of envs
// environments (env-00 gets every release, each next one takes its
// upstream's versions) and apps applications in 20 teams, each with one
// release deployed everywhere, plus an environment lock, a team lock and
// 50 application locks.
func (f *fixture) seedLarge(apps, envs int) {
	f.t.Helper()
	ctx := context.Background()
	names := make([]string, envs)
	for i := range envs {
		names[i] = fmt.Sprintf("env-%02d", i)
		cfg := railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}
		if i > 0 {
			cfg = railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: names[i-1]}}
		}
		if i >= envs-3 {
			cfg.EnvironmentGroup = "prod"
		}
		f.must(alice, &railyard.PutEnvironment{Name: names[i], Config: cfg})
	}
	manifests := map[string]string{}
	for _, n := range names {
		manifests[n] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n"
	}
	var batch []railyard.Command
	for i := range apps {
		batch = append(batch, &railyard.CreateRelease{Application: fmt.Sprintf("service-%04d", i), Version: 1,
			DisplayVersion: "1.0." + fmt.Sprint(i%50), Team: fmt.Sprintf("team-%02d", i%20), Manifests: manifests,
			SourceCommitID: "0123456789abcdef0123456789abcdef01234567", SourceAuthor: "CI", SourceMessage: "Release"})
		if len(batch) == railyard.MaxBatchCommands || i == apps-1 {
			if _, err := f.eng.Apply(ctx, alice, batch...); err != nil {
				f.t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for _, n := range names[1:] {
		f.must(alice, &railyard.ReleaseTrain{Environment: n})
	}
	f.must(alice, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: names[envs-1], ID: "freeze"}, Message: "Freeze"})
	f.must(alice, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: names[envs/2], Team: "team-03", ID: "audit"}, Message: "Audit"})
	for i := 0; i < 50; i++ {
		f.must(alice, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: names[1], Application: fmt.Sprintf("service-%04d", i*7), ID: "hold"}, Message: "Hold"})
	}
}

// BenchmarkOverview1000x10 measures the server's work for the overview
// of 1,000 applications in 10 environments: store reads, view building
// and template rendering (the display version cache is warm, as it is
// after the first view). It reports the page's size.
func BenchmarkOverview1000x10(b *testing.B) {
	for _, gz := range []bool{false, true} {
		b.Run(fmt.Sprintf("gzip=%v", gz), func(b *testing.B) {
			f := newFixture(b)
			f.seedLarge(1000, 10)
			req := httptest.NewRequest("GET", "/", nil)
			if gz {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			f.h.ServeHTTP(httptest.NewRecorder(), req) // warms the display version cache
			var size int
			for b.Loop() {
				rec := httptest.NewRecorder()
				f.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size)/1024, "KiB/page")
		})
	}
}

// BenchmarkOverviewScale measures the server's work for the overview page
// over the installations of issue 12 (storetest.SeedOverview: 5,000
// applications in 20 environments, 6,000 in 50), gzip-compressed as
// browsers ask for it, after a first view that warms the caches. It
// reports the page's size on the wire.
func BenchmarkOverviewScale(b *testing.B) {
	for _, size := range [][2]int{{5000, 20}, {6000, 50}} {
		apps, envs := size[0], size[1]
		f := newFixture(b)
		if err := storetest.SeedOverview(context.Background(), f.db, apps, envs, t0); err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		f.h.ServeHTTP(httptest.NewRecorder(), req)
		b.Run(fmt.Sprintf("%dx%d", apps, envs), func(b *testing.B) {
			var size int
			for b.Loop() {
				rec := httptest.NewRecorder()
				f.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size)/1024, "gzip-KiB")
		})
	}
}
