package storetest

import (
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
)

var manifestContentTests = []test{
	{"SharedByReleases", testManifestsSharedByReleases},
	{"EventsKeepManifestsOfGoneReleases", testEventsKeepManifests},
	{"EventsShareManifests", testEventsShareManifests},
	{"EmptyAndLargeManifests", testEventEmptyAndLargeManifests},
	{"RolledBackContent", testManifestRolledBack},
}

// Manifests shared by environments and versions (which a store may keep
// once) stay with every release that has them when one of them is retired.
func testManifestsSharedByReleases(t *testing.T, s railyard.Store) {
	const a, b, c = "kind: A\n", "kind: B\n", "kind: C\n"
	r1 := &railyard.Release{Application: "checkout", Version: 1, CreatedAt: t0,
		Manifests: map[string]string{"dev": a, "staging": a, "production": b}}
	r2 := &railyard.Release{Application: "checkout", Version: 2, CreatedAt: t0,
		Manifests: map[string]string{"dev": a, "production": c}}
	r3 := &railyard.Release{Application: "cart", Version: 1, CreatedAt: t0,
		Manifests: map[string]string{"dev": b}}
	createReleases(t, s, r1, r2, r3)
	update(t, s, func(tx railyard.Tx) error { return tx.RetireRelease(t.Context(), retire("checkout", 1)) })
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRelease(t.Context(), "checkout", 2, true)
		noError(t, "FindRelease", err)
		equal(t, "manifests of checkout 2", got.Manifests, map[string]string{"dev": a, "production": c})
		got, err = tx.FindRelease(t.Context(), "cart", 1, true)
		noError(t, "FindRelease", err)
		equal(t, "manifests of cart 1", got.Manifests, map[string]string{"dev": b})
		return nil
	})
}

// Events are the audit log and the Git exporter's input, which may be
// behind: an event's release.create change keeps every manifest after its
// release was retired and its application deleted.
func testEventsKeepManifests(t *testing.T, s railyard.Store) {
	rel := fullRelease("checkout", 1)
	e := &railyard.Event{Time: t0, Actor: alice, Kind: railyard.KindReleaseCreate, Description: "Release checkout 1",
		Changes: []railyard.Change{{Op: railyard.ChangeReleaseCreate, Application: "checkout", Version: 1, Release: rel}}}
	update(t, s, func(tx railyard.Tx) error {
		if err := tx.PutApplication(t.Context(), fullApplication("checkout")); err != nil {
			return err
		}
		if err := tx.CreateRelease(t.Context(), fullRelease("checkout", 1)); err != nil {
			return err
		}
		return tx.CreateEvent(t.Context(), e)
	})
	update(t, s, func(tx railyard.Tx) error {
		if err := tx.RetireRelease(t.Context(), retire("checkout", 1)); err != nil {
			return err
		}
		return tx.DeleteApplication(t.Context(), "checkout")
	})
	want := *e
	want.Changes = []railyard.Change{{Op: railyard.ChangeReleaseCreate, Application: "checkout", Version: 1, Release: fullRelease("checkout", 1)}}
	equal(t, "FindEvents after the release and its application are gone", findEvents(t, s, railyard.EventFilter{}), []*railyard.Event{&want})
}

