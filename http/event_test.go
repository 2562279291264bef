package http

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// seedHistory records eight events an hour apart:
//
//	1-3 t0     environment.put development, staging, production (anonymous)
//	4   t0+1h  release.create checkout 1 (Alice), deployed to development
//	5   t0+2h  release.create cart 1 (Bob), deployed to development
//	6   t0+3h  deploy checkout 1 to staging (Alice)
//	7   t0+4h  lock.create staging freeze (Bob)
//	8   t0+5h  lock.delete staging freeze (Bob)
func seedHistory(t *testing.T, ts *testServer) {
	t.Helper()
	alice := railyard.Actor{Name: "Alice", Email: "alice@example.com"}
	bob := railyard.Actor{Name: "Bob", Email: "bob@example.com"}
	ts.seedEnvironments()
	cart := release(1)
	cart.Application, cart.SourceCommitID = "cart", "fedcba9876543210"
	steps := []struct {
		actor railyard.Actor
		cmd   railyard.Command
	}{
		{alice, release(1)},
		{bob, cart},
		{alice, &railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1}},
		{bob, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "freeze"}, Message: "m"}},
		{bob, &railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "freeze"}}},
	}
	for _, s := range steps {
		ts.clock.Add(time.Hour)
		_, err := ts.engine.ApplyOne(ctx, s.actor, s.cmd)
		noErr(t, err)
	}
}

// eventIDs formats the ids of a page and its next cursor: "8,7,6 next 6".
func eventIDs(events []*railyard.Event, next *int64) string {
	s := ""
	for i, e := range events {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprint(e.ID)
	}
	if next != nil {
		s += fmt.Sprintf(" next %d", *next)
	}
	return s
}

func TestEvents_Filters(t *testing.T) {
	ts := newTestServer(t, Options{})
	seedHistory(t, ts)
	ts2h := url.QueryEscape(t0.Add(2 * time.Hour).Format(time.RFC3339))
	cases := []struct {
		query, want string
	}{
		{"", "8,7,6,5,4,3,2,1"},
		{"application=checkout", "6,4"},
		{"application=cart", "5"},
		{"environment=staging", "8,7,6,2"},
		{"actor=Alice", "6,4"},
		{"actor=bob@example.com", "8,7,5"},
		{"kind=deploy", "6"},
		{"kind=lock.create", "7"},
		{"kind=environment.put", "3,2,1"},
		{"since=" + ts2h, "8,7,6,5"},
		{"until=" + ts2h, "4,3,2,1"},
		{"since=" + ts2h + "&until=" + url.QueryEscape(t0.Add(4*time.Hour).Format(time.RFC3339Nano)), "6,5"},
		{"sourceCommitId=" + commitA[:7], "6,4"},
		{"sourceCommitId=" + commitA, "6,4"},
		{"application=checkout&kind=deploy", "6"},
		{"limit=3", "8,7,6 next 6"},
		{"limit=3&before=6", "5,4,3 next 3"},
		{"limit=3&before=3", "2,1"},
		{"limit=2&before=3", "2,1"},
		{"limit=8", "8,7,6,5,4,3,2,1"},
		{"before=1", ""},
		{"application=nothing", ""},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			var page eventList
			ts.do("GET", "/api/v1/events?"+c.query, nil, nil).wantStatus(t, 200).json(t, &page)
			if page.Events == nil {
				t.Fatalf("events is null, want a list")
			}
			if got := eventIDs(page.Events, page.Next); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestEvents_ClientPagination(t *testing.T) {
	ts := newTestServer(t, Options{})
	seedHistory(t, ts)
	var got []int64
	var pages int
	filter := railyard.EventFilter{Limit: 3}
	for {
		events, next, err := ts.client.FindEvents(ctx, filter)
		noErr(t, err)
		pages++
		for _, e := range events {
			got = append(got, e.ID)
		}
		if next == 0 {
			break
		}
		filter.BeforeID = next
	}
	if fmt.Sprint(got) != "[8 7 6 5 4 3 2 1]" || pages != 3 {
		t.Fatalf("got %v in %d pages, want 8..1 in 3", got, pages)
	}
	since := t0.Add(3 * time.Hour)
	events, next, err := ts.client.FindEvents(ctx, railyard.EventFilter{Since: &since, Kind: railyard.KindDeploy, Actor: "Alice", Application: "checkout", Environment: "staging", SourceCommitID: commitA})
	noErr(t, err)
	if len(events) != 1 || events[0].ID != 6 || next != 0 {
		t.Fatalf("got %s next %d, want event 6 alone", eventIDs(events, nil), next)
	}
	e := events[0]
	if e.Actor.Name != "Alice" || !e.Time.Equal(t0.Add(3*time.Hour)) || e.Description == "" || len(e.Changes) == 0 || len(e.Payload) == 0 {
		t.Fatalf("got event %+v, want Alice's deploy with description, changes and payload", e)
	}
	_, _, err = ts.client.FindEvents(ctx, railyard.EventFilter{AfterID: 1})
	wantError(t, err, railyard.EINVALID, "after")
}

func TestEvents_BadParameters(t *testing.T) {
	ts := newTestServer(t, Options{})
	seedHistory(t, ts)
	cases := []struct{ query, field string }{
		{"limit=0", "limit"},
		{"limit=1001", "limit"},
		{"limit=-1", "limit"},
		{"limit=ten", "limit"},
		{"before=0", "before"},
		{"before=x", "before"},
		{"since=yesterday", "since"},
		{"since=2025-03-14", "since"},
		{"until=2025-03-14T10:00:00", "until"},
		{"since=2025-03-15T00:00:00Z&until=2025-03-14T00:00:00Z", "until"},
		{"application=UPPER", "application"},
		{"application=a/b", "application"},
		{"environment=..", "environment"},
		{"environment=" + url.QueryEscape("ä"), "environment"},
		{"kind=bogus", "kind"},
		{"sourceCommitId=xyz", "sourceCommitId"},
		{"sourceCommitId=abc", "sourceCommitId"},
		{"page=2", "page"},
		{"kind=deploy&kind=lock.create", "kind"},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			ts.do("GET", "/api/v1/events?"+c.query, nil, nil).wantError(t, 400, railyard.EINVALID, c.field)
		})
	}
}
