package http

import (
	"fmt"
	"testing"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

func TestLocks_EveryKind(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ts.seedRelease(release(1))
	cases := []struct {
		kind      railyard.LockKind
		path      string
		wantLocks int
		wantKind  railyard.LockKind
	}{
		{railyard.LockEnvironment, "/api/v1/environments/staging/locks/freeze", 1, railyard.LockEnvironment},
		{railyard.LockApplication, "/api/v1/environments/staging/applications/checkout/locks/hotfix.1", 1, railyard.LockApplication},
		{railyard.LockTeam, "/api/v1/environments/staging/teams/payments/locks/audit_2", 1, railyard.LockTeam},
		{railyard.LockGroup, "/api/v1/environment-groups/prod/locks/Release-Train", 1, railyard.LockEnvironment},
	}
	for _, c := range cases {
		t.Run(string(c.kind), func(t *testing.T) {
			var res railyard.Result
			ts.doJSON("PUT", c.path, `{"message":"hold on","ciLink":"https://ci.example.com/1"}`).wantStatus(t, 201).json(t, &res)
			if res.Kind != railyard.KindLockCreate || res.Outcome != railyard.OutcomeCreated || len(res.Locks) != c.wantLocks {
				t.Fatalf("got %+v, want %d created lock(s)", res, c.wantLocks)
			}
			l := res.Locks[0]
			if l.Kind != c.wantKind || l.Message != "hold on" || l.CILink != "https://ci.example.com/1" || l.CreatedBy != railyard.DefaultActor || !l.CreatedAt.Equal(t0) {
				t.Fatalf("got lock %+v", l)
			}
			before := ts.state()
			res = railyard.Result{}
			ts.do("DELETE", c.path, nil, nil).wantStatus(t, 200).json(t, &res)
			if res.Kind != railyard.KindLockDelete || res.Outcome != railyard.OutcomeDeleted || res.Event == nil {
				t.Fatalf("got %+v, want a deleted lock.delete", res)
			}
			if len(before.Locks) != 1 || len(ts.state().Locks) != 0 {
				t.Fatalf("got %d locks before and %d after, want 1 and 0", len(before.Locks), len(ts.state().Locks))
			}
			ts.do("DELETE", c.path, nil, nil).wantError(t, 404, railyard.ENOTFOUND, "lockId")
		})
	}
}

func TestLocks_ClientAndFilters(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ts.seedRelease(release(1))
	expires := t0.Add(4 * time.Hour)
	creates := []railyard.CreateLock{
		{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "freeze"}, Message: "m", ExpiresAt: &expires},
		{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "staging", Application: "checkout", ID: "a1"}, Message: "m"},
		{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "development", Team: "payments", ID: "t1"}, Message: "m"},
		{LockTarget: railyard.LockTarget{Kind: railyard.LockGroup, Group: "prod", ID: "g1"}, Message: "m"},
	}
	for _, c := range creates {
		res, err := ts.client.CreateLock(ctx, c)
		noErr(t, err)
		if res.Locks[0].CreatedBy != ts.client.Actor {
			t.Fatalf("got creator %+v, want the client's actor", res.Locks[0].CreatedBy)
		}
	}
	all, err := ts.client.FindLocks(ctx, railyard.LockFilter{})
	noErr(t, err)
	if len(all) != 4 || all[0].Environment != "development" || !all[len(all)-1].ExpiresAt.Equal(expires) {
		t.Fatalf("got %d locks (%v), want 4 ordered by environment, the staging lock expiring at %v", len(all), all, expires)
	}
	filters := []struct {
		filter railyard.LockFilter
		want   string
	}{
		{railyard.LockFilter{Environment: "staging"}, "a1,freeze"},
		{railyard.LockFilter{Kind: railyard.LockApplication}, "a1"},
		{railyard.LockFilter{Application: "checkout"}, "a1"},
		{railyard.LockFilter{Team: "payments"}, "t1"},
		{railyard.LockFilter{Kind: railyard.LockEnvironment, Environment: "production"}, "g1"},
		{railyard.LockFilter{ID: "freeze"}, "freeze"},
		{railyard.LockFilter{Environment: "staging", Kind: railyard.LockTeam}, ""},
	}
	for _, f := range filters {
		locks, err := ts.client.FindLocks(ctx, f.filter)
		noErr(t, err)
		got := ""
		for i, l := range locks {
			got += map[bool]string{true: ",", false: ""}[i > 0] + l.ID
		}
		if got != f.want {
			t.Errorf("filter %+v: got %q, want %q", f.filter, got, f.want)
		}
	}
	if got := string(ts.do("GET", "/api/v1/locks?environment=qa", nil, nil).wantStatus(t, 200).body); got != "{\"locks\":[]}\n" {
		t.Fatalf("got %q, want an empty list", got)
	}
	for _, d := range []railyard.DeleteLock{
		{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "freeze"}},
		{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "staging", Application: "checkout", ID: "a1"}},
		{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "development", Team: "payments", ID: "t1"}},
		{LockTarget: railyard.LockTarget{Kind: railyard.LockGroup, Group: "prod", ID: "g1"}},
	} {
		_, err := ts.client.DeleteLock(ctx, d)
		noErr(t, err)
	}
	_, err = ts.client.DeleteLock(ctx, railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: "bogus", ID: "x"}})
	wantError(t, err, railyard.EINVALID, "kind")
}

