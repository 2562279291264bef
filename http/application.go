package http

import (
	nethttp "net/http"

	railyard "github.com/railyard-cd/railyard"
)

// applicationList is the body of GET /api/v1/applications.
type applicationList struct {
	Applications []*railyard.Application `json:"applications"`
}

func (s *Server) handleFindApplications(w nethttp.ResponseWriter, r *nethttp.Request) error {
	apps, err := s.engine.FindApplications(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, nethttp.StatusOK, applicationList{Applications: nonNil(apps)})
	return nil
}

func (s *Server) handleFindApplication(w nethttp.ResponseWriter, r *nethttp.Request) error {
	detail, err := s.engine.FindApplication(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	detail.Releases = nonNil(detail.Releases)
	writeJSON(w, nethttp.StatusOK, detail)
	return nil
}

func (s *Server) handleDeleteApplication(w nethttp.ResponseWriter, r *nethttp.Request) error {
	return s.apply(w, r, &railyard.DeleteApplication{Name: r.PathValue("app")})
}

var findApplicationsDoc = &operation{
	Tag:       "applications",
	Summary:   "List applications",
	Responses: []response{{200, "Every application, ordered by name.", applicationList{}}},
}

var findApplicationDoc = &operation{
	Tag:       "applications",
	Summary:   "Get an application",
	Responses: []response{{200, "The application, its releases (newest first, without manifests) and its state in every environment.", railyard.ApplicationDetail{}}},
	Errors:    []int{400, 404},
}

var deleteApplicationDoc = &operation{
	Tag:     "applications",
	Summary: "Delete an application",
	Description: "Deletes the application with its releases and locks. Refused (409) while any environment runs a version of it " +
		"that is not an undeploy release.",
	Responses: []response{{200, "Deleted.", railyard.Result{}}},
	Errors:    []int{400, 404, 409},
}
