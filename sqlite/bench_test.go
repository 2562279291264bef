package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/sqlite"
)

// benchClients is the number of concurrent clients of BenchmarkCreateRelease.
const benchClients = 32

// benchEnvironments are the environments of the benchmarks; dev takes
// every new release.
var benchEnvironments = []string{"dev", "staging", "production", "canary", "qa",
	"perf", "demo", "sandbox", "eu-west", "us-east"}

// BenchmarkCreateRelease measures the transaction the engine runs to
// create a release, from 32 concurrent clients: read the environments and
// the application, store the release with three 2 KiB manifests, deploy it
// to dev after checking dev's locks, clean up releases beyond the newest
// 20, and record the event.
func BenchmarkCreateRelease(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "bench.db"))
	seed(b, db, 100, false)
	manifest := strings.Repeat("apiVersion: v1\nkind: ConfigMap\n", 64)
	var n atomic.Int64
	b.SetParallelism(max(1, benchClients/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			app := fmt.Sprintf("app-%04d", n.Add(1)%100)
			err := db.Update(context.Background(), func(tx railyard.Tx) error {
				return createRelease(context.Background(), tx, app, manifest)
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "releases/s")
}

// createRelease is the store calls of the engine's CreateRelease command.
func createRelease(ctx context.Context, tx railyard.Tx, app, manifest string) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := tx.FindEnvironments(ctx); err != nil {
		return err
	}
	max, err := tx.MaxReleaseVersion(ctx, app)
	if err != nil {
		return err
	}
	if _, err := tx.FindApplication(ctx, app); err != nil {
		return err
	}
	rel := &railyard.Release{
		Application: app, Version: max + 1, CreatedAt: now, Environments: []string{"dev", "production", "staging"},
		Manifests:      map[string]string{"dev": manifest, "staging": manifest, "production": manifest},
		SourceCommitID: "0123456789abcdef0123456789abcdef01234567", SourceAuthor: "Ada <ada@example.com>",
		SourceMessage: "Fix the totals", SourceBranch: "main", Team: "payments",
	}
	if err := tx.CreateRelease(ctx, rel); err != nil {
		return err
	}
	if err := deployToDev(ctx, tx, rel, now); err != nil {
		return err
	}
	if err := cleanup(ctx, tx, app, now); err != nil {
		return err
	}
	payload, _ := json.Marshal(rel)
	return tx.CreateEvent(ctx, &railyard.Event{
		Time: now, Actor: railyard.Actor{Name: "ci", Email: "ci@example.com"}, Kind: "create-release",
		Description: "Release " + app, Payload: payload,
		Changes: []railyard.Change{
			{Op: railyard.ChangeReleaseCreate, Application: app, Version: rel.Version, Release: rel, SourceCommitID: rel.SourceCommitID},
			{Op: railyard.ChangeDeploy, Application: app, Environment: "dev", Version: rel.Version, SourceCommitID: rel.SourceCommitID},
		},
		Refs: []railyard.EventRef{
			{Application: app, SourceCommitID: rel.SourceCommitID},
			{Application: app, Environment: "dev", SourceCommitID: rel.SourceCommitID},
		},
	})
}

func deployToDev(ctx context.Context, tx railyard.Tx, rel *railyard.Release, now time.Time) error {
	if _, err := tx.FindDeployment(ctx, rel.Application, "dev"); err != nil && railyard.ErrorCode(err) != railyard.ENOTFOUND {
		return err
	}
	if _, err := tx.FindLocks(ctx, railyard.LockFilter{Environment: "dev"}); err != nil {
		return err
	}
	return tx.PutDeployment(ctx, &railyard.Deployment{
		Application: rel.Application, Environment: "dev", Version: &rel.Version, DeployedAt: &now,
		DeployedBy: &railyard.Actor{Name: "ci", Email: "ci@example.com"},
	})
}

// cleanup retires the releases beyond the newest 20, as the engine does:
// each is read with its manifests for its digest.
func cleanup(ctx context.Context, tx railyard.Tx, app string, now time.Time) error {
	releases, err := tx.FindReleases(ctx, railyard.ReleaseFilter{Application: app})
	if err != nil || len(releases) <= 20 {
		return err
	}
	if _, err := tx.FindDeployments(ctx, railyard.DeploymentFilter{Application: app}); err != nil {
		return err
	}
	for _, r := range releases[20:] {
		rel, err := tx.FindRelease(ctx, app, r.Version, true)
		if err != nil {
			return err
		}
		err = tx.RetireRelease(ctx, &railyard.RetiredRelease{Application: app, Version: r.Version, Digest: rel.Digest(),
			Reason: railyard.RetiredByCleanup, PublishedAt: rel.CreatedAt, RetiredAt: now})
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkOverview measures the reads of the overview page over 1,000
// applications in 10 environments: every application, deployment, lock
// and environment, in one View.
func BenchmarkOverview(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "bench.db"))
	seed(b, db, 1000, true)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		err := db.View(ctx, func(tx railyard.Tx) error {
			apps, err := tx.FindApplications(ctx)
			if err != nil {
				return err
			}
			deps, err := tx.FindDeployments(ctx, railyard.DeploymentFilter{})
			if err != nil {
				return err
			}
			if _, err := tx.FindLocks(ctx, railyard.LockFilter{}); err != nil {
				return err
			}
			envs, err := tx.FindEnvironments(ctx)
			if err != nil {
				return err
			}
			if len(apps) != 1000 || len(deps) != 10_000 || len(envs) != 10 {
				return fmt.Errorf("got %d apps, %d deployments, %d environments, want 1000, 10000, 10", len(apps), len(deps), len(envs))
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// seed stores the environments, apps applications with a release each,
// and, if deploy, a deployment of every application everywhere (every
// tenth with a queued version) and a lock per environment.
func seed(b *testing.B, db *sqlite.DB, apps int, deploy bool) {
	b.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	err := db.Update(context.Background(), func(tx railyard.Tx) error {
		for i, name := range benchEnvironments {
			if err := tx.PutEnvironment(context.Background(), benchEnvironment(name, i == 0, now)); err != nil {
				return err
			}
		}
		for i := range apps {
			if err := seedApplication(tx, fmt.Sprintf("app-%04d", i), deploy, now); err != nil {
				return err
			}
		}
		if deploy {
			return seedLocks(tx, now)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func benchEnvironment(name string, latest bool, now time.Time) *railyard.Environment {
	cfg := railyard.EnvironmentConfig{
		Upstream: &railyard.Upstream{Latest: latest},
		ArgoCD: &railyard.ArgoCDConfig{Destination: railyard.ArgoCDDestination{Server: "https://kubernetes.default.svc", Namespace: name},
			SyncOptions: []string{"CreateNamespace=true"}},
	}
	if !latest {
		cfg.Upstream = &railyard.Upstream{Environment: "dev"}
	}
	return &railyard.Environment{Name: name, Config: cfg, CreatedAt: now, UpdatedAt: now}
}

func seedApplication(tx railyard.Tx, app string, deploy bool, now time.Time) error {
	ctx := context.Background()
	if err := tx.PutApplication(ctx, &railyard.Application{Name: app, Team: "team-" + app[len(app)-1:], CreatedAt: now}); err != nil {
		return err
	}
	err := tx.CreateRelease(ctx, &railyard.Release{Application: app, Version: 1, CreatedAt: now,
		Manifests: map[string]string{"dev": "a: 1\n"}, SourceCommitID: "0123456789abcdef0123456789abcdef01234567"})
	if err != nil || !deploy {
		return err
	}
	for i, env := range benchEnvironments {
		d := &railyard.Deployment{Application: app, Environment: env, Version: ptr(int64(1)), DeployedAt: &now,
			DeployedBy: &railyard.Actor{Name: "ci", Email: "ci@example.com"}}
		if (i+len(app))%10 == 0 {
			d.QueuedVersion, d.QueuedAt = ptr(int64(2)), &now
			d.QueuedBecause = []railyard.Blocker{{Kind: railyard.LockEnvironment, Description: "environment lock \"freeze\""}}
		}
		if err := tx.PutDeployment(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

func seedLocks(tx railyard.Tx, now time.Time) error {
	for _, env := range benchEnvironments {
		for _, l := range []*railyard.Lock{
			{Kind: railyard.LockEnvironment, Environment: env, ID: "freeze", Message: "freeze", CreatedAt: now},
			{Kind: railyard.LockApplication, Environment: env, Application: "app-0001", ID: "fix", CreatedAt: now, ExpiresAt: &now},
			{Kind: railyard.LockTeam, Environment: env, Team: "team-1", ID: "offsite", CreatedAt: now},
		} {
			if err := tx.PutLock(context.Background(), l); err != nil {
				return err
			}
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
