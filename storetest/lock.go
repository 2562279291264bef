package storetest

import (
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

var lockTests = []test{
	{"RoundTrip", testLockRoundTrip},
	{"NoExpiry", testLockNoExpiry},
	{"Ordered", testLocksOrdered},
	{"Filters", testLockFilters},
	{"PutReplaces", testLockPutReplaces},
	{"KeyIsEveryField", testLockKeyIsEveryField},
	{"Delete", testLockDelete},
	{"NotFound", testLockNotFound},
}

// putLocks stores locks in one transaction.
func putLocks(t *testing.T, s railyard.Store, locks ...*railyard.Lock) {
	t.Helper()
	update(t, s, func(tx railyard.Tx) error {
		for _, l := range locks {
			if err := tx.PutLock(t.Context(), l); err != nil {
				return err
			}
		}
		return nil
	})
}

// findLocks returns the locks matching filter.
func findLocks(t *testing.T, s railyard.Store, filter railyard.LockFilter) []*railyard.Lock {
	t.Helper()
	var locks []*railyard.Lock
	view(t, s, func(tx railyard.Tx) (err error) {
		locks, err = tx.FindLocks(t.Context(), filter)
		return err
	})
	return locks
}

func testLockRoundTrip(t *testing.T, s railyard.Store) {
	env := fullLock(railyard.LockEnvironment, "production", "freeze")
	app := fullLock(railyard.LockApplication, "production", "hotfix")
	team := fullLock(railyard.LockTeam, "production", "offsite")
	putLocks(t, s, fullLock(railyard.LockEnvironment, "production", "freeze"),
		fullLock(railyard.LockApplication, "production", "hotfix"), fullLock(railyard.LockTeam, "production", "offsite"))
	equal(t, "FindLocks", findLocks(t, s, railyard.LockFilter{}), []*railyard.Lock{app, env, team})
}

func testLockNoExpiry(t *testing.T, s railyard.Store) {
	want := &railyard.Lock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "dev", ID: "x"}, CreatedBy: railyard.Actor{Name: "a"}, CreatedAt: t0}
	c := *want
	putLocks(t, s, &c)
	equal(t, "FindLocks", findLocks(t, s, railyard.LockFilter{}), []*railyard.Lock{want})
}

// Locks are ordered by environment, kind, application, team, then id.
func testLocksOrdered(t *testing.T, s railyard.Store) {
	l := func(kind railyard.LockKind, env, app, team, id string) *railyard.Lock {
		return &railyard.Lock{LockTarget: railyard.LockTarget{Kind: kind, Environment: env, Application: app, Team: team, ID: id}, CreatedAt: t0}
	}
	want := []*railyard.Lock{
		l(railyard.LockApplication, "dev", "cart", "", "b"),
		l(railyard.LockApplication, "dev", "checkout", "", "a"),
		l(railyard.LockEnvironment, "dev", "", "", "a"),
		l(railyard.LockEnvironment, "dev", "", "", "b"),
		l(railyard.LockTeam, "dev", "", "payments", "a"),
		l(railyard.LockTeam, "dev", "", "shop", "a"),
		l(railyard.LockApplication, "production", "cart", "", "a"),
		l(railyard.LockEnvironment, "production", "", "", "a"),
	}
	var scrambled []*railyard.Lock
	for _, i := range []int{5, 2, 7, 0, 4, 6, 3, 1} {
		c := *want[i]
		scrambled = append(scrambled, &c)
	}
	putLocks(t, s, scrambled...)
	equal(t, "FindLocks", findLocks(t, s, railyard.LockFilter{}), want)
}

func testLockFilters(t *testing.T, s railyard.Store) {
	envLock := fullLock(railyard.LockEnvironment, "production", "freeze")
	appLock := fullLock(railyard.LockApplication, "production", "freeze")
	teamLock := fullLock(railyard.LockTeam, "production", "offsite")
	devApp := fullLock(railyard.LockApplication, "dev", "wip")
	devEnv := fullLock(railyard.LockEnvironment, "dev", "broken")
	putLocks(t, s, envLock, appLock, teamLock, devApp, devEnv)
	none := []*railyard.Lock{}
	tests := []struct {
		filter railyard.LockFilter
		want   []*railyard.Lock
	}{
		{railyard.LockFilter{Environment: "production"}, []*railyard.Lock{appLock, envLock, teamLock}},
		{railyard.LockFilter{Kind: railyard.LockApplication}, []*railyard.Lock{devApp, appLock}},
		{railyard.LockFilter{Application: "checkout"}, []*railyard.Lock{devApp, appLock}},
		{railyard.LockFilter{Team: "payments"}, []*railyard.Lock{teamLock}},
		{railyard.LockFilter{ID: "freeze"}, []*railyard.Lock{appLock, envLock}},
		{railyard.LockFilter{Environment: "dev", Kind: railyard.LockEnvironment}, []*railyard.Lock{devEnv}},
		{railyard.LockFilter{Kind: railyard.LockApplication, Application: "checkout", Environment: "production"}, []*railyard.Lock{appLock}},
		{railyard.LockFilter{Kind: railyard.LockEnvironment, Environment: "production", ID: "freeze"}, []*railyard.Lock{envLock}},
		{railyard.LockFilter{Kind: railyard.LockTeam, Environment: "production", Team: "payments", ID: "offsite"}, []*railyard.Lock{teamLock}},
		{railyard.LockFilter{Kind: railyard.LockTeam, Environment: "dev"}, none},
		{railyard.LockFilter{Environment: "staging"}, none},
	}
	for _, tt := range tests {
		equal(t, "FindLocks "+describe(tt.filter), findLocks(t, s, tt.filter), tt.want)
	}
}

