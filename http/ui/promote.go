package ui

import (
	"net/http"

	railyard "github.com/railyard-cd/railyard"
)

// handlePromote handles POST /ui/apps/{app}/promote: a release train of
// one application into the environment, taking its upstream's version.
// Automation, not a person's deploy: a blocked promotion is queued.
func (h *Handler) handlePromote(w http.ResponseWriter, r *http.Request, p *page, actor railyard.Actor) error {
	app, env := r.PathValue("app"), r.PostForm.Get("env")
	next := "/apps/" + app + "#env-" + env
	res, err := h.engine.ApplyOne(r.Context(), actor, &railyard.ReleaseTrain{Environment: env, Application: app})
	switch railyard.ErrorCode(err) {
	case "":
		h.redirectResult(w, r, next, res, "Nothing changed.")
		return nil
	case railyard.EINVALID:
		h.redirectError(w, r, next, err)
		return nil
	}
	return err
}
