package http

import (
	nethttp "net/http"

	railyard "github.com/railyard-cd/railyard"
)

// handleCreateRelease publishes a release: 201 when created, 200 when the
// same version was already published with identical content, 409 (with
// the differing field and a diff) when its content differs.
func (s *Server) handleCreateRelease(w nethttp.ResponseWriter, r *nethttp.Request) error {
	var cr railyard.CreateRelease
	if err := s.decodeJSON(r, &cr); err != nil {
		return err
	}
	app := r.PathValue("app")
	if cr.Application != "" && cr.Application != app {
		return fieldError("application", "application %q in the body differs from %q in the path; leave it out of the body", railyard.Truncate(cr.Application, 60), railyard.Truncate(app, 60))
	}
	cr.Application = app
	if err := s.checkManifestSizes(cr.Manifests); err != nil {
		return err
	}
	return s.apply(w, r, &cr)
}

// checkManifestSizes applies the server's manifest limit, which may be
// smaller than the engine's.
func (s *Server) checkManifestSizes(manifests map[string]string) error {
	for env, m := range manifests {
		if int64(len(m)) > s.opts.MaxManifestBytes {
			field := "manifests[" + env + "]"
			return railyard.Errorf(railyard.ETOOLARGE, "%s is %d bytes; at most %d are allowed", railyard.Truncate(field, 80), len(m), s.opts.MaxManifestBytes).WithField(field)
		}
	}
	return nil
}

func (s *Server) handleFindRelease(w nethttp.ResponseWriter, r *nethttp.Request) error {
	version, err := railyard.ParseVersion(r.PathValue("version"))
	if err != nil {
		return err
	}
	rel, err := s.engine.FindRelease(r.Context(), r.PathValue("app"), version)
	if err != nil {
		return err
	}
	writeJSON(w, nethttp.StatusOK, rel)
	return nil
}

var createReleaseDoc = &operation{
	Tag:     "releases",
	Summary: "Publish a release",
	Description: "The application comes from the path; `application` in the body may be left out and must match when given. " +
		"`version` 0 or absent means the application's highest version + 1. Every manifest must be valid YAML and at most " +
		"MaxManifestBytes (default 8 MiB) long, and every environment named in `manifests` must exist. The release is deployed " +
		"at once to every environment with `upstream.latest` that it has a manifest for (queued where locked).\n\n" +
		"Answers 201 when created; 200 with outcome `unchanged` when this version exists with identical content; " +
		"409 naming the first differing field (and a diff of the manifests) when it exists with different content.",
	Request: railyard.CreateRelease{},
	Responses: []response{
		{201, "Created.", railyard.Result{}},
		{200, "The identical release already exists (outcome `unchanged`).", railyard.Result{}},
	},
	Errors: []int{400, 409, 413, 415},
}

var findReleaseDoc = &operation{
	Tag:       "releases",
	Summary:   "Get a release with its manifests",
	Responses: []response{{200, "The release, with manifests.", railyard.Release{}}},
	Errors:    []int{400, 404},
}
