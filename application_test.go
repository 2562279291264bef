package railyard_test

import (
	"context"
	"testing"

	"github.com/railyard-cd/railyard"
)

func TestUndeployAndDeleteApplication(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development", "staging")
	h.fail(railyard.EINVALID, &railyard.CreateRelease{Application: "checkout", Undeploy: true, Manifests: map[string]string{"development": "a: b"}})
	err := h.fail(railyard.ECONFLICT, &railyard.DeleteApplication{Name: "checkout"})
	assertEqual(t, "message", err.Message, "checkout still runs version 1 in development: release an undeploy version and deploy it to every environment before deleting the application")
	res := h.must(&railyard.CreateRelease{Application: "checkout", Undeploy: true, Manifests: map[string]string{"development": "", "staging": ""}})
	assertEqual(t, "undeploy description", res.Event.Description, "Release undeploy version 2 of checkout, deploy to development")
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "staging", Application: "checkout", ID: "x"}, Message: "m"})
	res = h.must(&railyard.DeleteApplication{Name: "checkout"})
	assertEqual(t, "outcome", res.Outcome, railyard.OutcomeDeleted)
	h.fail(railyard.ENOTFOUND, &railyard.DeleteApplication{Name: "checkout"})
	locks, _ := h.eng.FindLocks(context.Background(), railyard.LockFilter{})
	assertEqual(t, "locks of the deleted application", len(locks), 0)
}
