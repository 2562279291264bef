package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

var eventTests = []test{
	{"RoundTrip", testEventRoundTrip},
	{"EmptyPayloadAndChanges", testEventEmpty},
	{"IDsIncrease", testEventIDsIncrease},
	{"LastEventIDEmpty", testLastEventIDEmpty},
	{"Filters", testEventFilters},
	{"SourceCommitIDTooShort", testEventSourceCommitIDInvalid},
	{"Pagination", testEventPagination},
	{"ChangedApplications", testChangedApplications},
}

var (
	alice = railyard.Actor{Name: "Alice", Email: "alice@example.com"}
	bob   = railyard.Actor{Name: "Bob", Email: "bob@example.com"}
)

// Commits A and B share their first 8 characters; C shares nothing.
const (
	commitA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
	commitB = "a1b2c3d4ffff0000111122223333444455556666"
	commitC = "ff00ee11dd22cc33bb44aa5599668877ffeeddcc"
)

// createEvents stores each event in its own transaction and returns their
// IDs.
func createEvents(t *testing.T, s railyard.Store, events ...*railyard.Event) []int64 {
	t.Helper()
	var ids []int64
	for _, e := range events {
		update(t, s, func(tx railyard.Tx) error { return tx.CreateEvent(t.Context(), e) })
		ids = append(ids, e.ID)
	}
	return ids
}

// findEvents returns the events matching filter.
func findEvents(t *testing.T, s railyard.Store, filter railyard.EventFilter) []*railyard.Event {
	t.Helper()
	var events []*railyard.Event
	view(t, s, func(tx railyard.Tx) (err error) {
		events, err = tx.FindEvents(t.Context(), filter)
		return err
	})
	return events
}

func testEventRoundTrip(t *testing.T, s railyard.Store) {
	e := fullEvent("create-release", t0, alice, railyard.EventRef{Application: "checkout", SourceCommitID: commitA})
	createEvents(t, s, e)
	if e.ID <= 0 {
		t.Fatalf("CreateEvent: got ID %d, want a positive ID set on the event", e.ID)
	}
	want := fullEvent("create-release", t0, alice)
	want.ID = e.ID
	equal(t, "FindEvents", findEvents(t, s, railyard.EventFilter{}), []*railyard.Event{want})
}

// Without payload and changes an event reads back with a nil Payload and
// empty, non-nil Changes.
func testEventEmpty(t *testing.T, s railyard.Store) {
	e := &railyard.Event{Time: t0, Actor: railyard.SystemActor, Kind: "expire-locks"}
	createEvents(t, s, e)
	want := &railyard.Event{ID: e.ID, Time: t0, Actor: railyard.SystemActor, Kind: "expire-locks", Changes: []railyard.Change{}}
	equal(t, "FindEvents", findEvents(t, s, railyard.EventFilter{}), []*railyard.Event{want})
}

// IDs increase, within a transaction and across transactions, and a
// rolled-back event does not count.
func testEventIDsIncrease(t *testing.T, s railyard.Store) {
	var ids []int64
	for i := range 3 {
		update(t, s, func(tx railyard.Tx) error {
			for range i + 1 {
				e := &railyard.Event{Time: t0, Actor: alice, Kind: "k"}
				if err := tx.CreateEvent(t.Context(), e); err != nil {
					return err
				}
				ids = append(ids, e.ID)
			}
			return nil
		})
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("event IDs: got %v, want each greater than the one before", ids)
		}
	}
	last := ids[len(ids)-1]
	rollback := fmt.Errorf("roll back")
	err := s.Update(t.Context(), func(tx railyard.Tx) error {
		if err := tx.CreateEvent(t.Context(), &railyard.Event{Time: t0, Actor: alice, Kind: "k"}); err != nil {
			return err
		}
		return rollback
	})
	if err != rollback {
		t.Fatalf("Update: got error %v, want %v", err, rollback)
	}
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.LastEventID(t.Context())
		noError(t, "LastEventID", err)
		equal(t, "LastEventID", got, last)
		return nil
	})
	next := createEvents(t, s, &railyard.Event{Time: t0, Actor: alice, Kind: "k"})[0]
	if next <= last {
		t.Errorf("ID after a rollback: got %d, want more than %d", next, last)
	}
}

func testLastEventIDEmpty(t *testing.T, s railyard.Store) {
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.LastEventID(t.Context())
		noError(t, "LastEventID", err)
		equal(t, "LastEventID of an empty store", got, int64(0))
		got2, err := tx.FindEvents(t.Context(), railyard.EventFilter{})
		noError(t, "FindEvents", err)
		equal(t, "FindEvents of an empty store", got2, []*railyard.Event{})
		return nil
	})
}

