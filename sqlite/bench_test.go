package sqlite_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/sqlite"
	"github.com/railyard-cd/railyard/storetest"
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

// cleanup retires the releases beyond the newest 20, as the engine does.
func cleanup(ctx context.Context, tx railyard.Tx, app string, now time.Time) error {
	releases, err := tx.FindReleases(ctx, railyard.ReleaseFilter{Application: app})
	if err != nil || len(releases) <= 20 {
		return err
	}
	if _, err := tx.FindDeployments(ctx, railyard.DeploymentFilter{Application: app}); err != nil {
		return err
	}
	for _, r := range releases[20:] {
		err := tx.RetireRelease(ctx, &railyard.RetiredRelease{Application: app, Version: r.Version,
			Reason: railyard.RetiredByCleanup, RetiredAt: now})
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
			{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: env, ID: "freeze"}, Message: "freeze", CreatedAt: now},
			{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: env, Application: "app-0001", ID: "fix"}, CreatedAt: now, ExpiresAt: &now},
			{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: env, Team: "team-1", ID: "offsite"}, CreatedAt: now},
		} {
			if err := tx.PutLock(context.Background(), l); err != nil {
				return err
			}
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// BenchmarkManifestStorage measures what the database costs per manifest
// byte under a realistic load: 100 applications publish 10 releases each
// (1,000 releases) through the engine, every release with a manifest of
// about 10 KB for each of development (upstream.latest, which deploys it),
// staging and production, where development and staging share one
// manifest and production has its own. It reports the database's size
// (after Close, which checkpoints the write-ahead log into the file)
// divided by the bytes of the manifests published, and by the bytes of
// the distinct manifests among them. Run it with -benchtime 1x.
func BenchmarkManifestStorage(b *testing.B) {
	for b.Loop() {
		path := filepath.Join(b.TempDir(), "storage.db")
		db := sqlite.NewDB(path)
		if err := db.Open(); err != nil {
			b.Fatal(err)
		}
		published, distinct := storageLoad(b, railyard.NewEngine(db))
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		size := fileSize(b, path) + fileSize(b, path+"-wal")
		b.ReportMetric(float64(size)/float64(published), "db/manifest-bytes")
		b.ReportMetric(float64(size)/float64(distinct), "db/distinct-bytes")
		b.ReportMetric(float64(size)/1e6, "db-MB")
		b.ReportMetric(float64(published)/1e6, "manifest-MB")
	}
}

// BenchmarkFindEventsBatch measures what the Git exporter asks of the
// store for each batch: the 500 oldest events with every manifest of the
// releases they created (the load of BenchmarkManifestStorage, of which
// the first 500 events publish releases of three 10 KB manifests).
func BenchmarkFindEventsBatch(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "events.db"))
	storageLoad(b, railyard.NewEngine(db))
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		err := db.View(ctx, func(tx railyard.Tx) error {
			events, err := tx.FindEvents(ctx, railyard.EventFilter{AfterID: 3, Ascending: true, Limit: 500})
			if err != nil {
				return err
			}
			if len(events) != 500 || len(events[499].Changes[0].Release.Manifests["production"]) < 10<<10 {
				return fmt.Errorf("got %d events, want 500 with their manifests", len(events))
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// storageLoad publishes the releases of BenchmarkManifestStorage and
// returns the bytes of the manifests published and of the distinct ones.
func storageLoad(b *testing.B, eng *railyard.Engine) (published, distinct int) {
	ctx := context.Background()
	actor := railyard.Actor{Name: "ci", Email: "ci@example.com"}
	envs := []*railyard.PutEnvironment{
		{Name: "development", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}},
		{Name: "staging", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "development"}}},
		{Name: "production", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}}},
	}
	for _, e := range envs {
		if _, err := eng.ApplyOne(ctx, actor, e); err != nil {
			b.Fatal(err)
		}
	}
	for v := int64(1); v <= 10; v++ {
		for a := range 100 {
			app := fmt.Sprintf("app-%03d", a)
			shared, prod := storageManifest(app, v, 2), storageManifest(app, v, 6)
			_, err := eng.ApplyOne(ctx, actor, &railyard.CreateRelease{Application: app, Version: v, Team: "payments",
				SourceCommitID: fmt.Sprintf("%040x", v*1000+int64(a)), SourceAuthor: "Ada <ada@example.com>",
				SourceMessage: "Bump the image", Manifests: map[string]string{"development": shared, "staging": shared, "production": prod}})
			if err != nil {
				b.Fatal(err)
			}
			published += 2*len(shared) + len(prod)
			distinct += len(shared) + len(prod)
		}
	}
	return published, distinct
}

