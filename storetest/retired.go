package storetest

import (
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

var retiredReleaseTests = []test{
	{"RoundTrip", testRetiredRoundTrip},
	{"DigestAndZeroTime", testRetiredDigestAndZeroTime},
	{"NotFound", testRetiredNotFound},
	{"VersionNeverReused", testRetiredVersionNeverReused},
	{"MaxReleaseVersionCountsRetired", testRetiredMaxReleaseVersion},
	{"OutlivesApplication", testRetiredOutlivesApplication},
	{"RollsBack", testRetiredRollsBack},
}

// retire returns what a caller of RetireRelease gives to retire
// fullRelease(app, version) an hour after t0.
func retire(app string, version int64) *railyard.RetiredRelease {
	return &railyard.RetiredRelease{Application: app, Version: version, Reason: railyard.RetiredByCleanup, RetiredAt: at(time.Hour)}
}

// retired returns the record the store keeps for retire(app, version):
// with the release's digest and creation time.
func retired(app string, version int64) *railyard.RetiredRelease {
	r := retire(app, version)
	rel := fullRelease(app, version)
	r.Digest, r.PublishedAt = rel.Digest(), rel.CreatedAt
	return r
}

// The store records the release's digest and creation time, sets them on
// the record it was given, and reads the record back exactly.
func testRetiredRoundTrip(t *testing.T, s railyard.Store) {
	createReleases(t, s, fullRelease("checkout", 1), fullRelease("checkout", 2), fullRelease("cart", 2))
	r := retire("checkout", 2)
	update(t, s, func(tx railyard.Tx) error { return tx.RetireRelease(t.Context(), r) })
	equal(t, "the record given to RetireRelease", r, retired("checkout", 2))
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRetiredRelease(t.Context(), "checkout", 2)
		noError(t, "FindRetiredRelease", err)
		equal(t, "FindRetiredRelease", got, retired("checkout", 2))
		_, err = tx.FindRetiredRelease(t.Context(), "cart", 2)
		wantError(t, "FindRetiredRelease of the same version of another application", err, railyard.ENOTFOUND,
			`release 2 of application "cart" was never retired`)
		return nil
	})
}

// The digest is the release's, whatever the caller put in the record, and
// a release created at the zero time was published at the zero time.
func testRetiredDigestAndZeroTime(t *testing.T, s railyard.Store) {
	rel := &railyard.Release{Application: "checkout", Version: 1, Undeploy: true, Manifests: map[string]string{"dev": ""}}
	c := *rel
	createReleases(t, s, &c)
	r := &railyard.RetiredRelease{Application: "checkout", Version: 1, Digest: "sha256:mine", PublishedAt: t0,
		Reason: railyard.RetiredWithApplication, RetiredAt: t0}
	update(t, s, func(tx railyard.Tx) error { return tx.RetireRelease(t.Context(), r) })
	want := &railyard.RetiredRelease{Application: "checkout", Version: 1, Digest: rel.Digest(),
		Reason: railyard.RetiredWithApplication, RetiredAt: t0}
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRetiredRelease(t.Context(), "checkout", 1)
		noError(t, "FindRetiredRelease", err)
		equal(t, "FindRetiredRelease", got, want)
		return nil
	})
}

// Retiring a release that does not exist records nothing.
func testRetiredNotFound(t *testing.T, s railyard.Store) {
	createReleases(t, s, fullRelease("checkout", 1))
	err := s.Update(t.Context(), func(tx railyard.Tx) error { return tx.RetireRelease(t.Context(), retire("checkout", 9)) })
	wantError(t, "RetireRelease of a missing release", err, railyard.ENOTFOUND, `release 9 of application "checkout" not found`)
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRetiredRelease(t.Context(), "checkout", 9)
		wantError(t, "FindRetiredRelease", err, railyard.ENOTFOUND, `release 9 of application "checkout" was never retired`)
		if got != nil {
			t.Errorf("FindRetiredRelease: got %v, want nil with the error", got)
		}
		return nil
	})
}

