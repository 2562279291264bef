package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

var transactionTests = []test{
	{"RollbackOnError", testRollbackOnError},
	{"DomainErrorPassesThrough", testDomainErrorPassesThrough},
	{"RollbackOnPanic", testRollbackOnPanic},
	{"CanceledContext", testCanceledContext},
	{"CanceledDuringUpdate", testCanceledDuringUpdate},
	{"WriteInViewFails", testWriteInViewFails},
	{"ViewSeesSnapshot", testViewSeesSnapshot},
	{"ConcurrentIncrements", testConcurrentIncrements},
	{"ConcurrentReleases", testConcurrentReleases},
}

// writeEverything writes one object of every kind.
func writeEverything(ctx context.Context, tx railyard.Tx) error {
	writes := []func() error{
		func() error { return tx.PutEnvironment(ctx, fullEnvironment("production")) },
		func() error { return tx.PutApplication(ctx, fullApplication("checkout")) },
		func() error { return tx.CreateRelease(ctx, fullRelease("checkout", 1)) },
		func() error { return tx.PutDeployment(ctx, fullDeployment("checkout", "production")) },
		func() error { return tx.PutLock(ctx, fullLock(railyard.LockEnvironment, "production", "freeze")) },
		func() error {
			return tx.CreateEvent(ctx, fullEvent("k", t0, alice, railyard.EventRef{Application: "checkout"}))
		},
	}
	for _, w := range writes {
		if err := w(); err != nil {
			return err
		}
	}
	return nil
}

// wantEmpty checks that the store holds nothing.
func wantEmpty(t *testing.T, s railyard.Store) {
	t.Helper()
	view(t, s, func(tx railyard.Tx) error {
		ctx := t.Context()
		envs, err := tx.FindEnvironments(ctx)
		noError(t, "FindEnvironments", err)
		apps, err := tx.FindApplications(ctx)
		noError(t, "FindApplications", err)
		rels, err := tx.FindReleases(ctx, railyard.ReleaseFilter{Application: "checkout"})
		noError(t, "FindReleases", err)
		deps, err := tx.FindDeployments(ctx, railyard.DeploymentFilter{})
		noError(t, "FindDeployments", err)
		locks, err := tx.FindLocks(ctx, railyard.LockFilter{})
		noError(t, "FindLocks", err)
		last, err := tx.LastEventID(ctx)
		noError(t, "LastEventID", err)
		got := []int{len(envs), len(apps), len(rels), len(deps), len(locks), int(last)}
		equal(t, "environments, applications, releases, deployments, locks, last event ID", got, []int{0, 0, 0, 0, 0, 0})
		return nil
	})
}

// An Update whose fn fails leaves nothing behind and returns fn's error.
func testRollbackOnError(t *testing.T, s railyard.Store) {
	errRollback := errors.New("stop here")
	err := s.Update(t.Context(), func(tx railyard.Tx) error {
		if err := writeEverything(t.Context(), tx); err != nil {
			return err
		}
		return errRollback
	})
	if err != errRollback {
		t.Fatalf("Update: got error %v, want fn's error %v unchanged", err, errRollback)
	}
	wantEmpty(t, s)
	// The store still works after a rollback.
	update(t, s, func(tx railyard.Tx) error { return writeEverything(t.Context(), tx) })
}

func testDomainErrorPassesThrough(t *testing.T, s railyard.Store) {
	err := s.Update(t.Context(), func(tx railyard.Tx) error {
		if err := tx.PutApplication(t.Context(), fullApplication("checkout")); err != nil {
			return err
		}
		return tx.CreateRelease(t.Context(), fullRelease("ghost", 1))
	})
	wantError(t, "Update", err, railyard.ENOTFOUND, `application "ghost" not found`)
	wantEmpty(t, s)
}

