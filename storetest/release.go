package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
)

var releaseTests = []test{
	{"RoundTrip", testReleaseRoundTrip},
	{"EnvironmentsFromManifests", testReleaseEnvironmentsFromManifests},
	{"NoManifests", testReleaseNoManifests},
	{"Undeploy", testReleaseUndeploy},
	{"LargeManifest", testReleaseLargeManifest},
	{"NotFound", testReleaseNotFound},
	{"Conflict", testReleaseConflict},
	{"ApplicationMustExist", testReleaseApplicationMustExist},
	{"FindReleases", testFindReleases},
	{"FindReleasesLimit", testFindReleasesLimit},
	{"FindReleasesEmpty", testFindReleasesEmpty},
	{"MaxReleaseVersion", testMaxReleaseVersion},
	{"Retire", testReleaseRetire},
	{"CallerOwnsValues", testReleaseCallerOwnsValues},
}

// createApp stores the application app.
func createApp(t *testing.T, s railyard.Store, app string) {
	t.Helper()
	update(t, s, func(tx railyard.Tx) error { return tx.PutApplication(t.Context(), fullApplication(app)) })
}

// createReleases stores the application and the releases.
func createReleases(t *testing.T, s railyard.Store, releases ...*railyard.Release) {
	t.Helper()
	update(t, s, func(tx railyard.Tx) error {
		for _, r := range releases {
			if _, err := tx.FindApplication(t.Context(), r.Application); railyard.ErrorCode(err) == railyard.ENOTFOUND {
				if err := tx.PutApplication(t.Context(), fullApplication(r.Application)); err != nil {
					return err
				}
			}
			if err := tx.CreateRelease(t.Context(), r); err != nil {
				return err
			}
		}
		return nil
	})
}

func testReleaseRoundTrip(t *testing.T, s railyard.Store) {
	createReleases(t, s, fullRelease("checkout", 7))
	want := fullRelease("checkout", 7)
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRelease(t.Context(), "checkout", 7, true)
		noError(t, "FindRelease with manifests", err)
		equal(t, "FindRelease with manifests", got, want)
		got, err = tx.FindRelease(t.Context(), "checkout", 7, false)
		noError(t, "FindRelease without manifests", err)
		equal(t, "FindRelease without manifests", got, withoutManifests(want))
		return nil
	})
}

// The stored Environments are the sorted manifest keys, whatever the
// caller set.
func testReleaseEnvironmentsFromManifests(t *testing.T, s railyard.Store) {
	r := fullRelease("checkout", 1)
	r.Environments = nil
	createReleases(t, s, r)
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRelease(t.Context(), "checkout", 1, false)
		noError(t, "FindRelease", err)
		equal(t, "Environments", got.Environments, []string{"dev", "production", "staging"})
		return nil
	})
}

// A release without manifests has empty, non-nil Environments, and empty,
// non-nil Manifests when they are asked for.
func testReleaseNoManifests(t *testing.T, s railyard.Store) {
	createReleases(t, s, &railyard.Release{Application: "checkout", Version: 1, CreatedAt: t0})
	want := &railyard.Release{Application: "checkout", Version: 1, Manifests: map[string]string{}, Environments: []string{}, CreatedAt: t0}
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRelease(t.Context(), "checkout", 1, true)
		noError(t, "FindRelease with manifests", err)
		equal(t, "FindRelease with manifests", got, want)
		got, err = tx.FindRelease(t.Context(), "checkout", 1, false)
		noError(t, "FindRelease without manifests", err)
		equal(t, "FindRelease without manifests", got, withoutManifests(want))
		list, err := tx.FindReleases(t.Context(), railyard.ReleaseFilter{Application: "checkout", WithManifests: true})
		noError(t, "FindReleases with manifests", err)
		equal(t, "FindReleases with manifests", list, []*railyard.Release{want})
		return nil
	})
}

