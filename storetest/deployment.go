package storetest

import (
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

var deploymentTests = []test{
	{"RoundTrip", testDeploymentRoundTrip},
	{"NilFields", testDeploymentNilFields},
	{"EmptyQueuedBecauseIsNil", testDeploymentEmptyQueuedBecause},
	{"NotFound", testDeploymentNotFound},
	{"PutReplaces", testDeploymentPutReplaces},
	{"FindDeployments", testFindDeployments},
	{"Delete", testDeploymentDelete},
}

// putDeployments stores deployments in one transaction.
func putDeployments(t *testing.T, s railyard.Store, deployments ...*railyard.Deployment) {
	t.Helper()
	update(t, s, func(tx railyard.Tx) error {
		for _, d := range deployments {
			if err := tx.PutDeployment(t.Context(), d); err != nil {
				return err
			}
		}
		return nil
	})
}

func testDeploymentRoundTrip(t *testing.T, s railyard.Store) {
	putDeployments(t, s, fullDeployment("checkout", "production"))
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindDeployment(t.Context(), "checkout", "production")
		noError(t, "FindDeployment", err)
		equal(t, "FindDeployment", got, fullDeployment("checkout", "production"))
		return nil
	})
}

// Nil pointers stay nil: a deployed version without a queue, and a queued
// version that never ran.
func testDeploymentNilFields(t *testing.T, s railyard.Store) {
	deployed := &railyard.Deployment{Application: "checkout", Environment: "dev", Version: ptr(int64(1)), DeployedAt: ptr(t0)}
	queued := &railyard.Deployment{Application: "checkout", Environment: "production", QueuedVersion: ptr(int64(0)), QueuedAt: ptr(t0)}
	empty := &railyard.Deployment{Application: "checkout", Environment: "staging"}
	putDeployments(t, s, deployed, queued, empty)
	view(t, s, func(tx railyard.Tx) error {
		for _, want := range []*railyard.Deployment{deployed, queued, empty} {
			got, err := tx.FindDeployment(t.Context(), want.Application, want.Environment)
			noError(t, "FindDeployment", err)
			equal(t, "FindDeployment in "+want.Environment, got, want)
		}
		return nil
	})
}

func testDeploymentEmptyQueuedBecause(t *testing.T, s railyard.Store) {
	d := fullDeployment("checkout", "production")
	d.QueuedBecause = []railyard.Blocker{}
	putDeployments(t, s, d)
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindDeployment(t.Context(), "checkout", "production")
		noError(t, "FindDeployment", err)
		if got.QueuedBecause != nil {
			t.Errorf("QueuedBecause: got %#v, want nil for an empty list", got.QueuedBecause)
		}
		return nil
	})
}

func testDeploymentNotFound(t *testing.T, s railyard.Store) {
	putDeployments(t, s, fullDeployment("checkout", "production"), fullDeployment("cart", "dev"))
	view(t, s, func(tx railyard.Tx) error {
		got, err := tx.FindDeployment(t.Context(), "checkout", "dev")
		wantError(t, "FindDeployment", err, railyard.ENOTFOUND, `application "checkout" has no deployment in environment "dev"`)
		if got != nil {
			t.Errorf("FindDeployment: got %v, want nil with the error", got)
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx railyard.Tx) error { return tx.DeleteDeployment(t.Context(), "checkout", "dev") })
	wantError(t, "DeleteDeployment", err, railyard.ENOTFOUND, `application "checkout" has no deployment in environment "dev"`)
}

// Put replaces every field: unqueueing sets the queue fields back to nil.
func testDeploymentPutReplaces(t *testing.T, s railyard.Store) {
	putDeployments(t, s, fullDeployment("checkout", "production"))
	want := &railyard.Deployment{
		Application: "checkout", Environment: "production", Version: ptr(int64(4)),
		DeployedAt: ptr(at(time.Hour)), DeployedBy: &railyard.Actor{Name: "Railyard"},
	}
	c := *want
	putDeployments(t, s, &c)
	view(t, s, func(tx railyard.Tx) error {
		all, err := tx.FindDeployments(t.Context(), railyard.DeploymentFilter{})
		noError(t, "FindDeployments", err)
		equal(t, "FindDeployments after replacing", all, []*railyard.Deployment{want})
		return nil
	})
}

func testFindDeployments(t *testing.T, s railyard.Store) {
	d := func(app, env string) *railyard.Deployment { return fullDeployment(app, env) }
	// Only these two have nothing queued.
	unqueued := func(app, env string) *railyard.Deployment {
		dep := fullDeployment(app, env)
		dep.QueuedVersion, dep.QueuedAt, dep.QueuedBecause = nil, nil, nil
		return dep
	}
	putDeployments(t, s, d("checkout", "staging"), unqueued("cart", "production"), d("checkout", "dev"),
		d("cart", "dev"), unqueued("checkout", "production"), d("auth", "staging"))
	tests := []struct {
		filter railyard.DeploymentFilter
		want   []*railyard.Deployment
	}{
		{railyard.DeploymentFilter{}, []*railyard.Deployment{d("auth", "staging"), d("cart", "dev"),
			unqueued("cart", "production"), d("checkout", "dev"), unqueued("checkout", "production"), d("checkout", "staging")}},
		{railyard.DeploymentFilter{Application: "checkout"}, []*railyard.Deployment{d("checkout", "dev"),
			unqueued("checkout", "production"), d("checkout", "staging")}},
		{railyard.DeploymentFilter{Environment: "dev"}, []*railyard.Deployment{d("cart", "dev"), d("checkout", "dev")}},
		{railyard.DeploymentFilter{Application: "cart", Environment: "production"}, []*railyard.Deployment{unqueued("cart", "production")}},
		{railyard.DeploymentFilter{Queued: true}, []*railyard.Deployment{d("auth", "staging"), d("cart", "dev"),
			d("checkout", "dev"), d("checkout", "staging")}},
		{railyard.DeploymentFilter{Environment: "production", Queued: true}, []*railyard.Deployment{}},
		{railyard.DeploymentFilter{Application: "checkout", Queued: true}, []*railyard.Deployment{d("checkout", "dev"), d("checkout", "staging")}},
		{railyard.DeploymentFilter{Application: "auth", Environment: "dev"}, []*railyard.Deployment{}},
		{railyard.DeploymentFilter{Application: "ghost"}, []*railyard.Deployment{}},
	}
	view(t, s, func(tx railyard.Tx) error {
		for _, tt := range tests {
			got, err := tx.FindDeployments(t.Context(), tt.filter)
			noError(t, "FindDeployments", err)
			equal(t, describe(tt.filter), got, tt.want)
		}
		return nil
	})
}

func testDeploymentDelete(t *testing.T, s railyard.Store) {
	putDeployments(t, s, fullDeployment("checkout", "production"), fullDeployment("checkout", "dev"))
	update(t, s, func(tx railyard.Tx) error { return tx.DeleteDeployment(t.Context(), "checkout", "production") })
	view(t, s, func(tx railyard.Tx) error {
		_, err := tx.FindDeployment(t.Context(), "checkout", "production")
		wantError(t, "FindDeployment after delete", err, railyard.ENOTFOUND, "")
		all, err := tx.FindDeployments(t.Context(), railyard.DeploymentFilter{})
		noError(t, "FindDeployments", err)
		equal(t, "FindDeployments after delete", all, []*railyard.Deployment{fullDeployment("checkout", "dev")})
		return nil
	})
}