// Two events with the same manifests, and one release.create change per
// environment set, read back with their own full manifests.
func testEventsShareManifests(t *testing.T, s railyard.Store) {
	const a, b = "kind: A\n", "kind: B\n"
	event := func(version int64, manifests map[string]string) *railyard.Event {
		r := &railyard.Release{Application: "checkout", Version: version, CreatedAt: t0, Manifests: manifests,
			Environments: []string{"dev", "production"}}
		return &railyard.Event{Time: t0, Actor: alice, Kind: railyard.KindReleaseCreate, Changes: []railyard.Change{
			{Op: railyard.ChangeApplicationPut, Application: "checkout", Team: "payments"},
			{Op: railyard.ChangeReleaseCreate, Application: "checkout", Version: version, Release: r},
			{Op: railyard.ChangeDeploy, Application: "checkout", Environment: "dev", Version: version},
		}}
	}
	e1 := event(1, map[string]string{"dev": a, "production": a})
	e2 := event(2, map[string]string{"dev": a, "production": b})
	update(t, s, func(tx railyard.Tx) error {
		if err := tx.CreateEvent(t.Context(), e1); err != nil {
			return err
		}
		return tx.CreateEvent(t.Context(), e2)
	})
	want1, want2 := event(1, map[string]string{"dev": a, "production": a}), event(2, map[string]string{"dev": a, "production": b})
	want1.ID, want2.ID = e1.ID, e2.ID
	equal(t, "FindEvents", findEvents(t, s, railyard.EventFilter{Ascending: true}), []*railyard.Event{want1, want2})
}

// Empty manifests (an undeploy release) and a manifest of a mebibyte read
// back exactly from an event.
func testEventEmptyAndLargeManifests(t *testing.T, s railyard.Store) {
	big := strings.Repeat("# a line of a large manifest \"quoted\" <tag> & \\ \u00e9\n", (1<<20)/48)
	event := func() *railyard.Event {
		undeploy := &railyard.Release{Application: "checkout", Version: 2, Undeploy: true, CreatedAt: t0,
			Manifests: map[string]string{"dev": "", "staging": ""}, Environments: []string{"dev", "staging"}}
		large := &railyard.Release{Application: "cart", Version: 1, CreatedAt: t0,
			Manifests: map[string]string{"dev": big}, Environments: []string{"dev"}}
		return &railyard.Event{Time: t0, Actor: alice, Kind: "batch", Changes: []railyard.Change{
			{Op: railyard.ChangeReleaseCreate, Application: "checkout", Version: 2, Release: undeploy},
			{Op: railyard.ChangeReleaseCreate, Application: "cart", Version: 1, Release: large},
		}}
	}
	e := event()
	createEvents(t, s, e)
	want := event()
	want.ID = e.ID
	equal(t, "FindEvents", findEvents(t, s, railyard.EventFilter{}), []*railyard.Event{want})
}

// Content written by an Update that failed is gone with it; the next
// Update that needs the same content has it.
func testManifestRolledBack(t *testing.T, s railyard.Store) {
	const content = "kind: RolledBack\n"
	rel := func() *railyard.Release {
		return &railyard.Release{Application: "checkout", Version: 1, CreatedAt: t0,
			Manifests: map[string]string{"dev": content}, Environments: []string{"dev"}}
	}
	errRefused := railyard.Errorf(railyard.EINVALID, "refused")
	err := s.Update(t.Context(), func(tx railyard.Tx) error {
		if err := tx.PutApplication(t.Context(), fullApplication("checkout")); err != nil {
			return err
		}
		if err := tx.CreateRelease(t.Context(), rel()); err != nil {
			return err
		}
		return errRefused
	})
	if err != errRefused {
		t.Fatalf("Update: got %v, want the error of fn", err)
	}
	createReleases(t, s, rel())
	e := &railyard.Event{Time: t0, Actor: alice, Kind: "k", Changes: []railyard.Change{
		{Op: railyard.ChangeReleaseCreate, Application: "checkout", Version: 1, Release: rel()}}}
	createEvents(t, s, e)
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRelease(t.Context(), "checkout", 1, true)
		noError(t, "FindRelease", err)
		equal(t, "FindRelease", got, rel())
		return nil
	})
	want := &railyard.Event{ID: e.ID, Time: t0, Actor: alice, Kind: "k", Changes: []railyard.Change{
		{Op: railyard.ChangeReleaseCreate, Application: "checkout", Version: 1, Release: rel()}}}
	equal(t, "FindEvents", findEvents(t, s, railyard.EventFilter{}), []*railyard.Event{want})
}
