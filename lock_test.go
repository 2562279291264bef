package railyard_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

func TestGroupLock(t *testing.T) {
	h := newHarness(t).chain()
	h.put("de-prod", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, EnvironmentGroup: "prod"})
	h.put("jp-prod", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, EnvironmentGroup: "prod"})
	res := h.must(&railyard.CreateLock{LockKind: railyard.LockGroup, Group: "prod", ID: "freeze", Message: "release freeze"})
	assertEqual(t, "locks created", len(res.Locks), 2)
	assertEqual(t, "description", res.Event.Description, "Lock environment group prod (freeze): release freeze")
	locks, err := h.eng.FindLocks(context.Background(), railyard.LockFilter{ID: "freeze"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range locks {
		got = append(got, fmt.Sprintf("%s:%s", l.Kind, l.Environment))
	}
	assertEqual(t, "locks", strings.Join(got, ","), "environment:de-prod,environment:jp-prod")

	// Removing the lock from one member by hand leaves the other; deleting
	// the group lock then removes what is left.
	h.must(&railyard.DeleteLock{LockKind: railyard.LockEnvironment, Environment: "de-prod", ID: "freeze"})
	h.must(&railyard.DeleteLock{LockKind: railyard.LockGroup, Group: "prod", ID: "freeze"})
	locks, _ = h.eng.FindLocks(context.Background(), railyard.LockFilter{})
	assertEqual(t, "locks left", len(locks), 0)
	h.fail(railyard.ENOTFOUND, &railyard.DeleteLock{LockKind: railyard.LockGroup, Group: "prod", ID: "freeze"})
	h.fail(railyard.ENOTFOUND, &railyard.CreateLock{LockKind: railyard.LockGroup, Group: "nope", ID: "x", Message: "m"})
}

func TestLockExpiry(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development")
	exp := t0.Add(30 * time.Minute)
	h.must(&railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "development", ID: "short", Message: "m", ExpiresAt: &exp})
	h.release("checkout", 2, "payments", "development")
	assertEqual(t, "queued", h.state("checkout", "development"), "1/2")

	h.now = exp.Add(-time.Microsecond)
	ev, err := h.eng.ExpireLocks(context.Background())
	if err != nil || ev != nil {
		t.Fatalf("before expiry: got event %v, err %v; want none", ev, err)
	}
	h.now = exp
	ev, err = h.eng.ExpireLocks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "actor", ev.Actor, railyard.SystemActor)
	assertEqual(t, "description", ev.Description, "Remove expired locks: development (short); deploy queued checkout 2 to development")
	assertEqual(t, "deployed", h.state("checkout", "development"), "2/-")

	h.fail(railyard.EINVALID, &railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "development", ID: "past", Message: "m", ExpiresAt: &t0})
}
