package ui

import (
	"net/http"

	railyard "github.com/railyard-cd/railyard"
)

// handleRollback handles POST /ui/apps/{app}/rollback: deploy the version
// that ran in the environment before the current one (or the version
// given). Like a deploy, it may be blocked and done anyway.
func (h *Handler) handleRollback(w http.ResponseWriter, r *http.Request, p *page, actor railyard.Actor) error {
	app, env := r.PathValue("app"), r.PostForm.Get("env")
	next := "/apps/" + app + "#env-" + env
	// The version is optional: the environment card's button sends none.
	var version int64
	var err error
	if v := r.PostForm.Get("version"); v != "" {
		if version, err = railyard.ParseVersion(v); err != nil {
			return err
		}
	} else if version, err = h.engine.RollbackVersion(r.Context(), app, env); err != nil {
		// Resolved now, so that a blocked rollback confirmed later
		// deploys what the user was shown.
		if railyard.ErrorCode(err) == railyard.EINVALID {
			h.redirectError(w, r, next, err)
			return nil
		}
		return err
	}
	cmd := &railyard.Rollback{Application: app, Environment: env, Version: version, LockBehavior: lockBehaviorOf(r)}
	res, err := h.engine.ApplyOne(r.Context(), actor, cmd)
	return h.manualResult(w, r, p, "rollback", app, env, version, next, res, err, "Nothing changed: that version already runs.")
}
