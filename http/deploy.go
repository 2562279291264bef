package http

import (
	nethttp "net/http"

	railyard "github.com/railyard-cd/railyard"
)

// deployRequest is the body of a manual deploy; application and
// environment come from the path.
type deployRequest struct {
	Version      int64                 `json:"version"`
	LockBehavior railyard.LockBehavior `json:"lockBehavior,omitempty"`
}

// handleDeploy deploys a release by hand. A deploy blocked by locks with
// lockBehavior "fail" is answered 423 with the blockers.
func (s *Server) handleDeploy(w nethttp.ResponseWriter, r *nethttp.Request) error {
	var req deployRequest
	if err := s.decodeJSON(r, &req); err != nil {
		return err
	}
	return s.apply(w, r, &railyard.Deploy{
		Application:  r.PathValue("app"),
		Environment:  r.PathValue("env"),
		Version:      req.Version,
		LockBehavior: req.LockBehavior,
	})
}

var deployDoc = &operation{
	Tag:     "deployments",
	Summary: "Deploy a release by hand",
	Description: "Deploys version `version` of the application to the environment. `lockBehavior` says what happens when locks " +
		"block the deploy: `fail` (default) answers 423 with the blockers, `queue` queues the version (outcome `queued`), " +
		"`ignore` deploys anyway and records the overridden locks. Deploying the running version answers outcome `unchanged`.",
	Request:   deployRequest{},
	Responses: []response{{200, "Deployed, queued or unchanged.", railyard.Result{}}},
	Errors:    []int{400, 404, 413, 415, 423},
}
