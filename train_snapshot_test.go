package railyard_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// A release train is planned on a snapshot and written in a short write
// transaction (train_apply.go). These tests commit changes between the
// two and check that the train is exactly the one planned after them:
// the same result, event and state as running the changes first.

// trainAcross runs train on an installation made by build, with between
// committed after the train was planned and before it was written. It
// compares everything with the same changes committed before the train,
// and returns the result and how often the train was planned on a
// snapshot (1: its plan was brought up to date; 2: planned again).
func trainAcross(t *testing.T, build, between func(h *harness), train railyard.ReleaseTrain) (*railyard.Result, int) {
	t.Helper()
	h := newHarness(t)
	build(h)
	plans := 0
	railyard.SetTrainPlanned(h.eng, func() {
		plans++
		if plans == 1 {
			between(h)
		}
	})
	tr := train
	got := h.train(&tr)

	serial := newHarness(t)
	build(serial)
	between(serial)
	tr = train
	want := serial.train(&tr)

	if a, b := jsonString(t, got), jsonString(t, want); a != b {
		t.Fatalf("train with changes committed while it was planned:\n%s\nwant, as after the changes:\n%s", a, b)
	}
	if a, b := jsonString(t, h.lastEvent()), jsonString(t, serial.lastEvent()); a != b {
		t.Fatalf("event:\n%s\nwant:\n%s", a, b)
	}
	if a, b := h.snapshot(), serial.snapshot(); a != b {
		t.Fatalf("state:\n%s\nwant:\n%s", a, b)
	}
	return got, plans
}

// twoApps is development (every release) → staging → production with
// checkout and search 1 in development.
func twoApps(h *harness) {
	h.chain()
	h.release("checkout", 1, "shop", "development", "staging", "production")
	h.release("search", 1, "find", "development", "staging", "production")
}

func TestTrainTakesReleasePublishedWhilePlanned(t *testing.T) {
	t.Parallel()
	res, plans := trainAcross(t, twoApps, func(h *harness) {
		h.release("checkout", 2, "shop", "development", "staging", "production")
	}, railyard.ReleaseTrain{Environment: "staging"})
	if got := ptr(entry(t, res.Train, "staging", "checkout").To); got != "2" || plans != 1 {
		t.Fatalf("checkout to %s after %d plans, want 2 after 1 (brought up to date, not planned again)", got, plans)
	}
	if res.Train.Description != "Release train to staging from development: 2 deployed, 0 queued, 0 skipped" {
		t.Fatalf("description %q", res.Train.Description)
	}
}

func TestTrainQueuesBehindLockCreatedWhilePlanned(t *testing.T) {
	t.Parallel()
	res, plans := trainAcross(t, twoApps, func(h *harness) {
		h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "freeze"}, Message: "incident"})
	}, railyard.ReleaseTrain{Environment: "staging"})
	if res.Train.Deployed != 0 || res.Train.Queued != 2 || plans != 2 {
		t.Fatalf("%d deployed, %d queued after %d plans; want 0, 2 after 2", res.Train.Deployed, res.Train.Queued, plans)
	}
}

func TestTrainQueuesBehindApplicationLockCreatedWhilePlanned(t *testing.T) {
	t.Parallel()
	build := func(h *harness) {
		twoApps(h)
		h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "staging", Application: "search", ID: "hold"}, Message: "hold"})
	}
	res, plans := trainAcross(t, build, func(h *harness) {
		h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "staging", Application: "checkout", ID: "hotfix"}, Message: "hotfix"})
	}, railyard.ReleaseTrain{Environment: "staging"})
	if e := entry(t, res.Train, "staging", "checkout"); e.Outcome != railyard.OutcomeQueued || plans != 2 {
		t.Fatalf("checkout %s after %d plans, want queued after 2", e.Outcome, plans)
	}
}

func TestTrainSkipsWhatWasDeployedWhilePlanned(t *testing.T) {
	t.Parallel()
	res, _ := trainAcross(t, twoApps, func(h *harness) {
		h.deploy("checkout", "staging", 1)
	}, railyard.ReleaseTrain{Environment: "staging"})
	if e := entry(t, res.Train, "staging", "checkout"); e.SkipReason != railyard.SkipAlreadyCurrent {
		t.Fatalf("checkout %s (%s), want skipped as already current", e.Outcome, e.SkipReason)
	}
}

func TestTrainDeploysPastLockThatExpiredWhilePlanned(t *testing.T) {
	t.Parallel()
	build := func(h *harness) {
		twoApps(h)
		until := t0.Add(time.Minute)
		h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "freeze"}, Message: "until nine", ExpiresAt: &until})
	}
	res, plans := trainAcross(t, build, func(h *harness) {
		h.now = h.now.Add(2 * time.Minute)
	}, railyard.ReleaseTrain{Environment: "staging"})
	if res.Train.Deployed != 2 || plans != 2 {
		t.Fatalf("%d deployed after %d plans, want 2 after 2", res.Train.Deployed, plans)
	}
}

func TestTrainTakesApplicationCreatedWhilePlanned(t *testing.T) {
	t.Parallel()
	res, plans := trainAcross(t, twoApps, func(h *harness) {
		h.release("payments", 1, "shop", "development", "staging")
	}, railyard.ReleaseTrain{Environment: "staging", Team: "shop"})
	if e := entry(t, res.Train, "staging", "payments"); e.Outcome != railyard.OutcomeDeployed || plans != 2 {
		t.Fatalf("payments %s after %d plans, want deployed after 2", e.Outcome, plans)
	}
}