// eventFixture stores six events and returns their IDs, e[1] to e[6]
// (e[0] is unused).
func eventFixture(t *testing.T, s railyard.Store) []int64 {
	ref := func(app, env, commit string) railyard.EventRef {
		return railyard.EventRef{Application: app, Environment: env, SourceCommitID: commit}
	}
	ids := createEvents(t, s,
		fullEvent("create-release", at(0), alice, ref("checkout", "", commitA), ref("checkout", "dev", commitA)),
		fullEvent("deploy", at(time.Minute), bob, ref("checkout", "staging", commitA)),
		fullEvent("create-lock", at(2*time.Minute), alice, ref("", "production", "")),
		fullEvent("create-release", at(3*time.Minute), bob, ref("payments", "", commitB), ref("payments", "dev", commitB)),
		// A release train: payments at B to staging, checkout at C to production.
		fullEvent("release-train", at(4*time.Minute), railyard.SystemActor, ref("payments", "staging", commitB), ref("checkout", "production", commitC)),
		fullEvent("deploy", at(5*time.Minute), alice, ref("checkout", "production", commitC)),
	)
	return append([]int64{0}, ids...)
}

func testEventFilters(t *testing.T, s railyard.Store) {
	e := eventFixture(t, s)
	tm := func(d time.Duration) *time.Time { return ptr(at(d)) }
	tests := []struct {
		name   string
		filter railyard.EventFilter
		want   []int64
	}{
		{"all, newest first", railyard.EventFilter{}, []int64{e[6], e[5], e[4], e[3], e[2], e[1]}},
		{"application", railyard.EventFilter{Application: "checkout"}, []int64{e[6], e[5], e[2], e[1]}},
		{"other application", railyard.EventFilter{Application: "payments"}, []int64{e[5], e[4]}},
		{"unknown application", railyard.EventFilter{Application: "ghost"}, []int64{}},
		{"environment", railyard.EventFilter{Environment: "dev"}, []int64{e[4], e[1]}},
		{"environment with a lock", railyard.EventFilter{Environment: "production"}, []int64{e[6], e[5], e[3]}},
		{"application and environment", railyard.EventFilter{Application: "checkout", Environment: "production"}, []int64{e[6], e[5]}},
		{"application and environment of different refs", railyard.EventFilter{Application: "payments", Environment: "production"}, []int64{}},
		{"application and commit of different refs", railyard.EventFilter{Application: "payments", SourceCommitID: commitC}, []int64{}},
		{"application and commit", railyard.EventFilter{Application: "checkout", SourceCommitID: commitC[:7]}, []int64{e[6], e[5]}},
		{"actor name", railyard.EventFilter{Actor: "Alice"}, []int64{e[6], e[3], e[1]}},
		{"actor e-mail", railyard.EventFilter{Actor: "bob@example.com"}, []int64{e[4], e[2]}},
		{"actor matches exactly", railyard.EventFilter{Actor: "alice"}, []int64{}},
		{"kind", railyard.EventFilter{Kind: "deploy"}, []int64{e[6], e[2]}},
		{"kind and actor", railyard.EventFilter{Kind: "deploy", Actor: "Alice"}, []int64{e[6]}},
		{"since is inclusive", railyard.EventFilter{Since: tm(2 * time.Minute)}, []int64{e[6], e[5], e[4], e[3]}},
		{"until is exclusive", railyard.EventFilter{Until: tm(2 * time.Minute)}, []int64{e[2], e[1]}},
		{"since and until", railyard.EventFilter{Since: tm(time.Minute), Until: tm(3 * time.Minute)}, []int64{e[3], e[2]}},
		{"since equals until", railyard.EventFilter{Since: tm(time.Minute), Until: tm(time.Minute)}, []int64{}},
		{"commit prefix of 7", railyard.EventFilter{SourceCommitID: commitA[:7]}, []int64{e[5], e[4], e[2], e[1]}},
		{"commit prefix of 9", railyard.EventFilter{SourceCommitID: commitA[:9]}, []int64{e[2], e[1]}},
		{"full commit", railyard.EventFilter{SourceCommitID: commitB}, []int64{e[5], e[4]}},
		{"commit in upper case", railyard.EventFilter{SourceCommitID: "A1B2C3D4E"}, []int64{e[2], e[1]}},
		{"commit and environment", railyard.EventFilter{SourceCommitID: commitA[:9], Environment: "staging"}, []int64{e[2]}},
		{"unknown commit", railyard.EventFilter{SourceCommitID: "0000000"}, []int64{}},
		{"after id, oldest first", railyard.EventFilter{AfterID: e[2]}, []int64{e[3], e[4], e[5], e[6]}},
		{"after id with limit", railyard.EventFilter{AfterID: e[2], Limit: 2}, []int64{e[3], e[4]}},
		{"after the last id", railyard.EventFilter{AfterID: e[6]}, []int64{}},
		{"before id, newest first", railyard.EventFilter{BeforeID: e[5]}, []int64{e[4], e[3], e[2], e[1]}},
		{"before id with limit", railyard.EventFilter{BeforeID: e[5], Limit: 2}, []int64{e[4], e[3]}},
		{"after and before id, oldest first", railyard.EventFilter{AfterID: e[1], BeforeID: e[5]}, []int64{e[2], e[3], e[4]}},
		{"after id and application", railyard.EventFilter{AfterID: e[1], Application: "checkout"}, []int64{e[2], e[5], e[6]}},
		{"limit", railyard.EventFilter{Limit: 3}, []int64{e[6], e[5], e[4]}},
		{"ascending from the start", railyard.EventFilter{Ascending: true, Limit: 3}, []int64{e[1], e[2], e[3]}},
		{"ascending before id", railyard.EventFilter{Ascending: true, BeforeID: e[4]}, []int64{e[1], e[2], e[3]}},
		{"every field", railyard.EventFilter{
			Application: "checkout", Environment: "production", Actor: railyard.SystemActor.Email,
			Kind: "release-train", Since: tm(0), Until: tm(10 * time.Minute), SourceCommitID: commitC[:12],
			AfterID: e[1], BeforeID: e[6], Limit: 5,
		}, []int64{e[5]}},
	}
	for _, tt := range tests {
		equal(t, tt.name, eventIDs(findEvents(t, s, tt.filter)), tt.want)
	}
}

