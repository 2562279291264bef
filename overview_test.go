package railyard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/sqlite"
)

// TestOverviewCacheProperty applies random commands — environments put
// and deleted, releases of new and existing applications with changing
// teams, deploys, rollbacks, trains, locks of every kind with and without
// expiry, deleted applications, the clock moving past expiries — and after
// random steps compares the engine's overview, which it patches from the
// events since its last one, with the overview of a fresh engine over the
// same store, which reads everything.
func TestOverviewCacheProperty(t *testing.T) {
	t.Parallel()
	iterations := 12
	if testing.Short() {
		iterations = 4
	}
	r := rand.New(rand.NewSource(20261203))
	compared, applied := 0, 0
	for it := range iterations {
		db := sqlite.NewDB(filepath.Join(t.TempDir(), fmt.Sprintf("overview-%d.db", it)))
		if err := db.Open(); err != nil {
			t.Fatal(err)
		}
		now := t0
		clock := func() time.Time { return now }
		eng := railyard.NewEngine(db)
		eng.Now = clock
		for e := range 4 {
			if _, err := eng.ApplyOne(context.Background(), alice, randomEnvironment(r, fmt.Sprintf("e%d", e))); err != nil {
				t.Fatal(err)
			}
		}
		for step := range 120 {
			cmds := make([]railyard.Command, 1+r.Intn(2))
			for i := range cmds {
				cmds[i] = randomOverviewCommand(r, now)
			}
			// Failing commands change nothing; the property holds either way.
			if _, err := eng.Apply(context.Background(), alice, cmds...); err == nil {
				applied++
			}
			if r.Intn(8) == 0 {
				now = now.Add(time.Duration(r.Intn(90)) * time.Minute)
			}
			if r.Intn(3) > 0 {
				continue
			}
			fresh := railyard.NewEngine(db)
			fresh.Now = clock
			got, want := overviewJSON(t, eng), overviewJSON(t, fresh)
			if got != want {
				t.Fatalf("iteration %d step %d: the patched overview\n%s\ndiffers from a fresh read\n%s", it, step, got, want)
			}
			compared++
		}
		db.Close()
	}
	// The random commands must mostly succeed to test anything.
	if applied < iterations*120/4 {
		t.Errorf("only %d of %d command batches applied", applied, iterations*120)
	}
	t.Logf("%d overviews compared, %d of %d command batches applied", compared, applied, iterations*120)
}

func overviewJSON(t *testing.T, eng *railyard.Engine) string {
	t.Helper()
	ov, err := eng.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ov)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// randomEnvironment puts env with a random upstream and group.
func randomEnvironment(r *rand.Rand, env string) *railyard.PutEnvironment {
	cfg := railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}
	// An upstream earlier in the list: no cycles.
	if i := int(env[1] - '0'); i > 0 && r.Intn(3) > 0 {
		cfg.Upstream = &railyard.Upstream{Environment: fmt.Sprintf("e%d", r.Intn(i))}
	}
	if r.Intn(3) == 0 {
		cfg.EnvironmentGroup = "g"
	}
	return &railyard.PutEnvironment{Name: env, Config: cfg}
}

// randomOverviewCommand returns one command over a small world: four
// environments, six applications in three teams.
func randomOverviewCommand(r *rand.Rand, now time.Time) railyard.Command {
	env := fmt.Sprintf("e%d", r.Intn(4))
	app := fmt.Sprintf("app%d", r.Intn(6))
	team := fmt.Sprintf("team%d", r.Intn(3))
	version := int64(1 + r.Intn(5))
	switch r.Intn(13) {
	case 0:
		return randomEnvironment(r, env)
	case 1:
		if r.Intn(4) == 0 {
			return &railyard.DeleteEnvironment{Name: env}
		}
		return randomEnvironment(r, env)
	case 11:
		// A batch in one event touches more than one row.
		return &railyard.ReleaseTrain{Environment: env, Team: team}
	case 2, 3, 4:
		manifests := map[string]string{}
		for e := range 4 {
			if r.Intn(4) > 0 {
				manifests[fmt.Sprintf("e%d", e)] = "a: 1\n"
			}
		}
		return &railyard.CreateRelease{Application: app, Version: version, Team: team, Manifests: manifests, DisplayVersion: fmt.Sprint(version)}
	case 5, 6:
		return &railyard.Deploy{Application: app, Environment: env, Version: version, LockBehavior: railyard.LockBehavior([]string{"", "queue", "ignore"}[r.Intn(3)])}
	case 7:
		return &railyard.Rollback{Application: app, Environment: env}
	case 8:
		return &railyard.ReleaseTrain{Environment: env}
	case 9:
		target := railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: env, ID: fmt.Sprintf("l%d", r.Intn(2))}
		switch r.Intn(3) {
		case 1:
			target.Kind, target.Application = railyard.LockApplication, app
		case 2:
			target.Kind, target.Team = railyard.LockTeam, team
		}
		lock := &railyard.CreateLock{LockTarget: target, Message: "hold"}
		if r.Intn(2) == 0 {
			at := now.Add(time.Duration(1+r.Intn(120)) * time.Minute)
			lock.ExpiresAt = &at
		}
		if r.Intn(3) == 0 {
			return &railyard.DeleteLock{LockTarget: target}
		}
		return lock
	case 10:
		return &railyard.DeleteApplication{Name: app}
	}
	return &railyard.Reconcile{}
}
