package sqlite_test

import (
	"database/sql"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// Manifests of the migration test: a, b, c are in releases that still
// exist, e and f only in events (their releases were cleaned up), g in a
// release of an application deleted and created again.
const (
	manA = "kind: A\n"
	manB = "kind: B\n"
	manC = "kind: C\n"
	manD = "kind: D\n"
	manE = "kind: E # \"quoted\" <html> & \\ é\n"
	manF = "kind: F\n"
	manG = "kind: G\n"
)

// migrationT0 is the time of the migration test's first event; event n
// happens n minutes later.
var migrationT0 = time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)

func eventTime(n int) time.Time { return migrationT0.Add(time.Duration(n) * time.Minute) }

// oldRelease is a release as the engine creates it: its Environments are
// its manifests' keys and it was created at its event's time.
func oldRelease(app string, version int64, event int, manifests map[string]string) *railyard.Release {
	return &railyard.Release{Application: app, Version: version, Manifests: manifests,
		Environments: slices.Sorted(maps.Keys(manifests)), Team: "payments", SourceCommitID: "0123456789abcdef0123456789abcdef01234567",
		SourceMessage: "fix", CreatedAt: eventTime(event)}
}

func createChange(r *railyard.Release) railyard.Change {
	return railyard.Change{Op: railyard.ChangeReleaseCreate, Application: r.Application, Version: r.Version,
		Release: r, SourceCommitID: r.SourceCommitID}
}

func deleteChange(app string, version int64) railyard.Change {
	return railyard.Change{Op: railyard.ChangeReleaseDelete, Application: app, Version: version, Reason: "cleanup: keeping the newest 20 releases"}
}

// migrationEvents is the history of the migration test, as the engine
// before migration 0002 recorded it. It includes the bug of issue 10: a
// cleaned-up version published again and deleted by the same event.
func migrationEvents() []*railyard.Event {
	boom1 := oldRelease("boom", 1, 1, map[string]string{"dev": manA, "prod": manB})
	boom2 := oldRelease("boom", 2, 2, map[string]string{"dev": manA, "prod": manC})
	boom3 := oldRelease("boom", 3, 3, map[string]string{"dev": manD, "prod": manD})
	boom1again := oldRelease("boom", 1, 4, map[string]string{"dev": manE})
	gone1 := oldRelease("gone", 1, 5, map[string]string{"dev": manA})
	gone2 := oldRelease("gone", 2, 6, map[string]string{"dev": manF})
	boom4 := oldRelease("boom", 4, 9, map[string]string{"dev": "", "prod": ""})
	boom4.Undeploy = true
	gone1again := oldRelease("gone", 1, 10, map[string]string{"dev": manG})
	hot5 := oldRelease("hot", 5, 12, map[string]string{"dev": manA})
	hot2 := oldRelease("hot", 2, 13, map[string]string{"dev": manB})
	lock := &railyard.Lock{
		LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "prod", ID: "freeze"},
		Message:    "freeze",
		CreatedBy:  alice(),
		CreatedAt:  eventTime(8),
	}
	events := []*railyard.Event{
		{Kind: "release.create", Changes: []railyard.Change{
			{Op: railyard.ChangeApplicationPut, Application: "boom", Team: "payments"}, createChange(boom1),
			{Op: railyard.ChangeDeploy, Application: "boom", Environment: "dev", Version: 1, Reason: "new release"}}},
		{Kind: "release.create", Changes: []railyard.Change{createChange(boom2)}},
		{Kind: "release.create", Changes: []railyard.Change{createChange(boom3), deleteChange("boom", 1)}},
		{Kind: "release.create", Changes: []railyard.Change{createChange(boom1again), deleteChange("boom", 1)}},
		{Kind: "release.create", Changes: []railyard.Change{{Op: railyard.ChangeApplicationPut, Application: "gone"}, createChange(gone1)}},
		{Kind: "release.create", Changes: []railyard.Change{createChange(gone2), deleteChange("gone", 1)}},
		{Kind: "application.delete", Changes: []railyard.Change{
			{Op: railyard.ChangeDeploymentDelete, Application: "gone", Environment: "dev"},
			{Op: railyard.ChangeApplicationDelete, Application: "gone"}}},
		{Kind: "lock.create", Payload: json.RawMessage(`{"id":"freeze"}`), Changes: []railyard.Change{
			{Op: railyard.ChangeLockPut, Environment: "prod", Lock: lock}}},
		{Kind: "release.create", Changes: []railyard.Change{createChange(boom4)}},
		{Kind: "release.create", Changes: []railyard.Change{{Op: railyard.ChangeApplicationPut, Application: "gone"}, createChange(gone1again)}},
		{Kind: "reconcile"},
		// An old version number published for the first time, and deleted
		// by the cleanup of the same event.
		{Kind: "release.create", Changes: []railyard.Change{{Op: railyard.ChangeApplicationPut, Application: "hot"}, createChange(hot5)}},
		{Kind: "release.create", Changes: []railyard.Change{createChange(hot2), deleteChange("hot", 2)}},
	}
	for i, e := range events {
		e.ID = int64(i + 1)
		e.Time = eventTime(i + 1)
		e.Actor = alice()
		e.Description = e.Kind
		if e.Changes == nil {
			e.Changes = []railyard.Change{}
		}
	}
	return events
}