// A retired version cannot be created again, with other content or the
// same, and the refusal changes nothing.
func testRetiredVersionNeverReused(t *testing.T, s railyard.Store) {
	createReleases(t, s, fullRelease("checkout", 1), fullRelease("checkout", 2))
	update(t, s, func(tx railyard.Tx) error { return tx.RetireRelease(t.Context(), retire("checkout", 1)) })
	other := fullRelease("checkout", 1)
	other.Manifests = map[string]string{"dev": "other: true\n"}
	for _, r := range []*railyard.Release{other, fullRelease("checkout", 1)} {
		err := s.Update(t.Context(), func(tx railyard.Tx) error { return tx.CreateRelease(t.Context(), r) })
		wantError(t, "CreateRelease of a retired version", err, railyard.ECONFLICT,
			`release 1 of application "checkout" was retired: versions are never reused`)
	}
	view(t, s, func(tx railyard.Tx) error {
		_, err := tx.FindRelease(t.Context(), "checkout", 1, true)
		wantError(t, "FindRelease of the retired version", err, railyard.ENOTFOUND, `release 1 of application "checkout" not found`)
		got, err := tx.FindRetiredRelease(t.Context(), "checkout", 1)
		noError(t, "FindRetiredRelease", err)
		equal(t, "FindRetiredRelease after the refusals", got, retired("checkout", 1))
		return nil
	})
}

// The highest version counts even when it is retired, so that one more is
// a version never used.
func testRetiredMaxReleaseVersion(t *testing.T, s railyard.Store) {
	createReleases(t, s, fullRelease("checkout", 1), fullRelease("checkout", 2), fullRelease("checkout", 3))
	update(t, s, func(tx railyard.Tx) error { return tx.RetireRelease(t.Context(), retire("checkout", 3)) })
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.MaxReleaseVersion(t.Context(), "checkout")
		noError(t, "MaxReleaseVersion", err)
		equal(t, "MaxReleaseVersion with the highest version retired", got, int64(3))
		return nil
	})
}

// Retired versions survive the deletion of their application: one
// created again under the same name continues the numbering and cannot
// publish an old version.
func testRetiredOutlivesApplication(t *testing.T, s railyard.Store) {
	createReleases(t, s, fullRelease("checkout", 1), fullRelease("checkout", 2))
	update(t, s, func(tx railyard.Tx) error {
		for v := int64(1); v <= 2; v++ {
			if err := tx.RetireRelease(t.Context(), retire("checkout", v)); err != nil {
				return err
			}
		}
		return tx.DeleteApplication(t.Context(), "checkout")
	})
	createApp(t, s, "checkout")
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRetiredRelease(t.Context(), "checkout", 2)
		noError(t, "FindRetiredRelease", err)
		equal(t, "FindRetiredRelease after deleting the application", got, retired("checkout", 2))
		max, err := tx.MaxReleaseVersion(t.Context(), "checkout")
		noError(t, "MaxReleaseVersion", err)
		equal(t, "MaxReleaseVersion of the new application", max, int64(2))
		return nil
	})
	err := s.Update(t.Context(), func(tx railyard.Tx) error {
		return tx.CreateRelease(t.Context(), &railyard.Release{Application: "checkout", Version: 1,
			Manifests: map[string]string{"dev": "new: true\n"}, CreatedAt: t0})
	})
	wantError(t, "CreateRelease of a version of the deleted application", err, railyard.ECONFLICT,
		`release 1 of application "checkout" was retired: versions are never reused`)
}

// Retiring inside an Update that fails leaves the release and no record.
func testRetiredRollsBack(t *testing.T, s railyard.Store) {
	createReleases(t, s, fullRelease("checkout", 1))
	errRefused := railyard.Errorf(railyard.EINVALID, "refused")
	err := s.Update(t.Context(), func(tx railyard.Tx) error {
		if err := tx.RetireRelease(t.Context(), retire("checkout", 1)); err != nil {
			return err
		}
		return errRefused
	})
	if err != errRefused {
		t.Fatalf("Update: got %v, want the error of fn", err)
	}
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRelease(t.Context(), "checkout", 1, true)
		noError(t, "FindRelease", err)
		equal(t, "release after the rolled back retirement", got, fullRelease("checkout", 1))
		_, err = tx.FindRetiredRelease(t.Context(), "checkout", 1)
		wantError(t, "FindRetiredRelease", err, railyard.ENOTFOUND, `release 1 of application "checkout" was never retired`)
		return nil
	})
}
