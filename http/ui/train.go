package ui

import (
	"net/http"
	"net/url"

	railyard "github.com/railyard-cd/railyard"
)

// handleTrain handles POST /ui/envs/{env}/train: run the release train
// whose prognosis the environment page showed, for every team or one.
func (h *Handler) handleTrain(w http.ResponseWriter, r *http.Request, p *page, actor railyard.Actor) error {
	env, team := r.PathValue("env"), r.PostForm.Get("team")
	next := "/envs/" + env
	if team != "" {
		next += "?team=" + url.QueryEscape(team)
	}
	res, err := h.engine.ApplyOne(r.Context(), actor, &railyard.ReleaseTrain{Environment: env, Team: team})
	switch railyard.ErrorCode(err) {
	case "":
		h.redirectResult(w, r, next+"#train", res, "Nothing changed.")
		return nil
	case railyard.EINVALID:
		h.redirectError(w, r, next+"#train", err)
		return nil
	}
	return err
}
