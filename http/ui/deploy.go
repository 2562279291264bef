package ui

import (
	"net/http"

	railyard "github.com/railyard-cd/railyard"
)

// handleDeploy handles POST /ui/apps/{app}/deploy: deploy a release to an
// environment. Blocked by locks or windows (lockBehavior fail, the
// default), the application page shows the blockers with status 423 and
// offers "deploy anyway" (lockBehavior ignore) and "queue".
func (h *Handler) handleDeploy(w http.ResponseWriter, r *http.Request, p *page, actor railyard.Actor) error {
	app, env := r.PathValue("app"), r.PostForm.Get("env")
	next := "/apps/" + app + "#env-" + env
	version, err := railyard.ParseVersion(r.PostForm.Get("version"))
	if err != nil {
		return err
	}
	cmd := &railyard.Deploy{Application: app, Environment: env, Version: version, LockBehavior: lockBehaviorOf(r)}
	res, err := h.engine.ApplyOne(r.Context(), actor, cmd)
	return h.manualResult(w, r, p, "deploy", cmd.Application, env, version, next, res, err,
		"Nothing changed: "+app+" "+railyard.VersionLabel(version, "")+" already runs in "+env+".")
}

// manualResult answers a deploy or rollback: redirect with what happened,
// the blockers page if locks or windows refused it, the error page if the
// application or environment is gone.
func (h *Handler) manualResult(w http.ResponseWriter, r *http.Request, p *page, action, app, env string, version int64, next string, res *railyard.Result, err error, unchanged string) error {
	switch code := railyard.ErrorCode(err); code {
	case "":
		h.redirectResult(w, r, next, res, unchanged)
		return nil
	case railyard.ELOCKED:
		text := railyard.VersionLabel(version, "")
		if rel, ferr := h.engine.FindRelease(r.Context(), app, version); ferr == nil {
			text = railyard.VersionLabel(version, rel.DisplayVersion)
		}
		p.Status = http.StatusLocked
		return h.renderApplication(w, r, p, app, nil, newBlockedView(action, app, env, version, text, railyard.AsError(err)))
	case railyard.EINVALID, railyard.ECONFLICT:
		if _, ferr := h.engine.FindApplication(r.Context(), app); ferr != nil {
			return ferr // the application is gone: say so, not the detail
		}
		h.redirectError(w, r, next, err)
		return nil
	default:
		return err
	}
}
