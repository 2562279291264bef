package http

import (
	nethttp "net/http"

	railyard "github.com/railyard-cd/railyard"
)

// handleOverview answers what runs where: every application in every
// environment, in one read of the store.
func (s *Server) handleOverview(w nethttp.ResponseWriter, r *nethttp.Request) error {
	ov, err := s.engine.Overview(r.Context())
	if err != nil {
		return err
	}
	ov.Environments = nonNil(ov.Environments)
	writeJSON(w, nethttp.StatusOK, ov)
	return nil
}

var overviewDoc = &operation{
	Tag:     "overview",
	Summary: "What runs where",
	Description: "Every application in every environment: the running and queued version and every unexpired lock that holds " +
		"the application back there (environment, application and team locks). Read in one store transaction.",
	Responses: []response{{200, "The overview.", railyard.Overview{}}},
}