// A commit prefix must have at least 7 hexadecimal characters.
func testEventSourceCommitIDInvalid(t *testing.T, s railyard.Store) {
	eventFixture(t, s)
	for _, c := range []string{"a1b2c3", "a1b2c3z", "a1b2c3d%"} {
		err := s.View(t.Context(), func(tx railyard.Tx) error {
			_, err := tx.FindEvents(t.Context(), railyard.EventFilter{SourceCommitID: c})
			return err
		})
		wantError(t, fmt.Sprintf("FindEvents with SourceCommitID %q", c), err, railyard.EINVALID, "")
	}
}

// Paging with BeforeID (newest first) or AfterID (oldest first) visits
// every event once.
func testEventPagination(t *testing.T, s railyard.Store) {
	var all []int64
	update(t, s, func(tx railyard.Tx) error {
		for i := range 25 {
			e := &railyard.Event{Time: at(time.Duration(i) * time.Second), Actor: alice, Kind: "k"}
			if err := tx.CreateEvent(t.Context(), e); err != nil {
				return err
			}
			all = append(all, e.ID)
		}
		return nil
	})
	// The exporter's walk: ascending from cursor 0, then after each page.
	var forward []int64
	for cursor := int64(0); ; {
		page := eventIDs(findEvents(t, s, railyard.EventFilter{AfterID: cursor, Ascending: true, Limit: 10}))
		if len(page) == 0 {
			break
		}
		forward = append(forward, page...)
		cursor = page[len(page)-1]
	}
	equal(t, "pages of AfterID", forward, all)
	first := eventIDs(findEvents(t, s, railyard.EventFilter{Limit: 10}))
	backward := first
	for cursor := first[len(first)-1]; ; {
		page := eventIDs(findEvents(t, s, railyard.EventFilter{BeforeID: cursor, Limit: 10}))
		if len(page) == 0 {
			break
		}
		backward = append(backward, page...)
		cursor = page[len(page)-1]
	}
	var reversed []int64
	for i := len(all) - 1; i >= 0; i-- {
		reversed = append(reversed, all[i])
	}
	equal(t, "pages of BeforeID", backward, reversed)
}

// testChangedApplications: the applications named by the changes of the
// events after an id, sorted, each once; environment-only changes name
// none.
func testChangedApplications(t *testing.T, s railyard.Store) {
	changed := func(after int64) []string {
		t.Helper()
		var apps []string
		view(t, s, func(tx railyard.Tx) (err error) {
			apps, err = tx.ChangedApplications(t.Context(), after)
			return err
		})
		return apps
	}
	equal(t, "ChangedApplications with no events", changed(0), []string{})
	ids := createEvents(t, s,
		&railyard.Event{Time: t0, Actor: alice, Kind: "deploy", Changes: []railyard.Change{
			{Op: railyard.ChangeDeploy, Application: "search", Environment: "production", Version: 2},
		}},
		&railyard.Event{Time: t0, Actor: alice, Kind: "environment.put", Changes: []railyard.Change{
			{Op: railyard.ChangeEnvironmentPut, Environment: "staging"},
		}},
		fullEvent("release.create", t0, alice),
		&railyard.Event{Time: t0, Actor: bob, Kind: "release-train", Changes: []railyard.Change{
			{Op: railyard.ChangeDeploy, Application: "search", Environment: "staging", Version: 3},
			{Op: railyard.ChangeDeploy, Application: "billing", Environment: "staging", Version: 1},
		}},
	)
	equal(t, "ChangedApplications after 0", changed(0), []string{"billing", "checkout", "search"})
	equal(t, "ChangedApplications after the first event", changed(ids[0]), []string{"billing", "checkout", "search"})
	equal(t, "ChangedApplications after the release", changed(ids[2]), []string{"billing", "search"})
	equal(t, "ChangedApplications after the last event", changed(ids[3]), []string{})
}
