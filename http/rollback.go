package http

import (
	nethttp "net/http"

	railyard "github.com/railyard-cd/railyard"
)

// rollbackRequest is the optional body of a rollback; application and
// environment come from the path. Version 0 (or absent) means the
// version that ran before the current one.
type rollbackRequest struct {
	Version      int64                 `json:"version,omitempty"`
	LockBehavior railyard.LockBehavior `json:"lockBehavior,omitempty"`
}

// handleRollback rolls an application back in an environment: a person's
// deployment, so locks and closed deploy windows follow lockBehavior as
// for a deploy (423 with the blockers for "fail").
func (s *Server) handleRollback(w nethttp.ResponseWriter, r *nethttp.Request) error {
	var req rollbackRequest
	if err := s.decodeOptionalJSON(r, &req); err != nil {
		return err
	}
	return s.apply(w, r, &railyard.Rollback{
		Application:  r.PathValue("app"),
		Environment:  r.PathValue("env"),
		Version:      req.Version,
		LockBehavior: req.LockBehavior,
	})
}

var rollbackDoc = &operation{
	Tag:     "deployments",
	Summary: "Roll back an application in an environment",
	Description: "Deploys, by hand, the version that ran in the environment before the current one (`version` absent or 0), or " +
		"`version`. \"Before\" is read from the deployment history replayed as a stack: rolling back twice goes back two " +
		"versions. It is a person's deploy: `lockBehavior` says what happens when locks or a closed deploy window block it " +
		"(`fail`, the default, answers 423 with the blockers; `queue`; `ignore`), and a `branchRestriction` that refuses the " +
		"release answers 400 naming `version`, whatever the lockBehavior. 400 naming `version` (or `environment`) when there is " +
		"nothing to roll back to; 404 when the application, the environment or the release does not exist. The body may be " +
		"empty; the Content-Type must be application/json.",
	Request:      rollbackRequest{},
	BodyOptional: true,
	Responses:    []response{{200, "Rolled back (outcome `deployed`), queued or unchanged.", railyard.Result{}}},
	Errors:       []int{400, 404, 413, 415, 423},
}