// A panic in fn rolls back and does not leave the store stuck (with one
// write connection, a leaked transaction would block every later Update).
func testRollbackOnPanic(t *testing.T, s railyard.Store) {
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the panic of fn, boom", r)
			}
		}()
		s.Update(t.Context(), func(tx railyard.Tx) error {
			if err := writeEverything(t.Context(), tx); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	wantEmpty(t, s)
	update(t, s, func(tx railyard.Tx) error { return writeEverything(t.Context(), tx) })
}

func testCanceledContext(t *testing.T, s railyard.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.Update(ctx, func(tx railyard.Tx) error { return writeEverything(ctx, tx) })
	if err == nil {
		t.Errorf("Update with a canceled context: got no error, want one")
	}
	wantEmpty(t, s)
}

// Canceling the context in the middle of an Update rolls it back, and the
// next Update works.
func testCanceledDuringUpdate(t *testing.T, s railyard.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	err := s.Update(ctx, func(tx railyard.Tx) error {
		if err := tx.PutApplication(ctx, fullApplication("checkout")); err != nil {
			return err
		}
		cancel()
		return writeEverything(ctx, tx)
	})
	if err == nil {
		t.Errorf("Update canceled in the middle: got no error, want one")
	}
	wantEmpty(t, s)
	update(t, s, func(tx railyard.Tx) error { return writeEverything(t.Context(), tx) })
}

// Every write method fails in a View, and nothing is written.
func testWriteInViewFails(t *testing.T, s railyard.Store) {
	update(t, s, func(tx railyard.Tx) error { return writeEverything(t.Context(), tx) })
	ctx := t.Context()
	writes := map[string]func(tx railyard.Tx) error{
		"PutEnvironment":    func(tx railyard.Tx) error { return tx.PutEnvironment(ctx, fullEnvironment("dev")) },
		"DeleteEnvironment": func(tx railyard.Tx) error { return tx.DeleteEnvironment(ctx, "production") },
		"PutApplication":    func(tx railyard.Tx) error { return tx.PutApplication(ctx, fullApplication("cart")) },
		"DeleteApplication": func(tx railyard.Tx) error { return tx.DeleteApplication(ctx, "checkout") },
		"CreateRelease":     func(tx railyard.Tx) error { return tx.CreateRelease(ctx, fullRelease("checkout", 2)) },
		"RetireRelease":     func(tx railyard.Tx) error { return tx.RetireRelease(ctx, retire("checkout", 1)) },
		"PutDeployment":     func(tx railyard.Tx) error { return tx.PutDeployment(ctx, fullDeployment("checkout", "dev")) },
		"DeleteDeployment":  func(tx railyard.Tx) error { return tx.DeleteDeployment(ctx, "checkout", "production") },
		"PutLock":           func(tx railyard.Tx) error { return tx.PutLock(ctx, fullLock(railyard.LockTeam, "dev", "x")) },
		"DeleteLock": func(tx railyard.Tx) error {
			return tx.DeleteLock(ctx, fullLock(railyard.LockEnvironment, "production", "freeze").Key())
		},
		"CreateEvent": func(tx railyard.Tx) error {
			return tx.CreateEvent(ctx, &railyard.Event{Time: t0, Actor: alice, Kind: "k"})
		},
	}
	for name, write := range writes {
		if err := s.View(ctx, write); err == nil {
			t.Errorf("%s in a View: got no error, want one", name)
		}
	}
	view(t, s, func(tx railyard.Tx) error {
		counts := []int{}
		envs, _ := tx.FindEnvironments(ctx)
		apps, _ := tx.FindApplications(ctx)
		rels, _ := tx.FindReleases(ctx, railyard.ReleaseFilter{Application: "checkout"})
		deps, _ := tx.FindDeployments(ctx, railyard.DeploymentFilter{})
		locks, _ := tx.FindLocks(ctx, railyard.LockFilter{})
		events, _ := tx.FindEvents(ctx, railyard.EventFilter{})
		counts = append(counts, len(envs), len(apps), len(rels), len(deps), len(locks), len(events))
		equal(t, "environments, applications, releases, deployments, locks, events after writes in View", counts, []int{1, 1, 1, 1, 1, 1})
		return nil
	})
}

// A View reads one snapshot: an Update that commits while the View is
// open does not show in it, and does not wait for it.
func testViewSeesSnapshot(t *testing.T, s railyard.Store) {
	createApp(t, s, "checkout")
	view(t, s, func(tx railyard.Tx) error {
		before, err := tx.FindApplications(t.Context())
		noError(t, "FindApplications", err)
		done := make(chan error, 1)
		go func() {
			done <- s.Update(t.Context(), func(tx railyard.Tx) error {
				if err := tx.PutApplication(t.Context(), fullApplication("cart")); err != nil {
					return err
				}
				return tx.CreateEvent(t.Context(), &railyard.Event{Time: t0, Actor: alice, Kind: "k"})
			})
		}()
		select {
		case err := <-done:
			noError(t, "Update during a View", err)
		case <-time.After(30 * time.Second):
			t.Fatal("Update during a View: still waiting after 30s, want it to run while the View is open")
		}
		after, err := tx.FindApplications(t.Context())
		noError(t, "FindApplications", err)
		equal(t, "applications in the View after a concurrent Update", after, before)
		last, err := tx.LastEventID(t.Context())
		noError(t, "LastEventID", err)
		equal(t, "LastEventID in the View after a concurrent Update", last, int64(0))
		return nil
	})
	view(t, s, func(tx railyard.Tx) error {
		apps, err := tx.FindApplications(t.Context())
		noError(t, "FindApplications", err)
		equal(t, "applications in a new View", len(apps), 2)
		return nil
	})
}

// Concurrent read-modify-write Updates lose no update: each increments a
// counter kept in an application's team field.
func testConcurrentIncrements(t *testing.T, s railyard.Store) {
	const workers, perWorker = 8, 10
	update(t, s, func(tx railyard.Tx) error {
		return tx.PutApplication(t.Context(), &railyard.Application{Name: "counter", Team: "0", CreatedAt: t0})
	})
	increment := func(tx railyard.Tx) error {
		app, err := tx.FindApplication(t.Context(), "counter")
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(app.Team)
		if err != nil {
			return err
		}
		app.Team = strconv.Itoa(n + 1)
		return tx.PutApplication(t.Context(), app)
	}
	runConcurrently(t, workers, perWorker, func() error { return s.Update(t.Context(), increment) })
	view(t, s, func(tx railyard.Tx) error {
		app, err := tx.FindApplication(t.Context(), "counter")
		noError(t, "FindApplication", err)
		equal(t, "counter after concurrent increments", app.Team, strconv.Itoa(workers*perWorker))
		return nil
	})
}

// Concurrent Updates that each create the next release version never
// conflict: Update transactions are serialized.
func testConcurrentReleases(t *testing.T, s railyard.Store) {
	const workers, perWorker = 8, 10
	createApp(t, s, "checkout")
	create := func(tx railyard.Tx) error {
		max, err := tx.MaxReleaseVersion(t.Context(), "checkout")
		if err != nil {
			return err
		}
		r := &railyard.Release{Application: "checkout", Version: max + 1, Manifests: map[string]string{"dev": "v: 1\n"}, CreatedAt: t0}
		if err := tx.CreateRelease(t.Context(), r); err != nil {
			return err
		}
		return tx.CreateEvent(t.Context(), &railyard.Event{Time: t0, Actor: alice, Kind: "create-release"})
	}
	runConcurrently(t, workers, perWorker, func() error { return s.Update(t.Context(), create) })
	view(t, s, func(tx railyard.Tx) error {
		rels, err := tx.FindReleases(t.Context(), railyard.ReleaseFilter{Application: "checkout"})
		noError(t, "FindReleases", err)
		equal(t, "number of releases", len(rels), workers*perWorker)
		equal(t, "newest version", rels[0].Version, int64(workers*perWorker))
		events, err := tx.FindEvents(t.Context(), railyard.EventFilter{AfterID: 0})
		noError(t, "FindEvents", err)
		equal(t, "number of events", len(events), workers*perWorker)
		return nil
	})
}

// runConcurrently calls fn perWorker times in each of workers goroutines
// and fails the test on the first error.
func runConcurrently(t *testing.T, workers, perWorker int, fn func() error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				if err := fn(); err != nil {
					errs <- fmt.Errorf("worker %d, call %d: %w", w, i, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Update: got error %v, want none", err)
	}
}