// storageManifest is a Deployment, a Service and a ConfigMap of about
// 10 KB: the image tag changes with every version, the replicas with the
// environment.
func storageManifest(app string, version int64, replicas int) string {
	var s strings.Builder
	fmt.Fprintf(&s, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  labels:
    app.kubernetes.io/name: %[1]s
spec:
  replicas: %[3]d
  selector:
    matchLabels:
      app.kubernetes.io/name: %[1]s
  template:
    metadata:
      labels:
        app.kubernetes.io/name: %[1]s
    spec:
      containers:
        - name: %[1]s
          image: registry.example.com/%[1]s:1.%[2]d.0
          ports:
            - containerPort: 8080
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: %[1]s
spec:
  selector:
    app.kubernetes.io/name: %[1]s
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: %[1]s-config
data:
`, app, version, replicas)
	for i := 0; s.Len() < 10<<10; i++ {
		fmt.Fprintf(&s, "  setting_%03d: \"value %d of %s, with enough text to look like real configuration\"\n", i, i, app)
	}
	return s.String()
}

// fileSize returns the size of the file at path, 0 if it does not exist.
func fileSize(b *testing.B, path string) int64 {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	if err != nil {
		b.Fatal(err)
	}
	return info.Size()
}

// BenchmarkOverviewScale measures Engine.Overview over the installations
// of issue 12: 5,000 applications in 20 environments and 6,000 in 50 (see
// storetest.SeedOverview), each seeded once for its sub-benchmarks:
// "read" is a full read (a new engine each time, as after a start),
// "unchanged" the engine's snapshot when nothing changed, "deploy" the
// overview after each of a stream of deployments (the snapshot patched).
func BenchmarkOverviewScale(b *testing.B) {
	for _, size := range [][2]int{{5000, 20}, {6000, 50}} {
		apps, envs := size[0], size[1]
		db := open(b, filepath.Join(b.TempDir(), "overview.db"))
		start := time.Now()
		if err := storetest.SeedOverview(context.Background(), db, apps, envs, time.Now()); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %dx%d in %v", apps, envs, time.Since(start).Round(time.Millisecond))
		overview := func(b *testing.B, eng *railyard.Engine) {
			ov, err := eng.Overview(context.Background())
			if err != nil || len(ov.Applications) != apps {
				b.Fatalf("overview: %v", err)
			}
		}
		b.Run(fmt.Sprintf("%dx%d/read", apps, envs), func(b *testing.B) {
			for b.Loop() {
				overview(b, railyard.NewEngine(db))
			}
		})
		eng := railyard.NewEngine(db)
		overview(b, eng)
		b.Run(fmt.Sprintf("%dx%d/unchanged", apps, envs), func(b *testing.B) {
			for b.Loop() {
				overview(b, eng)
			}
		})
		b.Run(fmt.Sprintf("%dx%d/deploy", apps, envs), func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				d := &railyard.Deploy{Application: fmt.Sprintf("service-%04d", i%apps), Environment: "env-00", Version: int64(1 + i%2)}
				b.StopTimer()
				if _, err := eng.ApplyOne(context.Background(), railyard.DefaultActor, d); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				overview(b, eng)
			}
		})
	}
}