// Putting a lock with an existing key replaces it, expiry included.
func testLockPutReplaces(t *testing.T, s railyard.Store) {
	putLocks(t, s, fullLock(railyard.LockApplication, "production", "hotfix"))
	want := fullLock(railyard.LockApplication, "production", "hotfix")
	want.Message = "still fixing"
	want.CreatedBy = railyard.Actor{Name: "Bob", Email: "bob@example.com"}
	want.CreatedAt = at(time.Hour)
	want.CILink = ""
	want.ExpiresAt = nil
	c := *want
	putLocks(t, s, &c)
	equal(t, "FindLocks after replacing", findLocks(t, s, railyard.LockFilter{}), []*railyard.Lock{want})
}

// Locks with the same id but another kind, environment, application or
// team are different locks.
func testLockKeyIsEveryField(t *testing.T, s railyard.Store) {
	locks := []*railyard.Lock{
		{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "dev", Application: "cart", ID: "x"}, CreatedAt: t0},
		{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "dev", Application: "checkout", ID: "x"}, CreatedAt: t0},
		{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "dev", ID: "x"}, CreatedAt: t0},
		{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "dev", Team: "payments", ID: "x"}, CreatedAt: t0},
		{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "dev", Team: "shop", ID: "x"}, CreatedAt: t0},
		{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "x"}, CreatedAt: t0},
	}
	putLocks(t, s, locks...)
	equal(t, "FindLocks", findLocks(t, s, railyard.LockFilter{}), locks)
}

func testLockDelete(t *testing.T, s railyard.Store) {
	envLock := fullLock(railyard.LockEnvironment, "production", "freeze")
	appLock := fullLock(railyard.LockApplication, "production", "freeze")
	teamLock := fullLock(railyard.LockTeam, "production", "freeze")
	putLocks(t, s, envLock, appLock, teamLock)
	update(t, s, func(tx railyard.Tx) error { return tx.DeleteLock(t.Context(), appLock.Key()) })
	equal(t, "FindLocks after deleting the application lock", findLocks(t, s, railyard.LockFilter{}), []*railyard.Lock{envLock, teamLock})
	update(t, s, func(tx railyard.Tx) error {
		if err := tx.DeleteLock(t.Context(), envLock.Key()); err != nil {
			return err
		}
		return tx.DeleteLock(t.Context(), teamLock.Key())
	})
	equal(t, "FindLocks after deleting all", findLocks(t, s, railyard.LockFilter{}), []*railyard.Lock{})
}

// The not-found message names the lock as a user knows it.
func testLockNotFound(t *testing.T, s railyard.Store) {
	putLocks(t, s, fullLock(railyard.LockEnvironment, "dev", "freeze"))
	tests := []struct {
		key  railyard.LockKey
		want string
	}{
		{railyard.LockKey{Kind: railyard.LockEnvironment, Environment: "production", ID: "freeze"},
			`lock "freeze" not found in environment "production"`},
		{railyard.LockKey{Kind: railyard.LockApplication, Environment: "dev", Application: "checkout", ID: "freeze"},
			`lock "freeze" of application "checkout" not found in environment "dev"`},
		{railyard.LockKey{Kind: railyard.LockTeam, Environment: "dev", Team: "payments", ID: "freeze"},
			`lock "freeze" of team "payments" not found in environment "dev"`},
	}
	for _, tt := range tests {
		err := s.Update(t.Context(), func(tx railyard.Tx) error { return tx.DeleteLock(t.Context(), tt.key) })
		wantError(t, "DeleteLock "+describe(tt.key), err, railyard.ENOTFOUND, tt.want)
	}
	equal(t, "FindLocks", len(findLocks(t, s, railyard.LockFilter{})), 1)
}
