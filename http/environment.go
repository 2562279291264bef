package http

import (
	nethttp "net/http"

	railyard "github.com/railyard-cd/railyard"
)

// environmentList is the body of GET /api/v1/environments.
type environmentList struct {
	Environments []*railyard.Environment `json:"environments"`
}

func (s *Server) handleFindEnvironments(w nethttp.ResponseWriter, r *nethttp.Request) error {
	envs, err := s.engine.FindEnvironments(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, nethttp.StatusOK, environmentList{Environments: nonNil(envs)})
	return nil
}

func (s *Server) handleFindEnvironment(w nethttp.ResponseWriter, r *nethttp.Request) error {
	env, err := s.engine.FindEnvironment(r.Context(), r.PathValue("env"))
	if err != nil {
		return err
	}
	writeJSON(w, nethttp.StatusOK, env)
	return nil
}

// handlePutEnvironment creates or replaces an environment: 201 when it
// was created, 200 when it was updated or already had this configuration.
func (s *Server) handlePutEnvironment(w nethttp.ResponseWriter, r *nethttp.Request) error {
	var cfg railyard.EnvironmentConfig
	if err := s.decodeJSON(r, &cfg); err != nil {
		return err
	}
	return s.apply(w, r, &railyard.PutEnvironment{Name: r.PathValue("env"), Config: cfg})
}

func (s *Server) handleDeleteEnvironment(w nethttp.ResponseWriter, r *nethttp.Request) error {
	return s.apply(w, r, &railyard.DeleteEnvironment{Name: r.PathValue("env")})
}

// nonNil returns an empty slice for nil, so lists are encoded as [] and
// clients never have to tell null from empty.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

var findEnvironmentsDoc = &operation{
	Tag:       "environments",
	Summary:   "List environments",
	Responses: []response{{200, "Every environment, in pipeline order (an environment after its upstream).", environmentList{}}},
}

var findEnvironmentDoc = &operation{
	Tag:       "environments",
	Summary:   "Get an environment",
	Responses: []response{{200, "The environment with its configuration.", railyard.Environment{}}},
	Errors:    []int{400, 404},
}

var putEnvironmentDoc = &operation{
	Tag:     "environments",
	Summary: "Create or update an environment",
	Description: "The body is the environment's configuration. Unknown fields are refused. " +
		"Answers 201 when the environment was created, 200 when it was updated or already had this configuration (outcome `unchanged`, no event).",
	Request: railyard.EnvironmentConfig{},
	Responses: []response{
		{201, "Created.", railyard.Result{}},
		{200, "Updated, or unchanged.", railyard.Result{}},
	},
	Errors: []int{400, 413, 415},
}

var deleteEnvironmentDoc = &operation{
	Tag:         "environments",
	Summary:     "Delete an environment",
	Description: "Deletes the environment with its locks and deployments. Refused (409) while another environment names it as upstream.",
	Responses:   []response{{200, "Deleted.", railyard.Result{}}},
	Errors:      []int{400, 404, 409},
}