// An undeploy release has empty manifests, which are still manifests.
func testReleaseUndeploy(t *testing.T, s railyard.Store) {
	want := &railyard.Release{
		Application: "checkout", Version: 2, Undeploy: true, CreatedAt: t0,
		Manifests: map[string]string{"dev": "", "staging": ""}, Environments: []string{"dev", "staging"},
	}
	c := *want
	createReleases(t, s, &c)
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRelease(t.Context(), "checkout", 2, true)
		noError(t, "FindRelease", err)
		equal(t, "FindRelease", got, want)
		return nil
	})
}

func testReleaseLargeManifest(t *testing.T, s railyard.Store) {
	const line = "# a comment line of a large manifest\n"
	big := strings.Repeat(line, (1<<20)/len(line)) // about 1 MiB
	r := &railyard.Release{Application: "checkout", Version: 1, Manifests: map[string]string{"dev": big}, CreatedAt: t0}
	createReleases(t, s, r)
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRelease(t.Context(), "checkout", 1, true)
		noError(t, "FindRelease", err)
		if got.Manifests["dev"] != big {
			t.Errorf("large manifest: got %d bytes back, want the %d bytes written", len(got.Manifests["dev"]), len(big))
		}
		return nil
	})
}

func testReleaseNotFound(t *testing.T, s railyard.Store) {
	createReleases(t, s, fullRelease("checkout", 1))
	view(t, s, func(tx railyard.Tx) error {
		for _, withManifests := range []bool{false, true} {
			got, err := tx.FindRelease(t.Context(), "checkout", 2, withManifests)
			wantError(t, "FindRelease of a missing version", err, railyard.ENOTFOUND, `release 2 of application "checkout" not found`)
			if got != nil {
				t.Errorf("FindRelease: got %v, want nil with the error", got)
			}
		}
		_, err := tx.FindRelease(t.Context(), "cart", 1, false)
		wantError(t, "FindRelease of a missing application", err, railyard.ENOTFOUND, `release 1 of application "cart" not found`)
		return nil
	})
	err := s.Update(t.Context(), func(tx railyard.Tx) error { return tx.RetireRelease(t.Context(), retire("checkout", 2)) })
	wantError(t, "RetireRelease", err, railyard.ENOTFOUND, `release 2 of application "checkout" not found`)
}

// Creating an existing version fails with ECONFLICT and changes nothing.
func testReleaseConflict(t *testing.T, s railyard.Store) {
	createReleases(t, s, fullRelease("checkout", 1))
	err := s.Update(t.Context(), func(tx railyard.Tx) error {
		r := fullRelease("checkout", 1)
		r.Manifests = map[string]string{"canary": "other: true\n"}
		r.SourceMessage = "different"
		return tx.CreateRelease(t.Context(), r)
	})
	wantError(t, "CreateRelease of an existing version", err, railyard.ECONFLICT, `release 1 of application "checkout" already exists`)
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRelease(t.Context(), "checkout", 1, true)
		noError(t, "FindRelease", err)
		equal(t, "release after the conflict", got, fullRelease("checkout", 1))
		return nil
	})
}

func testReleaseApplicationMustExist(t *testing.T, s railyard.Store) {
	err := s.Update(t.Context(), func(tx railyard.Tx) error {
		return tx.CreateRelease(t.Context(), fullRelease("ghost", 1))
	})
	wantError(t, "CreateRelease for a missing application", err, railyard.ENOTFOUND, `application "ghost" not found`)
}

// FindReleases lists one application's releases, newest first, with
// manifests only when asked.
func testFindReleases(t *testing.T, s railyard.Store) {
	createReleases(t, s, fullRelease("checkout", 2), fullRelease("checkout", 10), fullRelease("cart", 5),
		fullRelease("checkout", 1), fullRelease("checkout", 3))
	want := []*railyard.Release{fullRelease("checkout", 10), fullRelease("checkout", 3), fullRelease("checkout", 2), fullRelease("checkout", 1)}
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindReleases(t.Context(), railyard.ReleaseFilter{Application: "checkout", WithManifests: true})
		noError(t, "FindReleases with manifests", err)
		equal(t, "FindReleases with manifests", got, want)
		got, err = tx.FindReleases(t.Context(), railyard.ReleaseFilter{Application: "checkout"})
		noError(t, "FindReleases", err)
		var bare []*railyard.Release
		for _, r := range want {
			bare = append(bare, withoutManifests(r))
		}
		equal(t, "FindReleases without manifests", got, bare)
		return nil
	})
}

