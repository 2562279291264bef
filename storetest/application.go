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
	{"DeleteDeletesReleases", testApplicationDeleteDeletesReleases},
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

// Deleting an application deletes its releases and their manifests, and
// nothing of another application.
func testApplicationDeleteDeletesReleases(t *testing.T, s railyard.Store) {
	update(t, s, func(tx railyard.Tx) error {
		for _, app := range []string{"checkout", "cart"} {
			if err := tx.PutApplication(t.Context(), fullApplication(app)); err != nil {
				return err
			}
			for v := int64(1); v <= 3; v++ {
				if err := tx.CreateRelease(t.Context(), fullRelease(app, v)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	update(t, s, func(tx railyard.Tx) error { return tx.DeleteApplication(t.Context(), "checkout") })
	view(t, s, func(tx railyard.Tx) error {
		_, err := tx.FindApplication(t.Context(), "checkout")
		wantError(t, "FindApplication after delete", err, railyard.ENOTFOUND, `application "checkout" not found`)
		_, err = tx.FindRelease(t.Context(), "checkout", 2, false)
		wantError(t, "FindRelease after deleting its application", err, railyard.ENOTFOUND, `release 2 of application "checkout" not found`)
		max, err := tx.MaxReleaseVersion(t.Context(), "checkout")
		noError(t, "MaxReleaseVersion", err)
		equal(t, "MaxReleaseVersion after deleting the application", max, int64(0))
		other, err := tx.FindReleases(t.Context(), railyard.ReleaseFilter{Application: "cart"})
		noError(t, "FindReleases", err)
		equal(t, "releases of the other application", len(other), 3)
		return nil
	})
	// A new application of the same name starts empty: no manifest of the
	// old version 1 may resurface.
	update(t, s, func(tx railyard.Tx) error {
		if err := tx.PutApplication(t.Context(), fullApplication("checkout")); err != nil {
			return err
		}
		return tx.CreateRelease(t.Context(), &railyard.Release{
			Application: "checkout", Version: 1, Manifests: map[string]string{"dev": "new: true\n"}, CreatedAt: t0,
		})
	})
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindRelease(t.Context(), "checkout", 1, true)
		noError(t, "FindRelease", err)
		equal(t, "manifests of the re-created release", got.Manifests, map[string]string{"dev": "new: true\n"})
		return nil
	})
}
