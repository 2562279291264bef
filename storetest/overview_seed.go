package storetest

import (
	"context"
	"fmt"
	"time"

	"github.com/railyard-cd/railyard"
)

// SeedOverview writes, in one transaction and without events, the
// installation the overview benchmarks measure: a chain of envs
// environments (env-00 takes every new release, each next one its
// upstream's versions, the last three in group "prod"), apps applications
// (service-0000 …) in 20 teams, each with release 1 ("1.0.<i%50>")
// deployed everywhere and every tenth deployment with version 2 queued,
// an environment lock, a team lock and 50 application locks. It writes
// straight to the store because building 300,000 deployments through the
// engine's commands would take minutes; the overview reads only state.
func SeedOverview(ctx context.Context, s railyard.Store, apps, envs int, now time.Time) error {
	now = now.UTC().Truncate(time.Microsecond)
	names := make([]string, envs)
	return s.Update(ctx, func(tx railyard.Tx) error {
		for i := range envs {
			names[i] = fmt.Sprintf("env-%02d", i)
			cfg := railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}
			if i > 0 {
				cfg.Upstream = &railyard.Upstream{Environment: names[i-1]}
			}
			if i >= envs-3 {
				cfg.EnvironmentGroup = "prod"
			}
			if err := tx.PutEnvironment(ctx, &railyard.Environment{Name: names[i], Config: cfg, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		for i := range apps {
			if err := seedOverviewApplication(ctx, tx, i, names, now); err != nil {
				return err
			}
		}
		return seedOverviewLocks(ctx, tx, names, now)
	})
}

func seedOverviewApplication(ctx context.Context, tx railyard.Tx, i int, envs []string, now time.Time) error {
	app := fmt.Sprintf("service-%04d", i)
	if err := tx.PutApplication(ctx, &railyard.Application{Name: app, Team: fmt.Sprintf("team-%02d", i%20), CreatedAt: now}); err != nil {
		return err
	}
	for v := int64(1); v <= 2; v++ {
		err := tx.CreateRelease(ctx, &railyard.Release{Application: app, Version: v, DisplayVersion: fmt.Sprintf("%d.0.%d", v, i%50),
			CreatedAt: now, Environments: []string{envs[0]}, Manifests: map[string]string{envs[0]: "a: 1\n"},
			SourceCommitID: "0123456789abcdef0123456789abcdef01234567", Team: fmt.Sprintf("team-%02d", i%20)})
		if err != nil {
			return err
		}
	}
	one, two := int64(1), int64(2)
	for j, env := range envs {
		d := &railyard.Deployment{Application: app, Environment: env, Version: &one, DeployedAt: &now,
			DeployedBy: &railyard.Actor{Name: "ci", Email: "ci@example.com"}}
		if (i+j)%10 == 0 {
			d.QueuedVersion, d.QueuedAt = &two, &now
			d.QueuedBecause = []railyard.Blocker{{Kind: railyard.LockEnvironment, Description: `environment lock "freeze"`}}
		}
		if err := tx.PutDeployment(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

func seedOverviewLocks(ctx context.Context, tx railyard.Tx, envs []string, now time.Time) error {
	last := envs[len(envs)-1]
	locks := []*railyard.Lock{
		{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: last, ID: "freeze"}, Message: "Freeze",
			CreatedAt: now, CreatedBy: railyard.Actor{Name: "alice", Email: "alice@example.com"}},
		{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: envs[len(envs)/2], Team: "team-03", ID: "audit"}, Message: "Audit",
			CreatedAt: now, CreatedBy: railyard.Actor{Name: "alice", Email: "alice@example.com"}},
	}
	for i := range 50 {
		locks = append(locks, &railyard.Lock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: envs[min(1, len(envs)-1)],
			Application: fmt.Sprintf("service-%04d", i*7), ID: "hold"}, Message: "Hold", CreatedAt: now,
			CreatedBy: railyard.Actor{Name: "alice", Email: "alice@example.com"}})
	}
	for _, l := range locks {
		if err := tx.PutLock(ctx, l); err != nil {
			return err
		}
	}
	return nil
}