func testFindReleasesLimit(t *testing.T, s railyard.Store) {
	var releases []*railyard.Release
	for v := int64(1); v <= 6; v++ {
		r := fullRelease("checkout", v)
		r.Manifests["dev"] = fmt.Sprintf("version: %d\n", v)
		releases = append(releases, r)
	}
	createReleases(t, s, releases...)
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindReleases(t.Context(), railyard.ReleaseFilter{Application: "checkout", Limit: 2, WithManifests: true})
		noError(t, "FindReleases", err)
		equal(t, "FindReleases with limit 2", got, []*railyard.Release{releases[5], releases[4]})
		got, err = tx.FindReleases(t.Context(), railyard.ReleaseFilter{Application: "checkout", Limit: 10})
		noError(t, "FindReleases", err)
		equal(t, "number of releases with limit 10", len(got), 6)
		return nil
	})
}

func testFindReleasesEmpty(t *testing.T, s railyard.Store) {
	createApp(t, s, "checkout")
	view(t, s, func(tx railyard.Tx) error {
		for _, app := range []string{"checkout", "ghost"} {
			got, err := tx.FindReleases(t.Context(), railyard.ReleaseFilter{Application: app})
			noError(t, "FindReleases", err)
			equal(t, "FindReleases of "+app, got, []*railyard.Release{})
		}
		return nil
	})
}

func testMaxReleaseVersion(t *testing.T, s railyard.Store) {
	createApp(t, s, "checkout")
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.MaxReleaseVersion(t.Context(), "checkout")
		noError(t, "MaxReleaseVersion", err)
		equal(t, "MaxReleaseVersion without releases", got, int64(0))
		return nil
	})
	createReleases(t, s, fullRelease("checkout", 1), fullRelease("checkout", 12), fullRelease("checkout", 3),
		fullRelease("cart", 99))
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.MaxReleaseVersion(t.Context(), "checkout")
		noError(t, "MaxReleaseVersion", err)
		equal(t, "MaxReleaseVersion", got, int64(12))
		got, err = tx.MaxReleaseVersion(t.Context(), "ghost")
		noError(t, "MaxReleaseVersion of a missing application", err)
		equal(t, "MaxReleaseVersion of a missing application", got, int64(0))
		return nil
	})
}

// Retiring a release deletes it and its manifests from the release
// listings; the other releases keep theirs.
func testReleaseRetire(t *testing.T, s railyard.Store) {
	createReleases(t, s, fullRelease("checkout", 1), fullRelease("checkout", 2))
	update(t, s, func(tx railyard.Tx) error { return tx.RetireRelease(t.Context(), retire("checkout", 2)) })
	view(t, s, func(tx railyard.Tx) error {
		_, err := tx.FindRelease(t.Context(), "checkout", 2, true)
		wantError(t, "FindRelease after retiring", err, railyard.ENOTFOUND, `release 2 of application "checkout" not found`)
		got, err := tx.FindReleases(t.Context(), railyard.ReleaseFilter{Application: "checkout", WithManifests: true})
		noError(t, "FindReleases", err)
		equal(t, "FindReleases after retiring", got, []*railyard.Release{fullRelease("checkout", 1)})
		return nil
	})
}

// The store keeps no reference to what it was given or returned.
func testReleaseCallerOwnsValues(t *testing.T, s railyard.Store) {
	r := fullRelease("checkout", 1)
	createReleases(t, s, r)
	r.Manifests["dev"] = "changed after CreateRelease"
	r.Environments[0] = "changed"
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRelease(t.Context(), "checkout", 1, true)
		noError(t, "FindRelease", err)
		got.Manifests["dev"] = "changed after FindRelease"
		got.Environments[0] = "changed"
		return nil
	})
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRelease(t.Context(), "checkout", 1, true)
		noError(t, "FindRelease", err)
		equal(t, "FindRelease after the caller changed its values", got, fullRelease("checkout", 1))
		return nil
	})
}
