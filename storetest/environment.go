package storetest

import (
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

var environmentTests = []test{
	{"RoundTrip", testEnvironmentRoundTrip},
	{"EmptyConfig", testEnvironmentEmptyConfig},
	{"NotFound", testEnvironmentNotFound},
	{"OrderedByName", testEnvironmentsOrdered},
	{"EmptyList", testEnvironmentsEmpty},
	{"PutReplaces", testEnvironmentPutReplaces},
	{"Delete", testEnvironmentDelete},
}

func testEnvironmentRoundTrip(t *testing.T, s railyard.Store) {
	want := fullEnvironment("production")
	update(t, s, func(tx railyard.Tx) error { return tx.PutEnvironment(t.Context(), fullEnvironment("production")) })
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindEnvironment(t.Context(), "production")
		noError(t, "FindEnvironment", err)
		equal(t, "FindEnvironment", got, want)
		all, err := tx.FindEnvironments(t.Context())
		noError(t, "FindEnvironments", err)
		equal(t, "FindEnvironments", all, []*railyard.Environment{want})
		return nil
	})
}

// An environment without configuration keeps its nil pointers and slices.
func testEnvironmentEmptyConfig(t *testing.T, s railyard.Store) {
	want := &railyard.Environment{Name: "dev", CreatedAt: t0, UpdatedAt: t0}
	update(t, s, func(tx railyard.Tx) error {
		return tx.PutEnvironment(t.Context(), &railyard.Environment{Name: "dev", CreatedAt: t0, UpdatedAt: t0})
	})
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindEnvironment(t.Context(), "dev")
		noError(t, "FindEnvironment", err)
		equal(t, "FindEnvironment", got, want)
		return nil
	})
}

func testEnvironmentNotFound(t *testing.T, s railyard.Store) {
	update(t, s, func(tx railyard.Tx) error { return tx.PutEnvironment(t.Context(), fullEnvironment("production")) })
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindEnvironment(t.Context(), "staging")
		wantError(t, "FindEnvironment", err, railyard.ENOTFOUND, `environment "staging" not found`)
		if got != nil {
			t.Errorf("FindEnvironment: got %v, want nil with the error", got)
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx railyard.Tx) error { return tx.DeleteEnvironment(t.Context(), "staging") })
	wantError(t, "DeleteEnvironment", err, railyard.ENOTFOUND, `environment "staging" not found`)
}

func testEnvironmentsOrdered(t *testing.T, s railyard.Store) {
	update(t, s, func(tx railyard.Tx) error {
		for _, name := range []string{"staging", "dev", "production", "canary"} {
			if err := tx.PutEnvironment(t.Context(), fullEnvironment(name)); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx railyard.Tx) error {
		envs, err := tx.FindEnvironments(t.Context())
		noError(t, "FindEnvironments", err)
		equal(t, "FindEnvironments names", envNames(envs), []string{"canary", "dev", "production", "staging"})
		return nil
	})
}

func testEnvironmentsEmpty(t *testing.T, s railyard.Store) {
	view(t, s, func(tx railyard.Tx) error {
		envs, err := tx.FindEnvironments(t.Context())
		noError(t, "FindEnvironments", err)
		equal(t, "FindEnvironments", envs, []*railyard.Environment{})
		return nil
	})
}

// Put replaces every field, timestamps included: the engine decides them.
func testEnvironmentPutReplaces(t *testing.T, s railyard.Store) {
	update(t, s, func(tx railyard.Tx) error { return tx.PutEnvironment(t.Context(), fullEnvironment("production")) })
	want := &railyard.Environment{
		Name:      "production",
		Config:    railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}},
		CreatedAt: at(time.Hour),
		UpdatedAt: at(2 * time.Hour),
	}
	update(t, s, func(tx railyard.Tx) error {
		c := *want
		return tx.PutEnvironment(t.Context(), &c)
	})
	view(t, s, func(tx railyard.Tx) error {
		all, err := tx.FindEnvironments(t.Context())
		noError(t, "FindEnvironments", err)
		equal(t, "FindEnvironments after replacing", all, []*railyard.Environment{want})
		return nil
	})
}

func testEnvironmentDelete(t *testing.T, s railyard.Store) {
	update(t, s, func(tx railyard.Tx) error {
		if err := tx.PutEnvironment(t.Context(), fullEnvironment("dev")); err != nil {
			return err
		}
		return tx.PutEnvironment(t.Context(), fullEnvironment("staging"))
	})
	update(t, s, func(tx railyard.Tx) error { return tx.DeleteEnvironment(t.Context(), "dev") })
	view(t, s, func(tx railyard.Tx) error {
		_, err := tx.FindEnvironment(t.Context(), "dev")
		wantError(t, "FindEnvironment after delete", err, railyard.ENOTFOUND, `environment "dev" not found`)
		envs, err := tx.FindEnvironments(t.Context())
		noError(t, "FindEnvironments", err)
		equal(t, "FindEnvironments names after delete", envNames(envs), []string{"staging"})
		return nil
	})
}
