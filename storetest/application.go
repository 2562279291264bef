package storetest

import (
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

var applicationTests = []test{
	{"RoundTrip", testApplicationRoundTrip},
	{"NoTeam", testApplicationNoTeam},
	{"ZeroTime", testApplicationZeroTime},
	{"NotFound", testApplicationNotFound},
	{"OrderedByName", testApplicationsOrdered},
	{"EmptyList", testApplicationsEmpty},
	{"PutReplaces", testApplicationPutReplaces},
	{"DeleteNeedsReleasesRetired", testApplicationDeleteNeedsReleasesRetired},
}

func testApplicationRoundTrip(t *testing.T, s railyard.Store) {
	want := fullApplication("checkout")
	update(t, s, func(tx railyard.Tx) error { return tx.PutApplication(t.Context(), fullApplication("checkout")) })
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindApplication(t.Context(), "checkout")
		noError(t, "FindApplication", err)
		equal(t, "FindApplication", got, want)
		all, err := tx.FindApplications(t.Context())
		noError(t, "FindApplications", err)
		equal(t, "FindApplications", all, []*railyard.Application{want})
		return nil
	})
}

func testApplicationNoTeam(t *testing.T, s railyard.Store) {
	want := &railyard.Application{Name: "checkout", CreatedAt: t0}
	update(t, s, func(tx railyard.Tx) error {
		return tx.PutApplication(t.Context(), &railyard.Application{Name: "checkout", CreatedAt: t0})
	})
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindApplication(t.Context(), "checkout")
		noError(t, "FindApplication", err)
		equal(t, "FindApplication", got, want)
		return nil
	})
}

// The zero time reads back as the zero time, not as 1970 or some local
// rendering of year 1.
func testApplicationZeroTime(t *testing.T, s railyard.Store) {
	update(t, s, func(tx railyard.Tx) error {
		return tx.PutApplication(t.Context(), &railyard.Application{Name: "checkout"})
	})
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindApplication(t.Context(), "checkout")
		noError(t, "FindApplication", err)
		equal(t, "FindApplication", got, &railyard.Application{Name: "checkout"})
		return nil
	})
}

func testApplicationNotFound(t *testing.T, s railyard.Store) {
	update(t, s, func(tx railyard.Tx) error { return tx.PutApplication(t.Context(), fullApplication("checkout")) })
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindApplication(t.Context(), "cart")
		wantError(t, "FindApplication", err, railyard.ENOTFOUND, `application "cart" not found`)
		if got != nil {
			t.Errorf("FindApplication: got %v, want nil with the error", got)
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx railyard.Tx) error { return tx.DeleteApplication(t.Context(), "cart") })
	wantError(t, "DeleteApplication", err, railyard.ENOTFOUND, `application "cart" not found`)
}

func testApplicationsOrdered(t *testing.T, s railyard.Store) {
	update(t, s, func(tx railyard.Tx) error {
		for _, name := range []string{"payments", "cart", "web-shop", "checkout", "auth"} {
			if err := tx.PutApplication(t.Context(), fullApplication(name)); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx railyard.Tx) error {
		apps, err := tx.FindApplications(t.Context())
		noError(t, "FindApplications", err)
		names := []string{}
		for _, a := range apps {
			names = append(names, a.Name)
		}
		equal(t, "FindApplications names", names, []string{"auth", "cart", "checkout", "payments", "web-shop"})
		return nil
	})
}

func testApplicationsEmpty(t *testing.T, s railyard.Store) {
	view(t, s, func(tx railyard.Tx) error {
		apps, err := tx.FindApplications(t.Context())
		noError(t, "FindApplications", err)
		equal(t, "FindApplications", apps, []*railyard.Application{})
		return nil
	})
}

// Replacing an application (a new team) keeps its releases.
func testApplicationPutReplaces(t *testing.T, s railyard.Store) {
	update(t, s, func(tx railyard.Tx) error {
		if err := tx.PutApplication(t.Context(), fullApplication("checkout")); err != nil {
			return err
		}
		return tx.CreateRelease(t.Context(), fullRelease("checkout", 1))
	})
	want := &railyard.Application{Name: "checkout", Team: "shop", CreatedAt: at(time.Second)}
	update(t, s, func(tx railyard.Tx) error {
		c := *want
		return tx.PutApplication(t.Context(), &c)
	})
	view(t, s, func(tx railyard.Tx) error {
		all, err := tx.FindApplications(t.Context())
		noError(t, "FindApplications", err)
		equal(t, "FindApplications after replacing", all, []*railyard.Application{want})
		got, err := tx.FindRelease(t.Context(), "checkout", 1, true)
		noError(t, "FindRelease after replacing the application", err)
		equal(t, "FindRelease after replacing the application", got, fullRelease("checkout", 1))
		return nil
	})
}

// An application with releases cannot be deleted: they must be retired
// first, so that their versions are never forgotten. Deleting it then
// touches nothing of another application.
func testApplicationDeleteNeedsReleasesRetired(t *testing.T, s railyard.Store) {
	createReleases(t, s, fullRelease("checkout", 1), fullRelease("checkout", 2), fullRelease("cart", 1))
	err := s.Update(t.Context(), func(tx railyard.Tx) error { return tx.DeleteApplication(t.Context(), "checkout") })
	wantError(t, "DeleteApplication with releases", err, railyard.ECONFLICT, `application "checkout" still has releases: retire them first`)
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindReleases(t.Context(), railyard.ReleaseFilter{Application: "checkout"})
		noError(t, "FindReleases", err)
		equal(t, "releases after the refused delete", len(got), 2)
		return nil
	})
	update(t, s, func(tx railyard.Tx) error {
		for v := int64(1); v <= 2; v++ {
			if err := tx.RetireRelease(t.Context(), retire("checkout", v)); err != nil {
				return err
			}
		}
		return tx.DeleteApplication(t.Context(), "checkout")
	})
	view(t, s, func(tx railyard.Tx) error {
		_, err := tx.FindApplication(t.Context(), "checkout")
		wantError(t, "FindApplication after delete", err, railyard.ENOTFOUND, `application "checkout" not found`)
		other, err := tx.FindReleases(t.Context(), railyard.ReleaseFilter{Application: "cart", WithManifests: true})
		noError(t, "FindReleases", err)
		equal(t, "releases of the other application", other, []*railyard.Release{fullRelease("cart", 1)})
		return nil
	})
}