// migrationReleases are the releases that exist after migrationEvents.
func migrationReleases() []*railyard.Release {
	boom4 := oldRelease("boom", 4, 9, map[string]string{"dev": "", "prod": ""})
	boom4.Undeploy = true
	return []*railyard.Release{
		oldRelease("boom", 2, 2, map[string]string{"dev": manA, "prod": manC}),
		oldRelease("boom", 3, 3, map[string]string{"dev": manD, "prod": manD}),
		boom4,
		oldRelease("gone", 1, 10, map[string]string{"dev": manG}),
		oldRelease("hot", 5, 12, map[string]string{"dev": manA}),
	}
}

func alice() railyard.Actor { return railyard.Actor{Name: "Alice", Email: "alice@example.com"} }

// TestMigrateManifestContentsAndRetiredReleases builds a database as the
// code before migrations 0002 and 0003 wrote it, opens it, and checks
// the result exactly: manifest content moved to manifest_contents once
// each, events naming it by hash and reading back unchanged, and the
// versions the event log shows as gone recorded as retired.
func TestMigrateManifestContentsAndRetiredReleases(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "railyard.db")
	writeOldDatabase(t, path, migrationEvents(), migrationReleases())
	db := open(t, path)
	raw := rawDB(t, path)

	assertRows(t, raw, "migrations", `SELECT name FROM schema_migrations ORDER BY name`, migrationNames(t))
	assertRows(t, raw, "manifest contents", `SELECT lower(hex(hash)), content FROM manifest_contents ORDER BY content`, []string{
		sha("") + " ", sha(manA) + " " + manA, sha(manB) + " " + manB, sha(manC) + " " + manC, sha(manD) + " " + manD,
		sha(manE) + " " + manE, sha(manF) + " " + manF, sha(manG) + " " + manG,
	})
	assertRows(t, raw, "release manifests", `SELECT application, version, environment, lower(hex(hash)) FROM release_manifests
		ORDER BY application, version, environment`, []string{
		"boom 2 dev " + sha(manA), "boom 2 prod " + sha(manC), "boom 3 dev " + sha(manD), "boom 3 prod " + sha(manD),
		"boom 4 dev " + sha(""), "boom 4 prod " + sha(""), "gone 1 dev " + sha(manG), "hot 5 dev " + sha(manA),
	})
	assertRows(t, raw, "retired releases", `SELECT application, version, digest, reason, published_at, retired_at
		FROM retired_releases ORDER BY application, version`, []string{
		"boom 1  cleanup " + micros(eventTime(1)) + " " + micros(eventTime(3)),
		"gone 2  application deleted " + micros(eventTime(6)) + " " + micros(eventTime(7)),
		"hot 2  cleanup " + micros(eventTime(13)) + " " + micros(eventTime(13)),
	})
	assertStoredChangesAsWritten(t, raw, migrationEvents())

	err := db.View(t.Context(), func(tx railyard.Tx) error {
		events, err := tx.FindEvents(t.Context(), railyard.EventFilter{Ascending: true})
		if err != nil {
			return err
		}
		if want := migrationEvents(); !reflect.DeepEqual(events, want) {
			t.Errorf("events after migrating:\ngot  %s\nwant %s", jsonOf(events), jsonOf(want))
		}
		for _, want := range migrationReleases() {
			got, err := tx.FindRelease(t.Context(), want.Application, want.Version, true)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("release after migrating:\ngot  %s\nwant %s", jsonOf(got), jsonOf(want))
			}
		}
		max, err := tx.MaxReleaseVersion(t.Context(), "gone")
		if err != nil || max != 2 {
			t.Errorf("MaxReleaseVersion of gone: got %d (%v), want 2, its retired version", max, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A release from before the migration has no stored digest: retiring
	// it computes the digest from its content.
	r := &railyard.RetiredRelease{Application: "boom", Version: 2, Reason: railyard.RetiredByCleanup, RetiredAt: eventTime(20)}
	if err := db.Update(t.Context(), func(tx railyard.Tx) error { return tx.RetireRelease(t.Context(), r) }); err != nil {
		t.Fatal(err)
	}
	want := &railyard.RetiredRelease{Application: "boom", Version: 2, Digest: migrationReleases()[0].Digest(),
		Reason: railyard.RetiredByCleanup, PublishedAt: eventTime(2), RetiredAt: eventTime(20)}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("retiring a migrated release:\ngot  %s\nwant %s", jsonOf(r), jsonOf(want))
	}
}

// assertStoredChangesAsWritten checks that the migrated changes of every
// event are, as JSON values, what the store writes today for the same
// event: one format, whichever way a row came to be.
func assertStoredChangesAsWritten(t *testing.T, migrated *sql.DB, events []*railyard.Event) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fresh.db")
	fresh := open(t, path)
	err := fresh.Update(t.Context(), func(tx railyard.Tx) error {
		for _, e := range events {
			if err := tx.CreateEvent(t.Context(), e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := storedChanges(t, rawDB(t, path))
	got := storedChanges(t, migrated)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored changes after migrating:\ngot  %s\nwant %s", jsonOf(got), jsonOf(want))
	}
}

// storedChanges returns the changes column of every event as JSON values.
func storedChanges(t *testing.T, raw *sql.DB) []any {
	t.Helper()
	var all []any
	for _, text := range queryRows(t, raw, `SELECT changes FROM events ORDER BY id`) {
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			t.Fatalf("changes %s: %v", text, err)
		}
		all = append(all, v)
	}
	return all
}

// writeOldDatabase creates the schema of migration 0001 alone and writes
// events and releases as the store did before migration 0002: manifests
// in release_manifests.content and again in the events' changes.
func writeOldDatabase(t *testing.T, path string, events []*railyard.Event, releases []*railyard.Release) {
	t.Helper()
	schema, err := os.ReadFile("migrations/0001_initial.sql")
	if err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, path)
	mustExec(t, raw, string(schema))
	mustExec(t, raw, `CREATE TABLE schema_migrations (name TEXT NOT NULL PRIMARY KEY,
		applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)`)
	mustExec(t, raw, `INSERT INTO schema_migrations (name) VALUES ('0001_initial.sql')`)
	for _, app := range []string{"boom", "gone", "hot"} {
		mustExec(t, raw, `INSERT INTO applications (name, team, created_at) VALUES (?, 'payments', ?)`, app, eventTime(1).UnixMicro())
	}
	for _, r := range releases {
		envs, _ := json.Marshal(r.Environments)
		mustExec(t, raw, `INSERT INTO releases (application, version, environments, team, source_commit_id, source_author,
			source_message, source_branch, display_version, ci_link, undeploy, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Application, r.Version, string(envs), r.Team, r.SourceCommitID, r.SourceAuthor, r.SourceMessage,
			r.SourceBranch, r.DisplayVersion, r.CILink, r.Undeploy, r.CreatedAt.UnixMicro())
		for _, env := range r.Environments {
			mustExec(t, raw, `INSERT INTO release_manifests (application, version, environment, content) VALUES (?, ?, ?, ?)`,
				r.Application, r.Version, env, r.Manifests[env])
		}
	}
	for _, e := range events {
		changes, err := json.Marshal(e.Changes)
		if err != nil {
			t.Fatal(err)
		}
		var payload any
		if e.Payload != nil {
			payload = string(e.Payload)
		}
		mustExec(t, raw, `INSERT INTO events (id, time, actor_name, actor_email, kind, description, payload, changes)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, e.Time.UnixMicro(), e.Actor.Name, e.Actor.Email, e.Kind,
			e.Description, payload, string(changes))
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
}

func mustExec(t *testing.T, raw *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := raw.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// micros prints a time as the store keeps it.
func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// jsonOf formats v as JSON for a failure message.
func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
