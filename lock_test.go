package railyard_test

import (
	"context"
	"encoding/json"
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
	res := h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockGroup, Group: "prod", ID: "freeze"}, Message: "release freeze"})
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
	h.must(&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "de-prod", ID: "freeze"}})
	h.must(&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockGroup, Group: "prod", ID: "freeze"}})
	locks, _ = h.eng.FindLocks(context.Background(), railyard.LockFilter{})
	assertEqual(t, "locks left", len(locks), 0)
	h.fail(railyard.ENOTFOUND, &railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockGroup, Group: "prod", ID: "freeze"}})
	h.fail(railyard.ENOTFOUND, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockGroup, Group: "nope", ID: "x"}, Message: "m"})
}

func TestLockExpiry(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development")
	exp := t0.Add(30 * time.Minute)
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "development", ID: "short"}, Message: "m", ExpiresAt: &exp})
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

	h.fail(railyard.EINVALID, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "development", ID: "past"}, Message: "m", ExpiresAt: &t0})
}

// TestLockJSONWireFormat checks that locks and lock commands keep their
// JSON form, field for field and in order: it is the API's, the event
// payload's and the batch params'. (The target fields come from the
// embedded LockTarget.)
func TestLockJSONWireFormat(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{"kind":"application","environment":"production","application":"checkout","id":"bug","message":"m","createdBy":{"name":"Alice","email":"alice@example.com"},"createdAt":"2026-01-02T03:04:05Z","ciLink":"https://ci.example.com/1","expiresAt":"2026-01-03T00:00:00Z"}`,
		`{"kind":"team","environment":"staging","team":"payments","id":"q4","message":"m","createdBy":{"name":"Bob","email":""},"createdAt":"2026-01-02T03:04:05Z"}`,
	} {
		var l railyard.Lock
		if err := json.Unmarshal([]byte(in), &l); err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(&l)
		if err != nil {
			t.Fatal(err)
		}
		assertEqual(t, "lock", string(out), in)
	}
	for _, tc := range []struct{ kind, in string }{
		{railyard.KindLockCreate, `{"kind":"environment","environment":"production","id":"freeze","message":"m"}`},
		{railyard.KindLockCreate, `{"kind":"environment-group","group":"prod","id":"freeze","message":"m","ciLink":"https://ci.example.com/1","expiresAt":"2026-01-03T00:00:00Z"}`},
		{railyard.KindLockDelete, `{"kind":"team","environment":"staging","team":"payments","id":"q4"}`},
		{railyard.KindLockDelete, `{"kind":"environment-group","group":"prod","id":"freeze"}`},
	} {
		cmd, err := railyard.DecodeCommand(tc.kind, []byte(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		out, err := json.Marshal(cmd)
		if err != nil {
			t.Fatal(err)
		}
		assertEqual(t, tc.kind, string(out), tc.in)
	}
	// The strict decoder names the target's fields as the command's own.
	_, err := railyard.DecodeCommand(railyard.KindLockCreate, []byte(`{"kind":"environment","Environment":"production","id":"freeze","message":"m"}`))
	if e := railyard.AsError(err); e == nil || e.Field != "Environment" || e.Message != `unknown field "Environment": field names are case-sensitive, use "environment"` {
		t.Errorf("got %v", err)
	}
}

// TestFindLocksRefusesGroup checks that a lock filter naming a group is
// refused rather than matching every lock: stored locks have no group.
func TestFindLocksRefusesGroup(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, err := h.eng.FindLocks(context.Background(), railyard.LockFilter{Group: "prod"})
	e := railyard.AsError(err)
	if e == nil || e.Code != railyard.EINVALID || e.Field != "group" ||
		e.Message != "group: a group lock is stored as an environment lock in every member environment; filter by environment" {
		t.Errorf("got %v", err)
	}
}