func TestTrainWithEnvironmentChangedWhilePlanned(t *testing.T) {
	t.Parallel()
	res, plans := trainAcross(t, twoApps, func(h *harness) {
		h.put("staging", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "development"}, BranchRestriction: "^release/"})
	}, railyard.ReleaseTrain{Environment: "staging"})
	if res.Train.Skipped != 2 || plans != 2 {
		t.Fatalf("%d skipped after %d plans, want 2 (branch-restricted) after 2", res.Train.Skipped, plans)
	}
}

// TestGroupTrainCatchesUpWithManyReleases: more releases than the write
// transaction re-plans are planned again on a new snapshot first.
func TestGroupTrainCatchesUpWithManyReleases(t *testing.T) {
	t.Parallel()
	const apps = 12
	build := func(h *harness) {
		h.put("staging", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}})
		for _, env := range []string{"de", "jp"} {
			h.put(env, railyard.EnvironmentConfig{EnvironmentGroup: "prod", Upstream: &railyard.Upstream{Environment: "staging"}})
		}
		for i := range apps {
			h.release(fmt.Sprintf("app%02d", i), 1, "shop", "staging", "de", "jp")
		}
	}
	res, plans := trainAcross(t, build, func(h *harness) {
		for i := range apps - 1 {
			h.release(fmt.Sprintf("app%02d", i), 2, "shop", "staging", "de", "jp")
		}
	}, railyard.ReleaseTrain{Group: "prod"})
	if res.Train.Deployed != 2*apps || plans != 1 {
		t.Fatalf("%d deployed after %d plans, want %d after 1", res.Train.Deployed, plans, 2*apps)
	}
	if got := ptr(entry(t, res.Train, "jp", "app00").To); got != "2" {
		t.Fatalf("app00 to %s in jp, want 2", got)
	}
}

// TestGroupTrainCatchesUpWithNewApplication: a new application among
// many releases makes the plan stale while it catches up; it is planned
// again on a snapshot, not inside the write transaction.
func TestGroupTrainCatchesUpWithNewApplication(t *testing.T) {
	t.Parallel()
	const apps = 12
	build := func(h *harness) {
		h.put("staging", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}})
		h.put("de", railyard.EnvironmentConfig{EnvironmentGroup: "prod", Upstream: &railyard.Upstream{Environment: "staging"}})
		for i := range apps {
			h.release(fmt.Sprintf("app%02d", i), 1, "shop", "staging", "de")
		}
	}
	res, plans := trainAcross(t, build, func(h *harness) {
		for i := range apps {
			h.release(fmt.Sprintf("app%02d", i), 2, "shop", "staging", "de")
		}
		h.release("new", 1, "shop", "staging", "de")
	}, railyard.ReleaseTrain{Group: "prod"})
	if res.Train.Deployed != apps+1 || plans != 2 {
		t.Fatalf("%d deployed after %d plans, want %d after 2", res.Train.Deployed, plans, apps+1)
	}
}

// TestTrainSnapshotProperty commits random deploys, releases and locks
// while random trains are planned on random installations, and compares
// each with the same changes committed before it.
func TestTrainSnapshotProperty(t *testing.T) {
	t.Parallel()
	iterations := 8
	if testing.Short() {
		iterations = 3
	}
	for it := range iterations {
		seed := int64(20261203 + it)
		var w *world
		build := func(h *harness) {
			r := rand.New(rand.NewSource(seed))
			w = randomWorld(r, h)
			w.sortedShuffle(r, h)
		}
		build(newHarness(t))
		cmds := w.randomChanges(rand.New(rand.NewSource(seed + 1)))
		train := w.randomTrain(rand.New(rand.NewSource(seed + 2)))
		if train == nil {
			continue
		}
		trainAcross(t, build, func(h *harness) {
			for _, cmd := range cmds {
				h.eng.ApplyOne(context.Background(), h.actor, cmd) // refusals are part of the sequence
			}
		}, *train)
	}
}

// sortedShuffle is shuffle in a repeatable order: the same seed gives
// the same installation.
func (w *world) sortedShuffle(r *rand.Rand, h *harness) {
	for _, app := range slices.Sorted(maps.Keys(w.manifests)) {
		for _, e := range w.envs {
			if r.Intn(2) == 0 {
				continue
			}
			if v := int64(1 + r.Intn(len(w.manifests[app]))); w.manifests[app][v][e.Name] {
				h.deploy(app, e.Name, v)
			}
		}
	}
}

// randomChanges returns a few deploys, releases and locks.
func (w *world) randomChanges(r *rand.Rand) []railyard.Command {
	apps := slices.Sorted(maps.Keys(w.manifests))
	var cmds []railyard.Command
	for range 1 + r.Intn(12) {
		app := apps[r.Intn(len(apps))]
		env := w.envs[r.Intn(len(w.envs))].Name
		switch r.Intn(4) {
		case 0:
			cmds = append(cmds, &railyard.Deploy{Application: app, Environment: env, Version: int64(1 + r.Intn(4)), LockBehavior: railyard.LockBehaviorIgnore})
		case 1:
			w.latest[app]++
			envs := []string{env, w.envs[0].Name}
			cmds = append(cmds, releaseCmd(app, w.latest[app], w.teams[app], envs...))
		case 2:
			cmds = append(cmds, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: env, Application: app, ID: "l" + app}, Message: "hold"})
		default:
			cmds = append(cmds, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: env, Team: w.teams[app], ID: "t" + app}, Message: "hold"})
		}
	}
	return cmds
}