func TestLocks_DeleteDeploysQueue(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	_, err := ts.client.CreateLock(ctx, railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "development", ID: "freeze"}, Message: "m"})
	noErr(t, err)
	ts.seedRelease(release(1))
	ov, _ := ts.client.Overview(ctx)
	if cell := ov.Applications[0].Environments["development"]; cell.Version != nil || *cell.QueuedVersion != 1 || len(cell.Locks) != 1 {
		t.Fatalf("got %+v, want version 1 queued behind the lock", cell)
	}
	_, err = ts.client.DeleteLock(ctx, railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "development", ID: "freeze"}})
	noErr(t, err)
	ov, _ = ts.client.Overview(ctx)
	if cell := ov.Applications[0].Environments["development"]; *cell.Version != 1 || cell.QueuedVersion != nil || len(cell.Locks) != 0 {
		t.Fatalf("got %+v, want version 1 deployed from the queue", cell)
	}
}

func TestLocks_BadInput(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ts.seedRelease(release(1))
	before := ts.state()
	cases := []struct {
		method, path, body string
		status             int
		code, field        string
	}{
		{"PUT", "/api/v1/environments/staging/locks/freeze", `{}`, 400, railyard.EINVALID, "message"},
		{"PUT", "/api/v1/environments/staging/locks/freeze", `{"message":"  "}`, 400, railyard.EINVALID, "message"},
		{"PUT", "/api/v1/environments/staging/locks/freeze", `{"message":"m","expiresAt":"tomorrow"}`, 400, railyard.EINVALID, "expiresAt"},
		{"PUT", "/api/v1/environments/staging/locks/freeze", `{"message":"m","expiresAt":"2020-01-01T00:00:00Z"}`, 400, railyard.EINVALID, "expiresAt"},
		{"PUT", "/api/v1/environments/staging/locks/freeze", `{"message":"m","ciLink":"ftp://x"}`, 400, railyard.EINVALID, "ciLink"},
		{"PUT", "/api/v1/environments/staging/locks/freeze", `{"message":"m","kind":"team"}`, 400, railyard.EINVALID, "kind"},
		{"PUT", "/api/v1/environments/staging/locks/-bad", `{"message":"m"}`, 400, railyard.EINVALID, "lockId"},
		{"PUT", "/api/v1/environments/qa/locks/freeze", `{"message":"m"}`, 404, railyard.ENOTFOUND, ""},
		{"PUT", "/api/v1/environments/staging/applications/cart/locks/x", `{"message":"m"}`, 404, railyard.ENOTFOUND, ""},
		{"PUT", "/api/v1/environments/staging/teams/nobody/locks/x", `{"message":"m"}`, 404, railyard.ENOTFOUND, "team"},
		{"PUT", "/api/v1/environment-groups/nogroup/locks/x", `{"message":"m"}`, 404, railyard.ENOTFOUND, "group"},
		{"PUT", "/api/v1/environments/staging/teams/UPPER/locks/x", `{"message":"m"}`, 400, railyard.EINVALID, "team"},
		{"PUT", "/api/v1/environment-groups/a_b/locks/x", `{"message":"m"}`, 400, railyard.EINVALID, "group"},
		{"GET", "/api/v1/locks?kind=environment-group", "", 400, railyard.EINVALID, "kind"},
		{"GET", "/api/v1/locks?kind=x", "", 400, railyard.EINVALID, "kind"},
		{"GET", "/api/v1/locks?environment=UP", "", 400, railyard.EINVALID, "environment"},
		{"GET", "/api/v1/locks?application=a/b", "", 400, railyard.EINVALID, "application"},
		{"GET", "/api/v1/locks?team=..", "", 400, railyard.EINVALID, "team"},
		{"GET", "/api/v1/locks?id=.", "", 400, railyard.EINVALID, "lockId"},
		{"GET", "/api/v1/locks?envronment=staging", "", 400, railyard.EINVALID, "envronment"},
		{"GET", "/api/v1/locks?team=a&team=b", "", 400, railyard.EINVALID, "team"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %s %s", c.method, c.path, c.body), func(t *testing.T) {
			var body any
			if c.body != "" {
				body = c.body
			}
			ts.doJSON(c.method, c.path, body).wantError(t, c.status, c.code, c.field)
			ts.unchanged(before)
		})
	}
}
